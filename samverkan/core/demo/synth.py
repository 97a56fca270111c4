"""Synthetic EST reports for the Ystad demo, with the patterns a coordinator would expect to find.

Pure numpy (and the stdlib): every random draw comes from the one ``rng`` passed in, in a fixed order, so the same
seed and dates give the same reports. The patterns, each a share of all reports:

* weekend nights in Ystad's town centre: disorder, fights, drunkenness (busier in summer and at New Year);
* suspected drug dealing around the station and the harbour, and in Sandskogen in summer, slowly rising over the
  period;
* mopeds and A-traktorer driving recklessly on summer evenings (May–September, 18–23) in Köpingebro, Löderup and on
  the roads at the edge of Ystad;
* vandalism and graffiti near schools after school hours (15–21 on school days);
* disorder, drinking and litter on the beaches (Sandskogen, Nybrostrand) in June–August, peaking at midsummer;
* littering, unsafe places (broken lighting mostly in the dark months October–February), container fires (spring,
  Valborg, New Year), speeding, thefts, and a few other reports;
* the other four kommuner of LPO Ystad at a lower rate, around their town centres and in the countryside, reported
  by the police.

Times are local wall-clock times (Europe/Stockholm) as numpy ``datetime64[m]``; ``local_datetimes`` makes them
aware. A night belongs to the evening it began: a fight at 01:00 on a Saturday is a Friday-night event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from samverkan.core.demo import geography as geo

STOCKHOLM = ZoneInfo("Europe/Stockholm")
M_PER_DEG_LAT = 111_320.0
# A night (see the module docstring) runs until 06:00; hours before that belong to the previous evening's day.
NIGHT_ENDS = 6
PERSONS_UNKNOWN = -1
ORGANISATIONS = ("kommun", "bostadsbolag", "polis")


@dataclass(frozen=True, slots=True)
class SyntheticIncidents:
    """Synthetic reports as parallel arrays, sorted by occurrence time.

    ``occurred`` is the local (Europe/Stockholm) start time; ``window_minutes`` > 0 marks a report whose time is a
    window (from ``occurred`` to ``occurred + window_minutes``); ``report_delay_minutes`` is the time from the end of
    the occurrence to the report. ``persons`` is ``PERSONS_UNKNOWN`` (-1) when the reporter gave no estimate.
    ``organisation`` is "kommun", "bostadsbolag" or "polis"; ``reporter`` names the demo user who reported.
    """

    municipality: NDArray[np.str_]
    category: NDArray[np.str_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    occurred: NDArray[np.datetime64]
    window_minutes: NDArray[np.int32]
    report_delay_minutes: NDArray[np.int32]
    precision: NDArray[np.str_]
    persons: NDArray[np.int16]
    severity: NDArray[np.int8]
    police_reported: NDArray[np.bool_]
    fault_reported: NDArray[np.bool_]
    sensitivity: NDArray[np.str_]
    status: NDArray[np.str_]
    organisation: NDArray[np.str_]
    reporter: NDArray[np.str_]
    pattern: NDArray[np.str_]
    description: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.lon.size)


@dataclass(frozen=True, slots=True)
class Hotspot:
    """Reports scattered around ``spot`` (lon, lat) with a normal spread of ``sigma_m`` metres."""

    spot: tuple[float, float]
    sigma_m: float
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Pattern:
    """One kind of recurring situation: where, when, what, and who reports it.

    Weights need not sum to one. ``months`` (Jan–Dec) and ``weekdays`` (Mon–Sun, of the evening's day) scale the
    chance of each day; ``hours`` (0–23) that of each hour; ``trend`` is the relative growth from the first to the
    last day; ``specials`` multiplies named days ("nyar", "valborg", "midsommar"); ``rural`` is the share spread
    evenly over the whole kommun instead of around the hotspots.
    """

    name: str
    kommun: str
    share: float
    categories: dict[str, float]
    hotspots: tuple[Hotspot, ...]
    hours: dict[int, float]
    organisations: dict[str, float]
    places: tuple[str, ...]
    months: tuple[float, ...] = (1.0,) * 12
    weekdays: tuple[float, ...] = (1.0,) * 7
    term_time: bool = False
    trend: float = 0.0
    specials: dict[str, float] = field(default_factory=dict)
    rural: float = 0.0


@dataclass(frozen=True, slots=True)
class _CategoryTraits:
    severity: tuple[float, float, float]
    police_reported: float
    fault_reported: float
    persons_given: float
    persons_mean: float
    window_share: float
    window_hours: tuple[float, float]
    restricted_if_police: float
    templates: tuple[str, ...]


_TRAITS: dict[str, _CategoryTraits] = {
    "skadegorelse": _CategoryTraits(
        (0.5, 0.4, 0.1), 0.3, 0.5, 0.3, 3, 0.35, (6, 14), 0.03,
        ("Krossad ruta {plats}.", "Sönderslagen papperskorg {plats}.", "Skadegörelse på busskuren {plats}.",
         "Trasiga bänkar {plats}.", "Uppbrutet elskåp {plats}.", "Ungdomar, ca {n}, slog sönder belysning {plats}."),
    ),
    "klotter": _CategoryTraits(
        (0.7, 0.25, 0.05), 0.1, 0.6, 0.1, 2, 0.45, (12, 72), 0.02,
        ("Nytt klotter {plats}.", "Klotter på fasaden {plats}, flera kvadratmeter.",
         "Taggar på skylt och elskåp {plats}.", "Klotter på väggen {plats}, sanering behövs.",
         "Ca {n} personer klottrade {plats}."),
    ),
    "nedskrapning": _CategoryTraits(
        (0.8, 0.18, 0.02), 0.01, 0.55, 0.05, 4, 0.3, (12, 48), 0.0,
        ("Nedskräpning {plats}, mycket burkar och flaskor.", "Dumpade möbler och säckar {plats}.",
         "Fulla papperskorgar och skräp {plats}.", "Engångsgrillar och förpackningar kvar {plats}.",
         "Krossat glas {plats}."),
    ),
    "brand": _CategoryTraits(
        (0.2, 0.5, 0.3), 0.55, 0.3, 0.1, 2, 0.05, (1, 4), 0.05,
        ("Brand i container {plats}.", "Brand i papperskorg {plats}.", "Brandskadad soptunna {plats}.",
         "Någon hade eldat {plats}, räddningstjänsten släckte.", "Brinnande sopkärl {plats}."),
    ),
    "otrygg-plats": _CategoryTraits(
        (0.6, 0.35, 0.05), 0.0, 0.75, 0.0, 1, 0.25, (24, 168), 0.0,
        ("Trasig gatubelysning {plats}.", "Mörkt och otryggt {plats}, flera lampor ur funktion.",
         "Igenvuxet buskage skymmer sikten {plats}.", "Trasigt staket {plats}.",
         "Ingen belysning på gång- och cykelvägen {plats}."),
    ),
    "otrygg-samling": _CategoryTraits(
        (0.55, 0.4, 0.05), 0.15, 0.0, 0.85, 8, 0.0, (0, 0), 0.05,
        ("Grupp på ca {n} ungdomar {plats}, upplevs otryggt av förbipasserande.",
         "Samling av ca {n} personer {plats}, högljutt.", "Ungdomar samlas {plats} kvällstid.",
         "Folk känner sig otrygga att passera {plats}."),
    ),
    "ordningsstorning": _CategoryTraits(
        (0.5, 0.4, 0.1), 0.35, 0.0, 0.8, 5, 0.0, (0, 0), 0.08,
        ("Högljudda personer {plats}.", "Ordningsstörning {plats}, ca {n} personer.",
         "Fyrverkerier och oväsen {plats}.", "Skrik och bråk {plats} sent på kvällen."),
    ),
    "narkotika": _CategoryTraits(
        (0.3, 0.5, 0.2), 0.45, 0.0, 0.7, 3, 0.0, (0, 0), 0.3,
        ("Misstänkt narkotikaförsäljning {plats}.", "Stark lukt av cannabis {plats}.",
         "Misstänkt langning {plats}, ca {n} personer.", "Hittade sprutor {plats}.",
         "Misstänkt narkotikapåverkade personer {plats}."),
    ),
    "berusade": _CategoryTraits(
        (0.55, 0.35, 0.1), 0.25, 0.0, 0.85, 3, 0.0, (0, 0), 0.08,
        ("Berusade personer {plats}.", "Kraftigt berusad person {plats}, behövde hjälp.",
         "Alkoholförtäring {plats}, ca {n} personer.", "Ca {n} berusade ungdomar {plats}."),
    ),
    "buskorning": _CategoryTraits(
        (0.4, 0.45, 0.15), 0.2, 0.0, 0.75, 3, 0.0, (0, 0), 0.04,
        ("Mopeder som buskör {plats}.", "A-traktorer kör i hög fart {plats}.",
         "Mopedåkning på gång- och cykelvägen {plats}.", "Buskörning med moped {plats}, ca {n} fordon.",
         "A-traktorer spelar hög musik och kör i cirklar {plats}."),
    ),
    "fortkorning": _CategoryTraits(
        (0.5, 0.4, 0.1), 0.1, 0.0, 0.0, 1, 0.0, (0, 0), 0.02,
        ("Hög hastighet {plats}.", "Fortkörning {plats}, särskilt kvällstid.", "Bilar kör fort förbi {plats}.",
         "Boende klagar på fortkörning {plats}."),
    ),
    "hot-vald-anstalld": _CategoryTraits(
        (0.2, 0.5, 0.3), 0.6, 0.0, 0.6, 2, 0.0, (0, 0), 0.2,
        ("Personal hotad {plats}.", "Anställd knuffad {plats}.", "Verbalt hot mot personal {plats}.",
         "Personal trakasserad av ca {n} personer {plats}."),
    ),
    "brak-vald": _CategoryTraits(
        (0.2, 0.5, 0.3), 0.7, 0.0, 0.9, 3, 0.0, (0, 0), 0.2,
        ("Slagsmål {plats}, ca {n} inblandade.", "Bråk mellan ca {n} personer {plats}.",
         "Misshandel {plats}, polis tillkallad.", "Knuffar och slag {plats}."),
    ),
    "stold-inbrott": _CategoryTraits(
        (0.4, 0.45, 0.15), 0.8, 0.0, 0.05, 2, 0.6, (8, 14), 0.12,
        ("Cykelstöld {plats}.", "Inbrott i förråd {plats}.", "Stöld av verktyg {plats}.", "Inbrott i bil {plats}.",
         "Uppbrutna cykelförråd {plats}."),
    ),
    "arrangemang": _CategoryTraits(
        (0.9, 0.1, 0.0), 0.0, 0.0, 0.6, 200, 0.9, (3, 8), 0.0,
        ("Planerat evenemang {plats}.", "Marknad {plats}, mycket folk.", "Konsert {plats}, ca {n} besökare."),
    ),
    "ovrigt": _CategoryTraits(
        (0.8, 0.15, 0.05), 0.05, 0.2, 0.1, 2, 0.1, (12, 48), 0.03,
        ("Övergiven cykel {plats}.", "Lösa hundar {plats}.", "Övrigt att notera {plats}.", "Avstängd väg {plats}."),
    ),
}  # fmt: skip

CATEGORY_CODES = tuple(_TRAITS)
# Categories whose reports a kommun may mark as open to the public (nothing about people or crimes against them).
PUBLIC_CATEGORIES = frozenset({"skadegorelse", "klotter", "nedskrapning", "otrygg-plats", "fortkorning", "buskorning"})


def _hours(**ranges: float) -> dict[int, float]:
    """Hour weights from keywords h0 … h23."""
    return {int(key[1:]): value for key, value in ranges.items()}


_NIGHT = _hours(h20=0.5, h21=1, h22=2, h23=3, h0=3.5, h1=3, h2=2, h3=1, h4=0.3)
_EVENING = _hours(h17=0.4, h18=1, h19=1.5, h20=1.8, h21=1.6, h22=1.2, h23=0.6)
_AFTER_SCHOOL = _hours(h15=1.2, h16=1.4, h17=1.3, h18=1.1, h19=1, h20=0.8, h21=0.5)
_DAYTIME = _hours(h7=0.6, h8=1, h9=1.1, h10=1.1, h11=1, h12=0.8, h13=1, h14=1, h15=0.9, h16=0.6, h17=0.3)
_AFTERNOON_NIGHT = _hours(
    h12=0.3, h13=0.5, h14=0.7, h15=1, h16=1.1, h17=1.2, h18=1.3, h19=1.4, h20=1.4, h21=1.3, h22=1.1, h23=0.8,
    h0=0.5, h1=0.3,
)  # fmt: skip
_BEACH = _hours(h12=0.4, h13=0.5, h14=0.8, h16=1, h17=1, h18=1.2, h19=1.3, h20=1.5, h21=1.8, h22=2, h23=1.8, h0=1.4,
                h1=1, h2=0.5)  # fmt: skip
_FIRE = _hours(h18=0.3, h19=0.6, h20=1, h21=1.4, h22=1.6, h23=1.6, h0=1.3, h1=1, h2=0.7, h3=0.3)
_BROAD = {h: (0.2 if h < NIGHT_ENDS else 1.0 + 0.05 * h) for h in range(24)}

_SUMMER = (0.6, 0.6, 0.7, 0.9, 1.1, 1.4, 1.6, 1.5, 1.1, 0.9, 0.7, 0.9)
_MOPED_SEASON = (0.02, 0.02, 0.05, 0.3, 1.0, 1.2, 1.3, 1.2, 0.9, 0.15, 0.03, 0.02)
_BEACH_SEASON = (0, 0, 0, 0, 0.05, 1.0, 1.6, 1.1, 0.03, 0, 0, 0)
_SANDSKOGEN_SEASON = (0, 0, 0, 0.1, 0.5, 1.4, 1.8, 1.4, 0.4, 0, 0, 0)
_DARK = (1.6, 1.3, 0.8, 0.4, 0.3, 0.2, 0.2, 0.3, 0.5, 1.2, 1.6, 1.8)
_FIRE_SEASON = (1.2, 0.9, 1.0, 1.3, 1.1, 0.9, 0.8, 0.8, 0.9, 1.0, 1.0, 1.2)
_LITTER_SEASON = (0.6, 0.6, 0.8, 1.0, 1.2, 1.5, 1.7, 1.5, 1.1, 0.9, 0.7, 0.6)
_THEFT_SEASON = (0.9, 0.8, 0.9, 0.9, 1.0, 1.1, 1.2, 1.1, 1.0, 1.1, 1.2, 1.2)

_WEEKEND_NIGHTS = (0.3, 0.3, 0.4, 0.9, 3.0, 3.4, 0.6)
_WORKDAYS = (1, 1, 1, 1, 0.9, 0.2, 0.1)
_BEACH_DAYS = (0.8, 0.8, 0.9, 1.0, 1.5, 1.8, 1.2)

_S = geo.YSTAD_SPOTS
_YSTAD = "1286"


def _ystad_patterns() -> tuple[Pattern, ...]:
    town_residential = (
        Hotspot(_S["skola_norra"], 350), Hotspot(_S["skola_ostra"], 400), Hotspot(_S["skola_vastra"], 350),
        Hotspot(_S["skola_edvinshem"], 350), Hotspot(_S["stortorget"], 300, 0.6), Hotspot(_S["station"], 250, 0.5),
    )  # fmt: skip
    villages = (
        Hotspot(_S["kopingebro"], 350), Hotspot(_S["loderup"], 350), Hotspot(_S["glemmingebro"], 300, 0.6),
        Hotspot(_S["hedeskoga"], 300, 0.5), Hotspot(_S["svarte"], 300, 0.5), Hotspot(_S["bjaresjo"], 300, 0.4),
        Hotspot(_S["kaseberga"], 250, 0.5), Hotspot(_S["nybrostrand_strand"], 400, 0.6),
    )  # fmt: skip
    return (
        Pattern(
            "centre_nights", _YSTAD, 13,
            {"ordningsstorning": 0.33, "brak-vald": 0.2, "berusade": 0.3, "otrygg-samling": 0.1, "skadegorelse": 0.07},
            (Hotspot(_S["stortorget"], 140, 1.0), Hotspot(_S["stora_ostergatan"], 120, 1.2),
             Hotspot(_S["hamngatan"], 110, 0.8)),
            _NIGHT, {"polis": 0.55, "kommun": 0.45},
            ("på Stortorget", "på Stora Östergatan", "utanför restaurangerna", "vid taxikön", "i centrum",
             "vid korvkiosken"),
            months=(0.9, 0.8, 0.9, 1.0, 1.1, 1.4, 1.5, 1.3, 1.0, 0.9, 0.9, 1.2),
            weekdays=_WEEKEND_NIGHTS, specials={"nyar": 6, "valborg": 3, "midsommar": 3},
        ),
        Pattern(
            "drugs_station", _YSTAD, 6,
            {"narkotika": 0.85, "otrygg-samling": 0.1, "berusade": 0.05},
            (Hotspot(_S["station"], 120, 1.2), Hotspot(_S["busstationen"], 100, 0.8),
             Hotspot(_S["faerjeterminalen"], 150, 0.8), Hotspot(_S["smabatshamnen"], 150, 0.4)),
            _AFTERNOON_NIGHT, {"polis": 0.6, "kommun": 0.4},
            ("vid stationen", "vid busstationen", "i hamnen", "vid färjeterminalen", "i gångtunneln vid stationen",
             "på parkeringen vid hamnen"),
            weekdays=(0.9, 0.9, 1.0, 1.0, 1.3, 1.3, 1.0), trend=0.45,
        ),
        Pattern(
            "drugs_sandskogen", _YSTAD, 2,
            {"narkotika": 0.8, "berusade": 0.1, "nedskrapning": 0.1},
            (Hotspot(_S["sandskogen_vast"], 300), Hotspot(_S["sandskogen_mitt"], 350),
             Hotspot(_S["sandskogen_ost"], 300)),
            _AFTERNOON_NIGHT, {"polis": 0.5, "kommun": 0.5},
            ("i Sandskogen", "vid stranden i Sandskogen", "vid grillplatsen i Sandskogen", "vid Saltsjöbaden"),
            months=_SANDSKOGEN_SEASON, trend=0.45,
        ),
        Pattern(
            "mopeds_summer_evenings", _YSTAD, 6,
            {"buskorning": 0.9, "fortkorning": 0.05, "otrygg-samling": 0.05},
            (Hotspot(_S["kopingebro"], 450, 1.2), Hotspot(_S["loderup"], 500, 1.0),
             Hotspot(_S["glemmingebro"], 400, 0.5),
             Hotspot(_S["vag_kristianstadsvagen"], 400, 0.7), Hotspot(_S["vag_malmovagen"], 400, 0.6),
             Hotspot(_S["vag_sjobovagen"], 400, 0.5), Hotspot(_S["vag_osterleden"], 400, 0.6)),
            _EVENING, {"kommun": 0.55, "polis": 0.35, "bostadsbolag": 0.1},
            ("på gång- och cykelvägen", "vid skolan", "på grusvägen utanför byn", "vid idrottsplatsen",
             "på parkeringen vid affären", "längs landsvägen", "i bostadsområdet"),
            months=_MOPED_SEASON, weekdays=(0.9, 0.9, 1.0, 1.0, 1.3, 1.3, 1.1), rural=0.1,
        ),
        Pattern(
            "schools_after_hours", _YSTAD, 9,
            {"skadegorelse": 0.45, "klotter": 0.4, "brand": 0.04, "nedskrapning": 0.06, "otrygg-samling": 0.05},
            (Hotspot(_S["skola_norra"], 120, 1.2), Hotspot(_S["skola_ostra"], 120, 1.0),
             Hotspot(_S["skola_vastra"], 120, 1.0), Hotspot(_S["skola_edvinshem"], 120, 0.9),
             Hotspot(_S["skola_kopingebro"], 100, 0.5), Hotspot(_S["skola_loderup"], 100, 0.3)),
            _AFTER_SCHOOL, {"kommun": 0.85, "bostadsbolag": 0.1, "polis": 0.05},
            ("vid skolan", "på skolgården", "vid idrottshallen", "vid cykelstället vid skolan", "vid fritidsgården"),
            term_time=True,
        ),
        Pattern(
            "beach_summer", _YSTAD, 6,
            {"ordningsstorning": 0.3, "nedskrapning": 0.3, "berusade": 0.2, "otrygg-samling": 0.1, "narkotika": 0.04,
             "brand": 0.03, "arrangemang": 0.03},
            (Hotspot(_S["sandskogen_vast"], 250, 1.0), Hotspot(_S["sandskogen_mitt"], 300, 1.0),
             Hotspot(_S["sandskogen_ost"], 250, 0.6), Hotspot(_S["nybrostrand_strand"], 300, 0.9)),
            _BEACH, {"kommun": 0.6, "polis": 0.4},
            ("på stranden", "vid badbryggan", "vid kiosken vid stranden", "i dynerna", "vid parkeringen vid stranden"),
            months=_BEACH_SEASON, weekdays=_BEACH_DAYS, specials={"midsommar": 8},
        ),
        Pattern(
            "littering", _YSTAD, 11,
            {"nedskrapning": 0.9, "ovrigt": 0.1},
            (*town_residential, Hotspot(_S["sandskogen_mitt"], 500, 0.7), Hotspot(_S["faerjeterminalen"], 250, 0.5),
             *villages),
            _DAYTIME, {"kommun": 0.85, "bostadsbolag": 0.15},
            ("i parken", "vid återvinningsstationen", "längs promenaden", "vid lekplatsen", "i hamnen",
             "vid busshållplatsen", "vid rastplatsen"),
            months=_LITTER_SEASON, weekdays=_WORKDAYS, rural=0.12,
        ),
        Pattern(
            "unsafe_places", _YSTAD, 7,
            {"otrygg-plats": 0.92, "ovrigt": 0.08},
            (*town_residential, Hotspot(_S["vag_osterleden"], 400, 0.5), *villages),
            _hours(h8=0.5, h9=0.8, h10=0.8, h11=0.7, h13=0.7, h14=0.8, h15=0.9, h16=1, h17=1.1, h18=1, h19=0.7),
            {"kommun": 0.8, "bostadsbolag": 0.2},
            ("på gång- och cykelvägen", "i gångtunneln", "i parken", "vid busshållplatsen", "på parkeringen",
             "längs promenaden"),
            months=_DARK, weekdays=_WORKDAYS, rural=0.05,
        ),
        Pattern(
            "container_fires", _YSTAD, 4,
            {"brand": 0.9, "skadegorelse": 0.1},
            (Hotspot(_S["skola_ostra"], 400), Hotspot(_S["skola_vastra"], 350), Hotspot(_S["skola_norra"], 350),
             Hotspot(_S["skola_edvinshem"], 350), Hotspot(_S["kopingebro"], 300, 0.3)),
            _FIRE, {"kommun": 0.5, "bostadsbolag": 0.3, "polis": 0.2},
            ("vid miljöstugan", "på parkeringen", "vid skolan", "bakom affären", "vid återvinningsstationen"),
            months=_FIRE_SEASON, specials={"nyar": 15, "valborg": 6},
        ),
        Pattern(
            "speeding", _YSTAD, 5,
            {"fortkorning": 0.9, "buskorning": 0.1},
            (Hotspot(_S["vag_kristianstadsvagen"], 300), Hotspot(_S["vag_malmovagen"], 300),
             Hotspot(_S["vag_osterleden"], 350), Hotspot(_S["vag_sjobovagen"], 300), *villages),
            _hours(h7=1.2, h8=1.1, h9=0.7, h10=0.6, h11=0.6, h12=0.7, h13=0.7, h14=0.8, h15=1.1, h16=1.3, h17=1.2,
                   h18=0.9, h19=0.7, h20=0.5, h21=0.4),
            {"polis": 0.6, "kommun": 0.4},
            ("på infartsvägen", "genom byn", "vid övergångsstället", "förbi skolan", "på landsvägen"),
            months=_SUMMER, rural=0.15,
        ),
        Pattern(
            "thefts", _YSTAD, 6,
            {"stold-inbrott": 0.95, "skadegorelse": 0.05},
            (Hotspot(_S["station"], 200, 1.2), Hotspot(_S["stortorget"], 250, 0.8), *town_residential, *villages),
            _BROAD, {"polis": 0.55, "kommun": 0.25, "bostadsbolag": 0.2},
            ("vid stationen", "vid cykelstället", "i källarförrådet", "på byggarbetsplatsen", "på parkeringen",
             "vid idrottsplatsen"),
            months=_THEFT_SEASON, rural=0.1,
        ),
        Pattern(
            "other", _YSTAD, 7,
            {"otrygg-samling": 0.45, "hot-vald-anstalld": 0.12, "arrangemang": 0.13, "ovrigt": 0.3},
            (Hotspot(_S["stortorget"], 200, 1.5), Hotspot(_S["station"], 200, 0.8), *town_residential, *villages),
            _hours(h10=0.6, h12=0.7, h14=0.8, h16=1, h17=1.2, h18=1.4, h19=1.5, h20=1.5, h21=1.3, h22=1, h23=0.6),
            {"kommun": 0.6, "bostadsbolag": 0.2, "polis": 0.2},
            ("i centrum", "vid köpcentret", "vid fritidsgården", "vid biblioteket", "på torget", "vid lekplatsen"),
            months=_SUMMER,
        ),
    )  # fmt: skip


def _town_patterns(code: str, share: float) -> tuple[Pattern, ...]:
    """A smaller version of the same situations around another kommun's town centre, reported by the police."""
    centre = geo.kommun(code).centre
    places = ("i centrum", "vid stationen", "vid torget", "vid skolan", "på parkeringen", "i parken")
    police = {"polis": 1.0}
    return (
        Pattern(f"{code}_nights", code, share * 0.25,
                {"ordningsstorning": 0.4, "brak-vald": 0.25, "berusade": 0.35},
                (Hotspot(centre, 250),), _NIGHT, police, places,
                weekdays=_WEEKEND_NIGHTS, specials={"nyar": 5, "midsommar": 3}),
        Pattern(f"{code}_drugs", code, share * 0.15, {"narkotika": 0.9, "otrygg-samling": 0.1},
                (Hotspot(centre, 400),), _AFTERNOON_NIGHT, police, places, trend=0.3),
        Pattern(f"{code}_mopeds", code, share * 0.15, {"buskorning": 0.85, "fortkorning": 0.15},
                (Hotspot(centre, 1500),), _EVENING, police, ("längs landsvägen", "i byn", "på grusvägen"),
                months=_MOPED_SEASON, rural=0.6),
        Pattern(f"{code}_vandalism", code, share * 0.2, {"skadegorelse": 0.55, "klotter": 0.35, "brand": 0.1},
                (Hotspot(centre, 700),), _AFTER_SCHOOL, police, places, rural=0.1),
        Pattern(f"{code}_thefts", code, share * 0.15, {"stold-inbrott": 1.0},
                (Hotspot(centre, 1000),), _BROAD, police, places, months=_THEFT_SEASON, rural=0.35),
        Pattern(f"{code}_littering", code, share * 0.1, {"nedskrapning": 0.8, "otrygg-plats": 0.2},
                (Hotspot(centre, 800),), _DAYTIME, police, places, months=_LITTER_SEASON, rural=0.3),
    )  # fmt: skip


PATTERNS: tuple[Pattern, ...] = (
    *_ystad_patterns(),
    *_town_patterns("1291", 5.5),
    *_town_patterns("1265", 4.5),
    *_town_patterns("1264", 4.0),
    *_town_patterns("1270", 4.0),
)

# A handful of reports carry a phone number or a number plate, as real free text sometimes does, so that the
# review queue has something to show. The phone numbers are from the 070-174 06 05 … 99 series that PTS keeps for
# use in fiction.
PERSONAL_DATA_SHARE = 0.003
PERSONAL_DATA_RECENT_DAYS = 60
_PLATE_LETTERS = "ABCDEFGHJKLMNOPRSTUWXYZ"
_VEHICLE_CATEGORIES = frozenset({"buskorning", "fortkorning"})
_STATUSES = ("new", "reviewed", "acted_on", "closed")
# Status mix by the age of the report in days: (up to age, probabilities of new, reviewed, acted_on, closed).
_STATUS_BY_AGE = (
    (7, (0.75, 0.25, 0.0, 0.0)),
    (30, (0.25, 0.45, 0.2, 0.1)),
    (90, (0.03, 0.2, 0.35, 0.42)),
    (10**9, (0.0, 0.03, 0.2, 0.77)),
)


def default_period(end: dt.date) -> tuple[dt.date, dt.date]:
    """Three years up to (not including) ``end``."""
    try:
        start = end.replace(year=end.year - 3)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 3, day=28)
    return start, end


