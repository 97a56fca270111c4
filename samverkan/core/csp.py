"""Content-Security-Policy for the standalone documents.

The situational-picture and follow-up documents are single self-contained HTML files (the same file is printed to
PDF), so their CSS sits in ``<style>`` elements. Rather than allow inline styles everywhere, each such response
allows exactly its own style blocks by their SHA-256 hashes (CSP Level 2); scripts stay forbidden.
"""

from __future__ import annotations

import base64
import hashlib
import re

from django.http import HttpResponse

_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def style_hashes(html: str) -> list[str]:
    """The CSP source expressions (``'sha256-…'``) of every ``<style>`` element's content in ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _STYLE.findall(html)
    ]


def document_response(html: str) -> HttpResponse:
    """``html`` as a response whose policy allows its own inline style blocks and nothing else inline."""
    response = HttpResponse(html)
    hashes = style_hashes(html)
    if hashes:
        response._csp_update = {"style-src": hashes}  # type: ignore[attr-defined]
    return response
