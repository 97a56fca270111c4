"""A world of canaries: for every kind of object a user can reach by id, objects of other municipalities, other
views and other owners, each carrying a unique "canary" string in its free texts.

A canary says who may see it inside the product (``seen_by``, user keys of the ``world`` fixture) and whether the
public site publishes it by design (``public``). A response that contains a canary its user may not see is a leak,
whatever its status code or format.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest

ROLES = ("admin", "samordnare", "analytiker", "rapportor", "lasare")
# Every user kind of the world fixture, plus the anonymous visitor.
ANONYMOUS = "anonymous"
USER_KEYS = (
    *(f"{kind}_{role}" for kind in ("kommun", "polis") for role in ROLES),
    "simrishamn_samordnare",
    "nobody",
    ANONYMOUS,
)


def users(*keys: str) -> frozenset[str]:
    return frozenset(keys)


def of(kinds: tuple[str, ...], roles: tuple[str, ...]) -> frozenset[str]:
    return frozenset(f"{k}_{r}" for k, r in itertools.product(kinds, roles))


# The rules, written out independently of ``accounts.access``: who reads (every role that sees all reports), who
# edits and reviews, in Ystad (the kommun and the police), in Simrishamn (the police and Simrishamn's coordinator),
# and what only the police see.
READ_ROLES = ("admin", "samordnare", "analytiker", "lasare")
EDIT_ROLES = ("admin", "samordnare", "analytiker")
YSTAD_READERS = of(("kommun", "polis"), READ_ROLES)
YSTAD_EDITORS = of(("kommun", "polis"), EDIT_ROLES)
SIMRISHAMN_READERS = of(("polis",), READ_ROLES) | {"simrishamn_samordnare"}
SIMRISHAMN_EDITORS = of(("polis",), EDIT_ROLES) | {"simrishamn_samordnare"}
POLICE_READERS = of(("polis",), READ_ROLES)
POLICE_EDITORS = of(("polis",), EDIT_ROLES)
# Everyone with a membership covering Simrishamn, whatever the role (areas and categories are seen by reporters too).
SIMRISHAMN_MEMBERS = of(("polis",), ROLES) | {"simrishamn_samordnare"}
# The canary reports happened in week 10 of 2025, the week the saved pictures and the picture queries show.
WEEK = "2025-W10"
OCCURRED = dt.datetime(2025, 3, 5, 20, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
NOBODY: frozenset[str] = frozenset()
LOGGED_IN = frozenset(USER_KEYS) - {ANONYMOUS}
EVERYONE = frozenset(USER_KEYS)


@dataclass(frozen=True)
class Canary:
    text: str
    seen_by: frozenset[str]
    # Published on the public site (no log-in) by design, e.g. the title of a finished measure.
    public: bool = False


@dataclass
class Target:
    """One object reachable by id, with the users allowed each action on it."""

    name: str
    obj: Any
    allowed: dict[str, frozenset[str]]
    # The canaries in the object's texts: a page that shows the object shows at least one of them.
    canaries: tuple[str, ...] = ()

    @property
    def pk(self) -> int:
        return self.obj.pk


@dataclass
class CanaryWorld:
    world: Any
    canaries: dict[str, Canary] = field(default_factory=dict)
    targets: dict[str, list[Target]] = field(default_factory=dict)
    named: dict[str, Any] = field(default_factory=dict)

    def canary(self, name: str, seen_by: frozenset[str], *, public: bool = False) -> str:
        # Letters only: survives HTML escaping, JSON, CSV, PDF text extraction and the personal-data screening.
        letters = "".join(chr(ord("a") + int(d)) for d in f"{len(self.canaries):03d}")
        text = f"qzx{letters}{re.sub('[^a-z]', '', name)}"
        self.canaries[name] = Canary(text=text, seen_by=seen_by, public=public)
        return text

    def add(self, kind: str | None, name: str, obj: Any, *texts: str, **allowed: frozenset[str]) -> Any:
        """Name ``obj``; with a ``kind``, it also fills the URLs that take an id of that kind."""
        if kind is not None:
            self.targets.setdefault(kind, []).append(Target(name, obj, allowed, texts))
        self.named[name] = obj
        return obj

    def __getitem__(self, name: str) -> Any:
        return self.named[name]

    def forbidden_for(self, user_key: str, *, public_page: bool) -> list[Canary]:
        """The canaries ``user_key`` must never see: on the public site the unpublished ones, whoever asks; inside
        the product those outside the user's reach."""
        if public_page:
            return [c for c in self.canaries.values() if not c.public]
        return [c for c in self.canaries.values() if user_key not in c.seen_by]

    def leaks(self, text: str, user_key: str, *, public_page: bool) -> list[str]:
        lowered = text.lower()
        return [c.text for c in self.forbidden_for(user_key, public_page=public_page) if c.text in lowered]


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    """The crawl sends far more requests per user than the rate limits allow a person; they are tested elsewhere."""
    from django.core.cache import cache

    for name in ("SAMVERKAN_EXPORT_RATE", "SAMVERKAN_REPORT_RATE", "SAMVERKAN_IMPORT_RATE", "SAMVERKAN_LOGIN_RATE"):
        setattr(settings, name, "100000/60")
    settings.SAMVERKAN_OPEN311_READ_RATE = "100000/60"
    settings.SAMVERKAN_OPEN311_RATE = "100000/60"
    settings.SAMVERKAN_PUBLIC_REPORT_RATE = "100000/60"
    cache.clear()
    yield
    cache.clear()


