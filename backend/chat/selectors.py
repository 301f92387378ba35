"""Reads for conversations, the message tree (branches and siblings) and share links."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, prefetch_related_objects

from accounts.models import User
from common.errors import NotFound

from .models import Conversation, Message, ShareLink

GENERATING_STATUSES = (Message.Status.QUEUED, Message.Status.STREAMING)
# Postgres text search configuration for ?q= (stemming, so "running" finds "run").
SEARCH_CONFIG = "english"
SHARE_TOKEN_MAX_LENGTH = 64


# --- Conversations -------------------------------------------------------------------------


def _conversations_of(user: User) -> QuerySet[Conversation]:
    generating = Message.objects.filter(conversation=OuterRef("pk"), turn__status__in=GENERATING_STATUSES)
    return Conversation.objects.filter(user=user).annotate(is_generating=Exists(generating))


def conversation_list(
    *, user: User, archived: bool = False, pinned: bool | None = None, q: str = ""
) -> QuerySet[Conversation]:
    """The user's conversations, newest updated first; each carries `is_generating`.

    Archived ones are hidden unless `archived` is true (then only archived ones are listed).
    `q` matches titles and message text.
    """
    conversations = _conversations_of(user).filter(archived_at__isnull=not archived)
    if pinned is not None:
        conversations = conversations.filter(pinned_at__isnull=not pinned)
    q = q.strip()
    if q:
        conversations = conversations.filter(_search_filter(q))
    return conversations.order_by("-updated_at", "-id")


def _search_filter(q: str) -> Q:
    if settings.DATABASE_IS_POSTGRES:
        query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
        text_matches = Message.objects.annotate(text_vector=SearchVector("content", config=SEARCH_CONFIG)).filter(
            conversation=OuterRef("pk"), text_vector=query
        )
        title_matches = Conversation.objects.annotate(search=SearchVector("title", config=SEARCH_CONFIG)).filter(
            pk=OuterRef("pk"), search=query
        )
        # The title's icontains keeps short prefixes ("pyth") matching as the user types.
        return Q(title__icontains=q) | Q(Exists(title_matches)) | Q(Exists(text_matches))
    contains = Message.objects.filter(conversation=OuterRef("pk"), content__icontains=q)
    return Q(title__icontains=q) | Q(Exists(contains))


def conversation_get(*, user: User, conversation_id: uuid.UUID | str) -> Conversation:
    """The user's conversation (with `is_generating`), or NotFound: another user's is a 404 too."""
    try:
        return _conversations_of(user).get(pk=conversation_id)
    except (Conversation.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        # ValidationError/ValueError: a malformed id, which is simply not found.
        raise NotFound("Conversation not found.") from exc


# --- The message tree ----------------------------------------------------------------------


@dataclass
class MessageTree:
    """Every message of one conversation, indexed by id and by parent (children oldest first)."""

    by_id: dict[uuid.UUID, Message] = field(default_factory=dict)
    children: dict[uuid.UUID | None, list[Message]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, messages: Iterable[Message]) -> MessageTree:
        tree = cls()
        for message in messages:  # already ordered by (created_at, id)
            tree.by_id[message.id] = message
            tree.children[message.parent_id].append(message)
        return tree

    def siblings(self, message: Message) -> list[Message]:
        return self.children.get(message.parent_id, [])

    def branch_to(self, leaf: Message) -> list[Message]:
        """Root to `leaf`, following parent pointers."""
        branch: list[Message] = []
        current: Message | None = self.by_id.get(leaf.id, leaf)
        seen: set[uuid.UUID] = set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            branch.append(current)
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        branch.reverse()
        return branch

    def newest_leaf_under(self, message: Message) -> Message:
        """The deepest descendant reached by taking the newest child at every level."""
        current = message
        seen = {current.id}
        while kids := self.children.get(current.id):
            current = kids[-1]
            if current.id in seen:  # defensive: a cycle would loop forever
                break
            seen.add(current.id)
        return current

    def default_leaf(self) -> Message | None:
        """The leaf to show when the conversation has no current message: the newest root's newest branch."""
        roots = self.children.get(None)
        return self.newest_leaf_under(roots[-1]) if roots else None


