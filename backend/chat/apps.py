from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from turns.consumers import socket_sender_set
        from turns.stores import store_register

        from accounts.hooks import ExportSection, export_section_register, usage_reader_set

        from . import account_data, socket_sends
        from .turn_store import AnswerStore

        # accounts exports and shows the user's chat data through these, importing nothing of chat.
        export_section_register(
            ExportSection(
                "conversations",
                account_data.user_conversations,
                lambda: account_data.DataExportConversationSerializer(many=True),
            )
        )
        export_section_register(
            ExportSection(
                "share_links",
                account_data.user_share_links,
                lambda: account_data.DataExportShareLinkSerializer(many=True),
            )
        )
        usage_reader_set(account_data.user_usage)

        # turns settles, cancels and reaps the app's answers through it, importing nothing of chat.
        store_register(AnswerStore())
        # The user's socket (turns/consumers.py) runs the app's sends through it.
        socket_sender_set(socket_sends.FRAME_TYPES, socket_sends.socket_send)
