"""WhiteNoise that stays on the event loop for requests that are not static files.

WhiteNoise's middleware is synchronous only, so under ASGI Django would run every request's
outer middleware in a thread and hop back to the loop for the inner ones: two extra waits on a
loop that is also serving every open stream. Here a miss (every API request) costs a dictionary
lookup on the loop; a hit is served from a thread as before.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware

from .middleware import SyncAndAsyncMiddleware


class AsyncWhiteNoiseMiddleware(SyncAndAsyncMiddleware, WhiteNoiseMiddleware):
    def __init__(self, get_response: Any = None) -> None:
        WhiteNoiseMiddleware.__init__(self, get_response)
        self._set_mode(get_response)

    def _call(self, request: HttpRequest) -> Any:
        return WhiteNoiseMiddleware.__call__(self, request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:  # development: looks on disk for every request
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)  # type: ignore[no-any-return]
        return await self.get_response(request)  # type: ignore[no-any-return]
