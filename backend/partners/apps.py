from __future__ import annotations

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partner API"

    def ready(self) -> None:
        from turns.stores import store_register

        from common.api_errors import register_error_shape

        from .openai_format import error_object
        from .turn_store import CompletionStore

        # turns settles, cancels and reaps completions through it, importing nothing of partners.
        store_register(CompletionStore())

        # Errors Django renders itself under /v1/ (a 404, a 405, a 500) come out in OpenAI's shape too.
        register_error_shape(
            "/v1/",
            lambda status, code, message, param: error_object(status=status, message=message, code=code, param=param),
        )
