from __future__ import annotations

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from turns.stores import store_register

        from .turn_store import AnswerStore

        # turns settles, cancels and reaps the app's answers through it, importing nothing of chat.
        store_register(AnswerStore())
