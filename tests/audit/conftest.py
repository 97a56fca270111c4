"""Helpers for the audit log tests: clients from a given address, and the events recorded since a mark."""

from __future__ import annotations

import json

import pytest
from django.db.models import Max
from django.test import Client


def client_for(world, key: str, address: str = "10.0.0.7") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.force_login(world.users[key])
    return client


class Since:
    """The events appended after the moment the fixture was made."""

    def __init__(self) -> None:
        self.mark = 0
        self.reset()

    def reset(self) -> None:
        from samverkan.audit.models import AuditEvent

        self.mark = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0

    def all(self, action: str | None = None) -> list:
        from samverkan.audit.models import AuditEvent

        qs = AuditEvent.objects.filter(seq__gt=self.mark).order_by("seq")
        return list(qs.filter(action=action) if action else qs)

    def one(self, action: str):
        events = self.all(action)
        assert len(events) == 1, [(e.action, e.details) for e in self.all()]
        return events[0]


@pytest.fixture
def since(world) -> Since:
    return Since()


def as_text(event) -> str:
    """Everything an event stores, as one string, to check what it must never hold."""
    return json.dumps(event.export_row(), ensure_ascii=False)
