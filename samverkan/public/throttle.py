"""A fixed-window rate limit per client address, kept in Django's cache.

One cache ``add`` and one ``incr`` a request and no database, so a flood is refused for next to nothing and the
site stays quick for everyone else. A fixed window lets a client send up to twice the limit across a window's
edge; that is fine for turning floods into refusals.

The client's address and the ``"REQUESTS/SECONDS"`` settings are read as the Open311 endpoint reads them, so a
proxy set up for one (``SAMVERKAN_CLIENT_IP_HEADER``) works for both. The limit holds across server processes only
when they share a cache (e.g. Redis); with Django's default local-memory cache each process counts on its own.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

from samverkan.imports.open311 import _client_address as client_address
from samverkan.imports.open311 import _rate as rate

__all__ = ["client_address", "rate", "retry_after"]


def retry_after(request: HttpRequest, *, scope: str, setting: str, default: str) -> int | None:
    """Count this request against ``scope``'s limit for its client address; the seconds to wait when over it.

    ``setting`` names the ``"REQUESTS/SECONDS"`` setting (``default`` when unset). Returns None while within the
    limit.
    """
    limit, window = rate(setting, default)
    now = int(time.time())
    # Hashed: cache keys then have a safe length and alphabet whatever a proxy header holds, and a cache dump
    # lists no addresses.
    address = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
    key = f"throttle:{scope}:{address}:{window}:{now // window}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    return window - now % window if count > limit else None