def _calendar(days: NDArray[np.datetime64]) -> dict[str, NDArray]:
    months = days.astype("datetime64[M]")
    month = months.astype(int) % 12 + 1
    day_of_month = (days - months).astype(int) + 1
    weekday = (days.astype(int) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    iso_week = np.array([d.isocalendar()[1] for d in days.astype(object)])
    summer_break = ((month == 6) & (day_of_month >= 12)) | (month == 7) | ((month == 8) & (day_of_month < 20))
    christmas_break = ((month == 12) & (day_of_month >= 21)) | ((month == 1) & (day_of_month < 9))
    # Skåne's sportlov is week 8; påsklov is put at week 15 and höstlov at week 44.
    other_breaks = np.isin(iso_week, (8, 15, 44))
    term_time = (weekday < 5) & ~summer_break & ~christmas_break & ~other_breaks
    return {
        "month": month,
        "weekday": weekday,
        "term_time": term_time,
        "nyar": (month == 12) & (day_of_month == 31),
        "valborg": (month == 4) & (day_of_month == 30),
        "midsommar": (month == 6) & (day_of_month >= 19) & (day_of_month <= 25) & (weekday == 4),
    }


def _day_weights(pattern: Pattern, cal: dict[str, NDArray]) -> NDArray[np.float64]:
    n = cal["month"].size
    w = np.asarray(pattern.months, dtype=float)[cal["month"] - 1] * np.asarray(pattern.weekdays)[cal["weekday"]]
    w = w * (1.0 + pattern.trend * np.linspace(0.0, 1.0, n))
    if pattern.term_time:
        w = w * cal["term_time"]
    for name, factor in pattern.specials.items():
        w = np.where(cal[name], w * factor, w)
    if not w.sum() > 0:
        raise ValueError(f"pattern {pattern.name!r} has no possible day between the given dates")
    return w / w.sum()


def _hour_weights(hours: dict[int, float]) -> NDArray[np.float64]:
    w = np.zeros(24)
    for hour, value in hours.items():
        w[hour] = value
    return w / w.sum()


def _allocate(n: int, shares: NDArray[np.float64]) -> NDArray[np.int64]:
    """Split ``n`` in proportion to ``shares`` (largest remainders), so the parts add up to exactly ``n``."""
    exact = n * shares / shares.sum()
    counts = np.floor(exact).astype(np.int64)
    remainder = n - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def _offset(lon0: NDArray, lat0: NDArray, sigma_m: NDArray, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
    dx = rng.normal(0.0, 1.0, lon0.size) * sigma_m
    dy = rng.normal(0.0, 1.0, lon0.size) * sigma_m
    lat = lat0 + dy / M_PER_DEG_LAT
    lon = lon0 + dx / (M_PER_DEG_LAT * np.cos(np.radians(lat0)))
    return lon, lat


def _locations(
    pattern: Pattern, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Points for ``n`` reports of ``pattern``, all inside its kommun; also which were spread over the countryside."""
    outline = geo.kommun(pattern.kommun).outline
    spots = np.asarray([h.spot for h in pattern.hotspots], dtype=float)
    sigmas = np.asarray([h.sigma_m for h in pattern.hotspots], dtype=float)
    weights = np.asarray([h.weight for h in pattern.hotspots], dtype=float)
    rural = rng.random(n) < pattern.rural
    which = rng.choice(len(spots), size=n, p=weights / weights.sum())
    lon = np.empty(n)
    lat = np.empty(n)
    # Points that fall outside the kommun (or in the sea, which the outline leaves out) are drawn again.
    todo = np.arange(n)
    ring = np.asarray(outline)
    for _ in range(200):
        if todo.size == 0:
            break
        r = rural[todo]
        hot = todo[~r]
        lon[hot], lat[hot] = _offset(spots[which[hot], 0], spots[which[hot], 1], sigmas[which[hot]], rng)
        far = todo[r]
        lon[far] = rng.uniform(ring[:, 0].min(), ring[:, 0].max(), far.size)
        lat[far] = rng.uniform(ring[:, 1].min(), ring[:, 1].max(), far.size)
        todo = todo[~geo.contains(outline, lon[todo], lat[todo])]
    if todo.size:
        lon[todo], lat[todo] = spots[which[todo], 0], spots[which[todo], 1]
    return lon, lat, rural


def _minutes_between(earlier: NDArray[np.datetime64], later: np.datetime64) -> NDArray[np.int64]:
    return later.astype(np.int64) - earlier.astype("datetime64[m]").astype(np.int64)


def _choose(rng: np.random.Generator, options: dict[str, float], n: int) -> NDArray[np.str_]:
    keys = list(options)
    p = np.asarray([options[k] for k in keys], dtype=float)
    return np.asarray(keys)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _plate(rng: np.random.Generator) -> str:
    letters = "".join(_PLATE_LETTERS[i] for i in rng.integers(0, len(_PLATE_LETTERS), 3))
    tail = rng.integers(0, 10, 3)
    last = _PLATE_LETTERS[int(rng.integers(0, len(_PLATE_LETTERS)))] if rng.random() < 0.3 else str(tail[2])
    return f"{letters} {tail[0]}{tail[1]}{last}"


def generate(
    start: dt.date, end: dt.date, *, rng: int | np.random.Generator, n_target: int = 33_000
) -> SyntheticIncidents:
    """Exactly ``n_target`` synthetic reports occurring from ``start`` up to (not including) ``end``.

    The same ``rng`` seed, dates and ``n_target`` give the same reports.
    """
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    if n_target < 0:
        raise ValueError(f"n_target must be zero or more, got {n_target}")
    rng = np.random.default_rng(rng)
    days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
    cal = _calendar(days)
    counts = _allocate(n_target, np.asarray([p.share for p in PATTERNS], dtype=float))

    parts: dict[str, list[NDArray]] = {k: [] for k in ("kommun", "category", "lon", "lat", "occurred", "org", "rural")}
    pattern_idx = []
    for index, (pattern, n) in enumerate(zip(PATTERNS, counts, strict=True)):
        day = rng.choice(days.size, size=n, p=_day_weights(pattern, cal))
        hour = rng.choice(24, size=n, p=_hour_weights(pattern.hours))
        minute = rng.integers(0, 60, n)
        # Hours before dawn belong to the night that began the evening before.
        calendar_day = days[day] + (hour < NIGHT_ENDS).astype("timedelta64[D]")
        occurred = calendar_day.astype("datetime64[m]") + (hour * 60 + minute).astype("timedelta64[m]")
        lon, lat, rural = _locations(pattern, n, rng)
        parts["kommun"].append(np.full(n, pattern.kommun))
        parts["category"].append(_choose(rng, pattern.categories, n))
        parts["lon"].append(lon)
        parts["lat"].append(lat)
        parts["occurred"].append(occurred)
        parts["org"].append(_choose(rng, pattern.organisations, n))
        parts["rural"].append(rural)
        pattern_idx.append(np.full(n, index))
    cols = {k: np.concatenate(v) if v else np.empty(0) for k, v in parts.items()}
    pattern_index = np.concatenate(pattern_idx)
    # Reports that would start after the period (a night past its last evening) are moved back a day.
    period_end = np.datetime64(end, "m")
    occurred = cols["occurred"].astype("datetime64[m]")
    occurred = np.where(occurred >= period_end, occurred - np.timedelta64(1, "D"), occurred)
    order = np.lexsort((pattern_index, occurred))
    n = int(n_target)

    category = cols["category"][order].astype(str)
    organisation = cols["org"][order].astype(str)
    rural = cols["rural"][order].astype(bool)
    occurred = occurred[order]
    pattern_index = pattern_index[order]

    traits = [_TRAITS[c] for c in category]
    severity_p = np.asarray([t.severity for t in traits]).reshape(n, 3)
    cum = np.cumsum(severity_p, axis=1)
    severity = (1 + (rng.random(n)[:, None] > cum / cum[:, -1:]).sum(axis=1)).astype(np.int8)

    def trait(name: str) -> NDArray[np.float64]:
        return np.asarray([getattr(t, name) for t in traits], dtype=float).reshape(n)

    police = organisation == "polis"
    police_reported = police | (rng.random(n) < trait("police_reported"))
    fault_reported = ~police & (rng.random(n) < trait("fault_reported"))
    persons_given = rng.random(n) < trait("persons_given")
    persons = np.where(persons_given, 1 + rng.poisson(np.maximum(trait("persons_mean") - 1, 0)), PERSONS_UNKNOWN)

    windowed = rng.random(n) < trait("window_share")
    lo = np.asarray([t.window_hours[0] for t in traits], dtype=float).reshape(n)
    hi = np.asarray([t.window_hours[1] for t in traits], dtype=float).reshape(n)
    window = np.where(windowed, np.round(60 * rng.uniform(lo, hi)), 0).astype(np.int64)
    # A window may not reach past the end of the period.
    window_minutes = np.minimum(window, _minutes_between(occurred, period_end)).astype(np.int32)

    same_day = rng.random(n) < np.where(police, 1.0, 0.55)
    delay = np.where(same_day, rng.exponential(np.where(police, 60.0, 180.0)), rng.uniform(1440, 7 * 1440, n))
    finished = occurred + window_minutes.astype("timedelta64[m]")
    report_delay = np.minimum(np.round(delay).astype(np.int64), _minutes_between(finished, period_end)).astype(np.int32)

    precision = np.where(
        rural,
        np.where(rng.random(n) < 0.6, "area", "street"),
        np.asarray(["exact", "street", "area"])[rng.choice(3, size=n, p=[0.75, 0.2, 0.05])],
    )

    restricted = police & (rng.random(n) < trait("restricted_if_police"))
    public = ~police & np.isin(category, list(PUBLIC_CATEGORIES)) & (rng.random(n) < 0.25)
    sensitivity = np.where(restricted, "police_restricted", np.where(public, "public", "shared"))

    age_days = _minutes_between(occurred, period_end) / 1440.0
    status = np.empty(n, dtype="<U8")
    lower = -np.inf
    for upper, probabilities in _STATUS_BY_AGE:
        in_band = (age_days > lower) & (age_days <= upper)
        status[in_band] = np.asarray(_STATUSES)[rng.choice(4, size=int(in_band.sum()), p=probabilities)]
        lower = upper

    reporter = np.where(
        organisation == "polis",
        "kommunpolis",
        np.where(organisation == "bostadsbolag", "vardar", np.where(rng.random(n) < 0.25, "samordnare", "rapportor")),
    )

    descriptions = _describe(rng, category, pattern_index, persons)
    recent = np.flatnonzero(age_days <= PERSONAL_DATA_RECENT_DAYS)
    n_personal = min(recent.size, round(PERSONAL_DATA_SHARE * n))
    for i in rng.choice(recent, size=n_personal, replace=False):
        if category[i] in _VEHICLE_CATEGORIES:
            extra = f" Ett av fordonen hade registreringsnummer {_plate(rng)}."
        else:
            extra = f" Ring mig gärna på 070-174 06 {int(rng.integers(5, 100)):02d} om ni vill veta mer."
        descriptions[i] += extra
        status[i] = "new"

    return SyntheticIncidents(
        municipality=cols["kommun"][order].astype(str),
        category=category,
        lon=np.round(cols["lon"][order].astype(float), 6),
        lat=np.round(cols["lat"][order].astype(float), 6),
        occurred=occurred,
        window_minutes=window_minutes,
        report_delay_minutes=report_delay,
        precision=precision.astype(str),
        persons=persons.astype(np.int16),
        severity=severity,
        police_reported=police_reported,
        fault_reported=fault_reported,
        sensitivity=sensitivity.astype(str),
        status=status,
        organisation=organisation,
        reporter=reporter.astype(str),
        pattern=np.asarray([p.name for p in PATTERNS])[pattern_index] if n else np.empty(0, dtype=str),
        description=tuple(descriptions),
    )


def _describe(
    rng: np.random.Generator, category: NDArray[np.str_], pattern_index: NDArray, persons: NDArray
) -> list[str]:
    n = category.size
    template_draw = rng.random(n)
    place_draw = rng.random(n)
    out = []
    for i in range(n):
        templates = _TRAITS[str(category[i])].templates
        if persons[i] == PERSONS_UNKNOWN or persons[i] < 2:
            templates = tuple(t for t in templates if "{n}" not in t) or templates
        places = PATTERNS[int(pattern_index[i])].places
        template = templates[int(template_draw[i] * len(templates))]
        place = places[int(place_draw[i] * len(places))]
        out.append(template.format(plats=place, n=max(int(persons[i]), 2)))
    return out


def local_datetimes(values: NDArray[np.datetime64]) -> list[dt.datetime]:
    """UTC datetimes from local Europe/Stockholm wall-clock times (a time in the spring gap is read as winter
    time, one in the autumn overlap as summer time).

    UTC, so that adding a timedelta adds elapsed time: Python adds to an aware local datetime by the wall clock,
    which across a daylight-saving change can end before it began.
    """
    return [v.replace(tzinfo=STOCKHOLM).astimezone(dt.UTC) for v in values.astype("datetime64[us]").astype(object)]
