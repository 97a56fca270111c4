"""Loading the Ystad demo: municipalities with outlines, organisations, users, areas and synthetic reports.

Idempotent: what exists is left alone, so a second run changes nothing; ``reset`` deletes the synthetic reports
(source "demo") and loads them again.
"""

from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.db import models, transaction

from samverkan.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from samverkan.core.demo import geography, synth
from samverkan.incidents.models import Category, Incident, Source
from samverkan.incidents.screening import screen
from samverkan.places.geo import to_sweref
from samverkan.places.models import Area, Municipality
from samverkan.places.selectors import area_ids_containing
from samverkan.places.services import area_create
from samverkan.plan.demo import demo_agreement_load
from samverkan.situation.services import daily_counts_rebuild

DEMO_PASSWORD = "samverkan-demo"
DEFAULT_SEED = 2023
DEFAULT_INCIDENTS = 33_000
AREAS_VALID_FROM = dt.date(2020, 1, 1)
BATCH_SIZE = 2000

YSTADS_KOMMUN = "Ystads kommun"
LPO_YSTAD = "Lokalpolisområde Ystad"
YSTADBOSTADER = "Ystadbostäder"
# name, kind, SCB codes of the kommuner covered
ORGANISATIONS = (
    (YSTADS_KOMMUN, OrganisationKind.KOMMUN, ("1286",)),
    (LPO_YSTAD, OrganisationKind.POLIS, ("1286", "1291", "1265", "1264", "1270")),
    (YSTADBOSTADER, OrganisationKind.BOSTADSBOLAG, ("1286",)),
)
# user name, organisation, role
USERS = (
    ("admin", YSTADS_KOMMUN, Role.ADMIN),
    ("samordnare", YSTADS_KOMMUN, Role.SAMORDNARE),
    ("kommunpolis", LPO_YSTAD, Role.ANALYTIKER),
    ("rapportor", YSTADS_KOMMUN, Role.RAPPORTOR),
    ("vardar", YSTADBOSTADER, Role.RAPPORTOR),
    ("styrgrupp", YSTADS_KOMMUN, Role.LASARE),
)
# Which organisation stands behind each kind of synthetic reporter, and who reviews its reports.
ORGANISATION_OF = {"kommun": YSTADS_KOMMUN, "bostadsbolag": YSTADBOSTADER, "polis": LPO_YSTAD}
REVIEWER_OF = {"kommun": "samordnare", "bostadsbolag": "samordnare", "polis": "kommunpolis"}
REVIEW_DELAY = dt.timedelta(days=1)


@dataclass
class Changes:
    created: collections.Counter[str] = field(default_factory=collections.Counter)
    deleted: int = 0
    notes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.deleted > 0 or any(self.created.values())


def demo_load(*, start: dt.date, end: dt.date, seed: int, incidents: int, reset: bool) -> Changes:
    """Create what of the demo is missing, in one transaction; with ``reset`` regenerate the demo reports."""
    changes = Changes()
    with transaction.atomic():
        municipalities = _ensure_municipalities(changes)
        organisations = _ensure_organisations(municipalities, changes)
        users = _ensure_users(organisations, changes)
        _ensure_areas(municipalities["1286"], changes)
        existing = Incident.objects.filter(source=Source.DEMO)
        if reset:
            changes.deleted = _delete_demo_incidents()
            changes.notes.append(f"Deleted {changes.deleted} demo reports.")
        elif existing.exists():
            changes.notes.append(
                f"{existing.count()} demo reports are already loaded; use --reset to generate them again."
            )
        if reset or not existing.exists():
            count, assigned = _load_incidents(
                start=start,
                end=end,
                seed=seed,
                n=incidents,
                municipalities=municipalities,
                organisations=organisations,
                users=users,
            )
            changes.created["reports"] += count
            changes.created["report–area links"] += assigned
        if reset or changes.created["reports"]:
            daily_counts_rebuild(municipality_ids=[m.pk for m in municipalities.values()])
        # The agreement's report-based baselines are counted from the demo reports, so it comes last.
        changes.created["agreements"] += demo_agreement_load(municipalities=municipalities, organisations=organisations)
    return changes


def _ensure_municipalities(changes: Changes) -> dict[str, Municipality]:
    result = {}
    for kommun in geography.KOMMUNER:
        municipality, created = Municipality.objects.get_or_create(
            code=kommun.code,
            defaults={
                "name": kommun.name,
                "county": geography.COUNTY,
                "geometry": kommun.geojson(),
                "geometry_approximate": True,
            },
        )
        if created:
            changes.created["municipalities"] += 1
        elif not municipality.geometry:
            # Reports are placed inside the outline, so one is needed; an existing outline is kept.
            municipality.geometry = kommun.geojson()
            municipality.geometry_approximate = True
            municipality.save(update_fields=["geometry", "geometry_approximate"])
            changes.created["municipality outlines"] += 1
        result[kommun.code] = municipality
    return result


def _ensure_organisations(municipalities: dict[str, Municipality], changes: Changes) -> dict[str, Organisation]:
    result = {}
    for name, kind, codes in ORGANISATIONS:
        organisation, created = Organisation.objects.get_or_create(name=name, defaults={"kind": kind})
        changes.created["organisations"] += created
        covered = set(organisation.municipalities.values_list("code", flat=True))
        missing = [municipalities[c] for c in codes if c not in covered]
        if missing:
            organisation.municipalities.add(*missing)
            changes.created["municipalities covered"] += len(missing)
        result[name] = organisation
    return result