def message_tree(*, conversation: Conversation, for_prompt: bool = False) -> MessageTree:
    """Every message of the conversation in one query. `for_prompt` (a send) leaves out the answers' reasoning,
    which the model is never sent back and which is most of a long conversation's text."""
    attached = Message.attachments.through.objects.filter(message_id=OuterRef("pk"))
    messages = (
        Message.objects.filter(conversation=conversation).select_related("turn").annotate(has_files=Exists(attached))
    )
    if for_prompt:
        messages = messages.defer("reasoning_content")
    return MessageTree.build(messages.order_by("created_at", "id"))


def message_branch(*, conversation: Conversation, leaf: Message | None = None) -> list[Message]:
    """The branch root→leaf; `leaf` defaults to the conversation's current message.

    One query. Raises NotFound if `leaf` is not a message of this conversation.
    """
    tree = message_tree(conversation=conversation)
    return _branch(tree=tree, conversation=conversation, leaf=leaf)


def _branch(*, tree: MessageTree, conversation: Conversation, leaf: Message | None) -> list[Message]:
    if leaf is not None:
        if leaf.id not in tree.by_id:
            raise NotFound("Message not found.")
        return tree.branch_to(tree.by_id[leaf.id])
    current = tree.by_id.get(conversation.current_message_id) if conversation.current_message_id else None
    current = current or tree.default_leaf()
    return tree.branch_to(current) if current else []


@dataclass
class Thread:
    """What a client shows for one conversation: the current branch and each message's siblings."""

    conversation: Conversation
    messages: list[Message]
    sibling_ids: dict[uuid.UUID, list[uuid.UUID]]


def conversation_thread(*, conversation: Conversation) -> Thread:
    """The current branch, root first, with sibling ids for each message (one query; one more for files)."""
    tree = message_tree(conversation=conversation)
    messages = _branch(tree=tree, conversation=conversation, leaf=None)
    with_files = [message for message in messages if getattr(message, "has_files", False)]
    prefetch_related_objects(with_files, "attachments")  # no query when no question has files
    for message in messages:
        if message not in with_files:
            message.attached_files = []  # type: ignore[attr-defined]
    sibling_ids = {message.id: [sibling.id for sibling in tree.siblings(message)] for message in messages}
    return Thread(conversation=conversation, messages=messages, sibling_ids=sibling_ids)


def running_answer_ids(*, conversation: Conversation) -> list[uuid.UUID]:
    """The conversation's answers still queued or being generated."""
    return list(
        Message.objects.filter(
            conversation=conversation, role=Message.Role.ASSISTANT, turn__status__in=Message.ACTIVE_STATUSES
        ).values_list("id", flat=True)
    )


def message_get(*, user: User, message_id: uuid.UUID | str) -> Message:
    """A message of one of the user's conversations (with its conversation), or NotFound."""
    try:
        return Message.objects.select_related("conversation", "turn").get(pk=message_id, conversation__user=user)
    except (Message.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFound("Message not found.") from exc


def message_sibling_ids(*, message: Message) -> list[uuid.UUID]:
    """Ids of the messages sharing this one's parent (or all roots), oldest first, itself included."""
    siblings = Message.objects.filter(conversation_id=message.conversation_id, parent_id=message.parent_id)
    return list(siblings.order_by("created_at", "id").values_list("id", flat=True))


def conversation_messages(*, conversation: Conversation) -> list[Message]:
    """Every message of every branch, oldest first (for exports)."""
    return list(
        Message.objects.filter(conversation=conversation)
        .select_related("turn")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


# --- Share links ---------------------------------------------------------------------------


def share_link_list(*, user: User) -> QuerySet[ShareLink]:
    """The user's live (not revoked) share links, newest first."""
    return ShareLink.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")


def share_link_get(*, user: User, share_link_id: uuid.UUID | str) -> ShareLink:
    try:
        return ShareLink.objects.get(pk=share_link_id, user=user, revoked_at__isnull=True)
    except (ShareLink.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFound("Share link not found.") from exc


def share_link_get_public(*, token: str) -> ShareLink:
    """A live share link by its token, for anyone; revoked or unknown is NotFound."""
    if not token or len(token) > SHARE_TOKEN_MAX_LENGTH or "\x00" in token:
        raise NotFound("Share link not found.")
    try:
        return ShareLink.objects.get(token=token, revoked_at__isnull=True)
    except ShareLink.DoesNotExist as exc:
        raise NotFound("Share link not found.") from exc
