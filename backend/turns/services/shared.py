"""What the turn services share: the id type and the statuses of a turn still running."""

from __future__ import annotations

import uuid

from chat.models import Message

Id = uuid.UUID | str
ACTIVE_STATUSES = (Message.Status.QUEUED, Message.Status.STREAMING)
