"""The load test's side of the database, run inside Django by ``bench.load.run`` as a subprocess.

``prepare`` adds the load users to the demo's Ystads kommun and prints, as JSON, what the simulated users need:
log-ins, the municipality, areas, focus areas and places inside Ystad for new reports. ``count`` reads the
submission keys the load client sent (a JSON list on stdin) and prints how many reports the database holds for each,
so the caller can tell lost from duplicated reports, and the days whose pre-aggregated counts miss or double one.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys

PREFIX = "load-"
READER_ROLES = ("samordnare", "lasare")


def prepare(*, reporters: int, readers: int, places: int) -> dict[str, object]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from samverkan.accounts.models import Membership, Organisation, Role, User
    from samverkan.core.demo.load import YSTADS_KOMMUN
    from samverkan.incidents.models import FocusArea, Incident
    from samverkan.places.models import Area, Municipality

    ystad = Municipality.objects.get(code="1286")
    kommun = Organisation.objects.get(name=YSTADS_KOMMUN)
    password = secrets.token_urlsafe(18)
    # One hash for everyone: hashing is deliberately slow (~0.3 s) and would dominate the set-up otherwise.
    password_hash = make_password(password)
    names = {
        Role.RAPPORTOR: [f"{PREFIX}rapportor-{i:03d}" for i in range(1, reporters + 1)],
        Role.SAMORDNARE: [f"{PREFIX}samordnare-{i:03d}" for i in range(1, readers + 1, 2)],
        Role.LASARE: [f"{PREFIX}lasare-{i:03d}" for i in range(2, readers + 1, 2)],
    }
    with transaction.atomic():
        for role, usernames in names.items():
            users = User.objects.bulk_create([User(username=u, password=password_hash) for u in usernames])
            Membership.objects.bulk_create([Membership(user=u, organisation=kommun, role=role) for u in users])
    # Places of earlier reports in Ystad lie inside the outline, which the report form checks.
    points = list(
        Incident.objects.filter(municipality=ystad, precision="exact").order_by("?").values_list("lat", "lon")[:places]
    )
    if not points:
        raise SystemExit("no reports with an exact place in Ystad to take places from: load the demo first")
    return {
        "password": password,
        "reporters": names[Role.RAPPORTOR],
        "readers": names[Role.SAMORDNARE] + names[Role.LASARE],
        "municipality": {"id": ystad.pk, "code": ystad.code},
        "areas": list(Area.objects.current().filter(municipality=ystad).values_list("pk", flat=True)),
        "focus_areas": list(FocusArea.objects.filter(active=True).values("pk", "code")),
        "places": points,
    }


def count(keys: list[str]) -> dict[str, object]:
    from django.db.models import Count

    from samverkan.incidents.models import Incident

    load_reports = Incident.objects.filter(reporter__username__startswith=PREFIX)
    stored = dict(
        load_reports.filter(submission_key__isnull=False)
        .values_list("submission_key")
        .annotate(n=Count("id"))
        .values_list("submission_key", "n")
    )
    stored = {str(k): n for k, n in stored.items()}
    return {
        "daily_counts_off": daily_counts_off(load_reports),
        "stored_total": load_reports.count(),
        "stored_without_key": load_reports.filter(submission_key__isnull=True).count(),
        "per_key": {key: stored.get(key, 0) for key in keys},
        "unexpected_keys": sorted(set(stored) - set(keys)),
    }


def daily_counts_off(reports) -> list[dict[str, object]]:
    """The days with load reports whose pre-aggregated count (dashboard, baselines) differs from the reports."""
    from django.db.models import Sum
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from samverkan.incidents.models import Incident
    from samverkan.situation.models import DailyCount

    local_day = TruncDate("occurred_from", tzinfo=timezone.get_default_timezone())
    off = []
    for municipality_id, day in sorted(set(reports.annotate(day=local_day).values_list("municipality_id", "day"))):
        stored = Incident.objects.filter(municipality_id=municipality_id).annotate(day=local_day).filter(day=day)
        counted = DailyCount.objects.filter(municipality_id=municipality_id, day=day, area__isnull=True)
        reports_n, counted_n = stored.count(), counted.aggregate(n=Sum("count"))["n"] or 0
        if reports_n != counted_n:
            off.append(
                {"municipality": municipality_id, "day": day.isoformat(), "reports": reports_n, "counted": counted_n}
            )
    return off


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--reporters", type=int, required=True)
    p.add_argument("--readers", type=int, required=True)
    p.add_argument("--places", type=int, default=500)
    sub.add_parser("count")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if args.command == "prepare":
        result = prepare(reporters=args.reporters, readers=args.readers, places=args.places)
    else:
        result = count(json.load(sys.stdin))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
