"""/api/v1: crawlfleet's own REST API (reference: /api/v1/docs, /api/v1/redoc, /api/v1/openapi.json).

The controller app mounts it with `*api_v1.routes`; the app's lifespan builds its context
(`context.build`, on `app.state.api_v1`) and runs its Housekeeper thread (controller.app).
"""

from __future__ import annotations

import re

from starlette.routing import Mount

from . import accounts, crawls, data, docs, hooks, monitoring, settings
from .asgi import ApiV1

__all__ = ["ENDPOINTS", "app", "routes"]



class _Mount(Mount):
    """A Mount whose path also matches paths holding a newline (%0A), so that every request
    under /api/v1 gets /api/v1's JSON errors, never the bare router's text 404."""

    def __init__(self, path: str, app: ApiV1) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


ENDPOINTS = [*accounts.routes, *crawls.routes, *data.routes, *monitoring.routes, *hooks.routes,
             *settings.routes, *docs.routes]
app = ApiV1(ENDPOINTS)
routes = [_Mount("/api/v1", app=app)]