def _ensure_users(organisations: dict[str, Organisation], changes: Changes) -> dict[str, User]:
    result = {}
    for username, organisation, role in USERS:
        is_admin = role == Role.ADMIN
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": is_admin, "is_superuser": is_admin}
        )
        if created:
            # Straight to the hasher: the demo password is meant to be known, so the validators do not apply.
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            changes.created["users"] += 1
        _, created = Membership.objects.get_or_create(
            user=user, organisation=organisations[organisation], defaults={"role": role}
        )
        changes.created["memberships"] += created
        result[username] = user
    return result


def _ensure_areas(ystad: Municipality, changes: Changes) -> None:
    existing = set(Area.objects.filter(municipality=ystad).current().values_list("code", flat=True))
    for area in geography.YSTAD_AREAS:
        if area.code in existing:
            continue
        area_create(
            municipality=ystad,
            kind=area.kind,
            name=area.name,
            code=area.code,
            geometry=area.geojson(),
            valid_from=AREAS_VALID_FROM,
            approximate=True,
            source=geography.AREA_SOURCE,
        )
        changes.created["areas"] += 1


def _delete_demo_incidents() -> int:
    demo = Incident.objects.filter(source=Source.DEMO)
    count = demo.count()
    # Links to areas first, in one statement, instead of letting the collector fetch every report's links.
    Incident.areas.through.objects.filter(incident__source=Source.DEMO).delete()
    demo.delete()
    return count


def _load_incidents(
    *,
    start: dt.date,
    end: dt.date,
    seed: int,
    n: int,
    municipalities: dict[str, Municipality],
    organisations: dict[str, Organisation],
    users: dict[str, User],
) -> tuple[int, int]:
    """Generate ``n`` reports, write them in batches and link them to the areas they lie in."""
    data = synth.generate(start, end, rng=seed, n_target=n)
    categories = {
        c.code: c for c in Category.objects.filter(municipality__isnull=True).usable_on(end - dt.timedelta(days=1))
    }
    missing = sorted(set(synth.CATEGORY_CODES) - set(categories))
    if missing:
        raise ValueError(f"the default categories {', '.join(missing)} are missing or inactive; run migrate first")
    x, y = to_sweref(data.lon, data.lat)
    occurred = synth.local_datetimes(data.occurred)
    period_end = synth.local_datetimes(np.asarray([np.datetime64(end, "m")]))[0]
    by_code = {code: m.pk for code, m in municipalities.items()}

    incidents = []
    for i in range(len(data)):
        description = data.description[i]
        kind = str(data.organisation[i])
        occurred_from = occurred[i]
        window = int(data.window_minutes[i])
        occurred_to = occurred_from + dt.timedelta(minutes=window) if window else None
        reported_at = (occurred_to or occurred_from) + dt.timedelta(minutes=int(data.report_delay_minutes[i]))
        status = str(data.status[i])
        reviewed = status != "new"
        persons = int(data.persons[i])
        incidents.append(
            Incident(
                category=categories[str(data.category[i])],
                occurred_from=occurred_from,
                occurred_to=occurred_to,
                reported_at=reported_at,
                lat=float(data.lat[i]),
                lon=float(data.lon[i]),
                x=float(x[i]),
                y=float(y[i]),
                precision=str(data.precision[i]),
                municipality_id=by_code[str(data.municipality[i])],
                description=description,
                persons_estimate=None if persons == synth.PERSONS_UNKNOWN else persons,
                severity=int(data.severity[i]),
                police_reported=bool(data.police_reported[i]),
                fault_reported=bool(data.fault_reported[i]),
                source_organisation=organisations[ORGANISATION_OF[kind]],
                reporter=users[str(data.reporter[i])],
                sensitivity=str(data.sensitivity[i]),
                status=status,
                source=Source.DEMO,
                external_id=f"demo-{i}",
                personal_data_flags=[f.as_dict() for f in screen(description)],
                reviewed_by=users[REVIEWER_OF[kind]] if reviewed else None,
                reviewed_at=min(reported_at + REVIEW_DELAY, max(period_end, reported_at)) if reviewed else None,
            )
        )
    Incident.objects.bulk_create(incidents, batch_size=BATCH_SIZE)
    ids = np.asarray([incident.pk for incident in incidents], dtype=np.int64)
    return len(incidents), _assign_areas(data, ids, municipalities)


def _assign_areas(data: synth.SyntheticIncidents, ids: np.ndarray, municipalities: dict[str, Municipality]) -> int:
    """Link each report to the current areas of its kommun that contain it."""
    through = Incident.areas.through
    links: list[models.Model] = []
    for code, municipality in municipalities.items():
        rows = np.flatnonzero(data.municipality == code)
        if rows.size == 0:
            continue
        per_point = area_ids_containing(municipality_id=municipality.pk, lon=data.lon[rows], lat=data.lat[rows])
        for row, area_ids in zip(rows, per_point, strict=True):
            links.extend(through(incident_id=int(ids[row]), area_id=area_id) for area_id in area_ids)
    through.objects.bulk_create(links, batch_size=5 * BATCH_SIZE)
    return len(links)
