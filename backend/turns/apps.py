from __future__ import annotations

from django.apps import AppConfig


class TurnsConfig(AppConfig):
    name = "turns"
    verbose_name = "Chat turns"

    def ready(self) -> None:
        # Lower layers call up into turns through these hooks, so they import nothing of it.
        from accounts.models import User
        from accounts.signals import account_deleting, account_suspended
        from common.metrics import state_collector_register
        from ratelimits.admission import position_publisher_set
        from ratelimits.services import ended_turns_reader_set

        from . import receivers
        from .metrics import TurnStateCollector
        from .streams import ended_turn_ids, queue_position_publish

        state_collector_register("turns", TurnStateCollector())
        position_publisher_set(queue_position_publish)
        ended_turns_reader_set(ended_turn_ids)
        account_deleting.connect(receivers.account_deleting, sender=User, dispatch_uid="turns-account-deleting")
        account_suspended.connect(receivers.account_suspended, sender=User, dispatch_uid="turns-account-suspended")
