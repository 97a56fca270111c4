"""A fixed-window rate limit per client address, kept in Django's cache.

One cache ``add`` and one ``incr`` a request and no database, so a flood is refused for next to nothing and the
site stays quick for everyone else. A fixed window lets a client send up to twice the limit across a window's
edge; that is fine for turning floods into refusals.

Used by the Open311 endpoint and the public report form, so a proxy set up once (``SAMVERKAN_CLIENT_IP_HEADER``)
works for both. The limit holds across server processes only
when they share a cache (e.g. Redis); with Django's default local-memory cache each process counts on its own.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


def rate(name: str, default: str) -> tuple[int, int]:
    """``(requests, seconds)`` from a ``"REQUESTS/SECONDS"`` setting (``default`` when unset)."""
    value = getattr(settings, name, None) or default
    try:
        limit, seconds = (int(part) for part in str(value).split("/"))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be 'REQUESTS/SECONDS', e.g. {default!r} (got {value!r})") from None
    if limit < 1 or seconds < 1:
        raise ImproperlyConfigured(f"{name} must be 'REQUESTS/SECONDS' with both above 0 (got {value!r})")
    return limit, seconds


def client_address(request: HttpRequest) -> str:
    # Behind a reverse proxy every client shares the proxy's address; SAMVERKAN_CLIENT_IP_HEADER names the META key
    # (e.g. "HTTP_X_FORWARDED_FOR") the proxy sets, whose last entry is the one the proxy itself added.
    header = getattr(settings, "SAMVERKAN_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    return value.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "")


def retry_after(
    request: HttpRequest, *, scope: str, setting: str, default: str, identity: str | None = None
) -> int | None:
    """Count this request against ``scope``'s limit for its client; the seconds to wait when over it.

    The client is ``identity`` when given (e.g. a logged-in user, so colleagues behind one office address do not
    share a limit), else the client address. ``setting`` names the ``"REQUESTS/SECONDS"`` setting (``default`` when
    unset). Returns None while within the limit.
    """
    limit, window = rate(setting, default)
    now = int(time.time())
    # Hashed: cache keys then have a safe length and alphabet whatever a proxy header holds, and a cache dump
    # lists no addresses.
    address = hashlib.sha256((identity or client_address(request)).encode()).hexdigest()[:32]
    key = f"throttle:{scope}:{address}:{window}:{now // window}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return window - now % window if count > limit else None
