"""URL routes for conversations, share links and messages (included under /api/v1/)."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from . import api, send_api

urlpatterns: list[URLPattern] = [
    path("conversations", api.ConversationListCreateApi.as_view(), name="conversation-list"),
    path("conversations/<uuid:conversation_id>", api.ConversationDetailApi.as_view(), name="conversation-detail"),
    path(
        "conversations/<uuid:conversation_id>/export",
        api.ConversationExportApi.as_view(),
        name="conversation-export",
    ),
    path("conversations/<uuid:conversation_id>/share", api.ConversationShareApi.as_view(), name="conversation-share"),
    path("shares", api.ShareLinkListApi.as_view(), name="share-list"),
    path("shares/<uuid:share_link_id>", api.ShareLinkDetailApi.as_view(), name="share-detail"),
    # Tokens come from secrets.token_urlsafe: anything else cannot be one.
    re_path(r"^shared/(?P<token>[A-Za-z0-9_-]{1,64})$", api.SharedConversationApi.as_view(), name="shared"),
    path("messages/<uuid:message_id>", api.MessageDetailApi.as_view(), name="message-detail"),
    # The app's sends (chat/sends.py) and the stop button; a turn's stream is turns' (turns/urls.py).
    path("messages", send_api.FirstMessageView.as_view(), name="messages-send-first"),
    path("conversations/<uuid:conversation_id>/messages", send_api.SendMessageView.as_view(), name="messages-send"),
    path("messages/<uuid:message_id>/regenerate", send_api.RegenerateView.as_view(), name="messages-regenerate"),
    path("turns/<uuid:turn_id>/cancel", send_api.CancelView.as_view(), name="turns-cancel"),
]
