"""What an account's end means to the other apps: they connect here (turns.apps), so accounts imports none of them.

Both are sent inside the account's transaction; a receiver defers its side effects with
transaction.on_commit, so a rolled-back deletion or suspension stops nothing.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=User, user=the account, just before its row is deleted (the cascade takes its data).
account_deleting = Signal()
# sender=User, user=the account, once it is marked suspended.
account_suspended = Signal()