def _week_picture(world, municipality, *, view: str) -> dict:
    """The picture of the canary week, as the police analyst (who sees both municipalities and views) builds it."""
    from samverkan.situation.selectors import picture_compute

    user = world.users["polis_analytiker"]
    return picture_compute(user=user, municipality_id=municipality.pk, period=WEEK, view=view)


@pytest.fixture
def canaries(world) -> CanaryWorld:
    """The world fixture plus one object of every id-taking kind per municipality, view and owner, each with a
    canary in its free text."""
    from django.utils import timezone

    from samverkan.imports.models import ImportKind, ImportRecord, ImportStatus
    from samverkan.imports.models_open311 import PublicRequest, PublicRequestStatus
    from samverkan.incidents.models import Category, FocusArea, Sensitivity, Status
    from samverkan.places.models import Area, Municipality
    from samverkan.places.services import area_create
    from samverkan.plan.models import (
        Agreement,
        CitizenPromise,
        Commitment,
        Decision,
        Measure,
        MeasureActivity,
        MeasureStatus,
        Meeting,
        Problem,
    )
    from samverkan.situation.services import daily_counts_rebuild, snapshot_save
    from tests.factories import SIMRISHAMN, YSTAD, IncidentFactory, square

    cw = CanaryWorld(world)
    u = world.users
    # A municipality outside everyone's memberships: its objects are refused to every user, whatever the role.
    malmo = Municipality.objects.get(code="1280")
    trygghet = FocusArea.objects.get(code="trygghet")
    klotter = Category.objects.get(code="klotter", municipality=None)

    # Geography and checklists of Simrishamn: seen by its members only (a drawn zone is never published).
    sim_area = area_create(
        municipality=world.simrishamn,
        kind="zone",
        name=cw.canary("simrishamnzone", SIMRISHAMN_MEMBERS),
        geometry=square(*SIMRISHAMN, 0.01),
    )
    cw.named["simrishamn_area"] = sim_area
    cw.named["ystad_area"] = Area.objects.get(municipality=world.ystad, name="Centrum")
    sim_category = Category.objects.create(
        code="simrishamn-egen",
        name_sv=cw.canary("simrishamncategory", SIMRISHAMN_MEMBERS),
        name_en="Simrishamn's own",
        focus_area=trygghet,
        municipality=world.simrishamn,
        public=False,
    )
    cw.named["simrishamn_category"] = sim_category

    # Reports: by municipality, sensitivity, owner and status.
    def incident(name, *, seen_by, edit, review, municipality, reporter, sensitivity, status=Status.NEW, **more):
        text = cw.canary(name, seen_by)
        place = SIMRISHAMN if municipality == world.simrishamn else YSTAD
        obj = IncidentFactory(
            municipality=municipality,
            reporter=u[reporter],
            source_organisation=world.polis if reporter.startswith("polis") else world.kommun,
            sensitivity=sensitivity,
            status=status,
            description=f"Klotter {text} vid stationen.",
            occurred_from=OCCURRED,
            lon=place[0],
            lat=place[1],
            **more,
        )
        return cw.add("incident", name, obj, text, view=seen_by, edit=edit, review=review)

    incident(
        "reportbyreporter",
        seen_by=YSTAD_READERS | {"kommun_rapportor"},
        edit=YSTAD_EDITORS | {"kommun_rapportor"},
        review=YSTAD_EDITORS,
        municipality=world.ystad,
        reporter="kommun_rapportor",
        sensitivity=Sensitivity.SHARED,
    )
    incident(
        "reportreviewed",
        seen_by=YSTAD_READERS | {"kommun_rapportor"},
        # A reporter edits their own report only while it is new.
        edit=YSTAD_EDITORS,
        review=YSTAD_EDITORS,
        municipality=world.ystad,
        reporter="kommun_rapportor",
        sensitivity=Sensitivity.SHARED,
        status=Status.REVIEWED,
    )
    incident(
        "reportrestricted",
        seen_by=POLICE_READERS | {"polis_rapportor"},
        edit=POLICE_EDITORS | {"polis_rapportor"},
        review=POLICE_EDITORS,
        municipality=world.ystad,
        reporter="polis_rapportor",
        sensitivity=Sensitivity.POLICE_RESTRICTED,
    )
    incident(
        "reportpublic",
        seen_by=YSTAD_READERS,
        edit=YSTAD_EDITORS,
        review=YSTAD_EDITORS,
        municipality=world.ystad,
        reporter="kommun_samordnare",
        sensitivity=Sensitivity.PUBLIC,
    )
    incident(
        "reportsimrishamn",
        seen_by=SIMRISHAMN_READERS,
        edit=SIMRISHAMN_EDITORS,
        review=SIMRISHAMN_EDITORS,
        municipality=world.simrishamn,
        reporter="polis_samordnare",
        sensitivity=Sensitivity.SHARED,
        category=sim_category,
    )
    incident(
        "reportmalmo",
        seen_by=NOBODY,
        edit=NOBODY,
        review=NOBODY,
        municipality=malmo,
        # Made by Ystad's reporter, who still may not see it: they have no membership in Malmö.
        reporter="kommun_rapportor",
        sensitivity=Sensitivity.PUBLIC,
    )

    daily_counts_rebuild(municipality_ids=[world.ystad.pk, world.simrishamn.pk])

    # Agreements with a citizen promise, a problem and a commitment (the title and promise are public).
    def agreement(name, municipality, readers, editors):
        text = cw.canary(name, readers)
        obj = Agreement.objects.create(
            title=f"Överenskommelse {municipality.name}",
            municipality=municipality,
            period_start=dt.date(2024, 1, 1),
            period_end=dt.date(2030, 12, 31),
            meeting_schedule=f"Varje tisdag {text}",
            follow_up=f"Uppföljning {text}",
        )
        obj.parties.add(world.kommun if municipality == world.ystad else world.kommun_simrishamn, world.polis)
        obj.focus_areas.add(trygghet)
        Problem.objects.create(agreement=obj, focus_area=trygghet, title="Otrygghet", description=text)
        Commitment.objects.create(agreement=obj, party=world.polis, text=f"Polisen {text}")
        cw.add("agreement", name, obj, text, view=readers, edit=editors)
        promise = CitizenPromise.objects.create(
            agreement=obj,
            period_start=dt.date(2024, 1, 1),
            period_end=dt.date(2030, 12, 31),
            text=f"Vi lovar trygghet i {municipality.name}.",
            responsible=world.polis,
        )
        cw.add("promise", f"{name}promise", promise, view=readers, edit=editors)
        return obj

    ystad_agreement = agreement("agreementystad", world.ystad, YSTAD_READERS, YSTAD_EDITORS)
    sim_agreement = agreement("agreementsimrishamn", world.simrishamn, SIMRISHAMN_READERS, SIMRISHAMN_EDITORS)
    malmo_agreement = agreement("agreementmalmo", malmo, NOBODY, NOBODY)

    # Measures, with an activity; a finished one's title is published, its description is not.
    def measure(name, municipality, readers, editors, *, status=MeasureStatus.PLANNED, title_public=False, **more):
        text = cw.canary(name, readers)
        title = cw.canary(f"{name}title", readers, public=True) if title_public else f"Åtgärd {text}"
        texts = (text, title) if title_public else (text,)
        obj = Measure.objects.create(
            municipality=municipality,
            title=title,
            description=f"Vad som görs: {text}",
            motivation=text,
            focus_area=trygghet,
            kind="situational",
            term="short",
            responsible_organisation=world.polis,
            start=dt.date(2025, 3, 1),
            end=dt.date(2025, 3, 31) if status == MeasureStatus.DONE else None,
            status=status,
            time_windows=[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}],
            created_by=u["polis_samordnare"],
            **more,
        )
        obj.areas.set([sim_area] if municipality == world.simrishamn else [])
        MeasureActivity.objects.create(
            measure=obj,
            date=dt.date(2025, 3, 5),
            text=f"Rond {text}",
            organisation=world.polis,
            created_by=u["polis_samordnare"],
        )
        return cw.add("measure", name, obj, *texts, view=readers, edit=editors)

    measure("measureystad", world.ystad, YSTAD_READERS, YSTAD_EDITORS, agreement=ystad_agreement)
    measure("measuresimrishamn", world.simrishamn, SIMRISHAMN_READERS, SIMRISHAMN_EDITORS, agreement=sim_agreement)
    measure("measuredone", world.ystad, YSTAD_READERS, YSTAD_EDITORS, status=MeasureStatus.DONE, title_public=True)
    measure("measuremalmo", malmo, NOBODY, NOBODY, agreement=malmo_agreement)

    # Meetings with minutes and a decision.
    def meeting(name, municipality, readers, editors, agreement_):
        text = cw.canary(name, readers)
        obj = Meeting.objects.create(
            municipality=municipality,
            agreement=agreement_,
            held_on=dt.date(2025, 3, 4),
            title=f"Samverkansmöte {text}",
            agenda=f"1. Lägesbild {text}",
            minutes=f"Protokoll {text}",
            created_by=u["polis_samordnare"],
        )
        Decision.objects.create(meeting=obj, text=f"Beslut {text}", owner=world.polis)
        return cw.add("meeting", name, obj, text, view=readers, edit=editors)

    meeting("meetingystad", world.ystad, YSTAD_READERS, YSTAD_EDITORS, ystad_agreement)
    meeting("meetingsimrishamn", world.simrishamn, SIMRISHAMN_READERS, SIMRISHAMN_EDITORS, sim_agreement)
    meeting("meetingmalmo", malmo, NOBODY, NOBODY, malmo_agreement)

    # Saved pictures: two versions of Ystad's shared one, Ystad's police view, Simrishamn's shared one.
    pictures: dict[tuple[int, str], dict] = {}

    def snapshot(name, municipality, view, readers, editors, previous=None, kind="snapshot"):
        text = cw.canary(name, readers)
        key = (municipality.pk, view)
        if key not in pictures:
            pictures[key] = _week_picture(world, municipality, view=view)
        obj = snapshot_save(
            user=u["polis_analytiker"],
            picture=pictures[key],
            assessment=f"Bedömning {text}",
            decisions=f"Beslut {text}",
            previous=previous,
        )
        return cw.add(kind, name, obj, text, view=readers, edit=editors)

    first = snapshot("snapshotystad", world.ystad, "shared", YSTAD_READERS, YSTAD_EDITORS)
    # A second version, for the comparison page only.
    snapshot("snapshotystadtwo", world.ystad, "shared", YSTAD_READERS, YSTAD_EDITORS, previous=first, kind=None)
    snapshot("snapshotpolice", world.ystad, "police", POLICE_READERS, POLICE_EDITORS)
    snapshot("snapshotsimrishamn", world.simrishamn, "shared", SIMRISHAMN_READERS, SIMRISHAMN_EDITORS)
    # Nobody may build Malmö's picture here, so its saved one is Ystad's figures under Malmö's name.
    place = {"id": malmo.pk, "code": malmo.code, "name": malmo.name}
    pictures[(malmo.pk, "shared")] = {**pictures[(world.ystad.pk, "shared")], "municipality": place}
    snapshot("snapshotmalmo", malmo, "shared", NOBODY, NOBODY)

    # Imports: each seen by the one who made it.
    for owner in ("kommun_samordnare", "polis_analytiker"):
        name = f"import{owner.replace('_', '')}"
        text = cw.canary(name, users(owner))
        record = ImportRecord.objects.create(
            kind=ImportKind.INCIDENTS,
            filename=f"{text}.csv",
            user=u[owner],
            status=ImportStatus.FAILED,
            errors=[{"row": 2, "field": "beskrivning", "message": f"Fel {text}"}],
            summary={"total": 1, "notes": [text]},
        )
        cw.add("import", name, record, text, view=users(owner), edit=users(owner))

    # Observations from the public, waiting for a moderator (who may review reports in the municipality).
    def public_request(name, municipality, moderators, *, status=PublicRequestStatus.PENDING, public=False):
        text = cw.canary(name, moderators, public=public)
        place = SIMRISHAMN if municipality == world.simrishamn else YSTAD
        obj = PublicRequest.objects.create(
            municipality=municipality,
            category=klotter,
            lat=place[1],
            lon=place[0],
            description=f"Klotter {text}",
            status=status,
            moderated_at=timezone.now() if status != PublicRequestStatus.PENDING else None,
        )
        return cw.add("public_request", name, obj, text, view=moderators, edit=moderators)

    public_request("requestystad", world.ystad, YSTAD_EDITORS)
    public_request("requestsimrishamn", world.simrishamn, SIMRISHAMN_EDITORS)
    public_request("requestmalmo", malmo, NOBODY)
    # Accepted without personal data: Open311 publishes its text.
    public_request("requestaccepted", world.ystad, YSTAD_EDITORS, status=PublicRequestStatus.ACCEPTED, public=True)
    return cw


# --- PDF text ------------------------------------------------------------------------------------------------------

HAVE_PDFTOTEXT = shutil.which("pdftotext") is not None


def pdf_text(data: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext (canaries are compressed and re-encoded in the raw bytes)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(["pdftotext", handle.name, "-"], capture_output=True, check=True, text=True).stdout
