"""The health endpoint for monitoring and the load balancer."""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

# Once this process has seen every migration applied, that stays true until the next deploy restarts it; reading the
# migration graph from disk on every probe would make the monitor's most frequent request one of the slowest.
_migrations_applied = False


def _migrations_state(connection) -> str:
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        log.exception("health: migrations could not be read", extra={"event": "health_failed"})
        return "unknown"
    _migrations_applied = not plan
    return "pending" if plan else "ok"


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """``{"status": "ok", "database": "ok", "migrations": "ok"}`` with 200, or 503 naming what is wrong.

    Open to anyone and free of data: it says only whether the service can answer.
    """
    checks: dict[str, str] = {}
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:
        log.exception("health: the database does not answer", extra={"event": "health_failed"})
        checks["database"] = "unavailable"
    if checks["database"] == "ok":
        checks["migrations"] = _migrations_state(connection)
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)
