"""Yearly figures from outside the reports (survey indices, Kolada key figures) from CSV or Excel files.

Two layouts:

``long`` (the default), one figure a row, with the columns ``kommun`` (SCB code or name), ``område`` (optional: the
name of one of the municipality's current areas; empty for the whole municipality), ``år``, ``källa``
("trygghetsmätning", "kolada", "can", …), ``kod`` ("problemindex", "N07540"), ``namn``, ``värde`` (decimal point or
comma) and ``enhet``; optionally ``riktning`` ("högre är sämre", the default, "högre är bättre" or "neutral") and
``anteckning``.

``kolada``, the wide table of Kolada's N07540 as kept in ``kommun-crime-stats``: ``kommun_kod``, ``kommun``,
``anmalda_brott_per_100k``, ``period``, and optionally ``population_N01951`` and ``population_period``; each row gives
the N07540 figure and, when present, the population (N01951).

Like every import: the whole file is checked first, and any error stops it with every problem listed (row as in
Excel, column, reason) and nothing written. Valid files are upserted on (municipality, area, year, source, code), so
importing the same file twice changes nothing; a dry run reports what would change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from samverkan.imports.base import ImportFailed, ImportSummary, RowError
from samverkan.imports.mapping import normalise
from samverkan.imports.tabular import BadValue, number_of, open_table
from samverkan.places.models import Area, Municipality
from samverkan.situation.models import Polarity, SurveyIndex

FORMATS = ("long", "kolada")
LONG_REQUIRED = ("kommun", "år", "källa", "kod", "namn", "värde")
LONG_OPTIONAL = ("område", "enhet", "riktning", "anteckning")
KOLADA_REQUIRED = ("kommun_kod", "anmalda_brott_per_100k", "period")
KOLADA_OPTIONAL = ("kommun", "population_n01951", "population_period")

# Written the way the columns are most often spelled without Swedish letters.
COLUMN_ALIASES = {"omrade": "område", "ar": "år", "kalla": "källa", "varde": "värde"}
POLARITY_WORDS: dict[str, str] = {
    "": str(Polarity.HIGHER_WORSE),
    "högre är sämre": str(Polarity.HIGHER_WORSE),
    "hogre ar samre": str(Polarity.HIGHER_WORSE),
    "sämre": str(Polarity.HIGHER_WORSE),
    "högre är bättre": str(Polarity.HIGHER_BETTER),
    "hogre ar battre": str(Polarity.HIGHER_BETTER),
    "bättre": str(Polarity.HIGHER_BETTER),
    "neutral": str(Polarity.NEUTRAL),
}
EARLIEST_YEAR, LATEST_YEAR = 1950, 2100
SUPPRESSED = ("..", "…")

KOLADA_CRIME = ("N07540", "Anmälda brott totalt, antal/100 000 inv", "per 100 000 inv.")
KOLADA_POPULATION = ("N01951", "Invånare totalt, antal", "invånare")

SOURCE_ALIASES = {
    "trygghetsmatning": "trygghetsmätning",
    "polisens trygghetsmätning": "trygghetsmätning",
    "polisens trygghetsmatning": "trygghetsmätning",
}


@dataclass(frozen=True)
class _Figure:
    row: int
    municipality_id: int
    area_id: int | None
    year: int
    source: str
    code: str
    name: str
    value: float
    unit: str
    polarity: str
    note: str

    @property
    def key(self) -> tuple[int, int | None, int, str, str]:
        return (self.municipality_id, self.area_id, self.year, self.source, self.code)


def survey_import(
    *,
    path: Path,
    fmt: str = "long",
    dry_run: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> ImportSummary:
    """Import survey indices and key figures from ``path`` (CSV or XLSX) in the layout ``fmt``.

    Raises
    ------
    ImportFailed
        With every problem found (row, column, reason in Swedish); nothing is written then.
    ValueError
        For an unknown ``fmt``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)} (got {fmt!r})")
    required, optional = (LONG_REQUIRED, LONG_OPTIONAL) if fmt == "long" else (KOLADA_REQUIRED, KOLADA_OPTIONAL)
    with open_table(path, encoding=encoding, delimiter=delimiter, expected_columns=(*required, *optional)) as table:
        columns = _columns(table.header, required, optional, table.header_row)
        rows = [(number, list(cells)) for number, cells in table.rows]
    resolver = _Resolver()
    figures: list[_Figure] = []
    errors: list[RowError] = []
    for number, cells in rows:
        values = {name: _cell(cells, index) for name, index in columns.items()}
        if not any(values.values()):
            continue
        try:
            if fmt == "long":
                figures.append(_long_figure(number, values, resolver))
            else:
                figures.extend(_kolada_figures(number, values, resolver))
        except _RowProblems as problems:
            errors.extend(problems.errors)
    seen: dict[tuple, int] = {}
    for figure in figures:
        if figure.key in seen:
            errors.append(
                RowError(
                    figure.row,
                    None,
                    f"samma kommun, område, år, källa och kod ({figure.code}) som rad {seen[figure.key]}",
                )
            )
        else:
            seen[figure.key] = figure.row
    summary = ImportSummary(kind="survey", dry_run=dry_run, total=len(figures))
    if errors:
        summary.rejected = len({e.row for e in errors})
        raise ImportFailed(sorted(errors, key=lambda e: e.row or 0), summary=summary)
    if not figures:
        raise ImportFailed([RowError(None, None, "filen innehåller inga värden")], summary=summary)
    _write(figures, summary, dry_run=dry_run)
    return summary


class _RowProblems(Exception):  # noqa: N818 - carries the problems of one row, not a failure of its own
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors


def _columns(header: Sequence[str], required: Sequence[str], optional: Sequence[str], row: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        name = COLUMN_ALIASES.get(normalise(title), normalise(title))
        if name in (*required, *optional) and name not in found:
            found[name] = index
    missing = [name for name in required if name not in found]
    if missing:
        wanted = ", ".join(required)
        titles = {normalise(title) for title in header}
        hint = " (filen ser ut som Koladas tabell: välj formatet kolada)" if set(KOLADA_REQUIRED) <= titles else ""
        raise ImportFailed(
            [RowError(row, name, f"kolumnen saknas; filen behöver kolumnerna {wanted}{hint}") for name in missing]
        )
    return found


def _cell(cells: Sequence[Any], index: int) -> str:
    if index >= len(cells) or cells[index] is None:
        return ""
    value = cells[index]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Resolver:
    """Municipalities by SCB code or name, areas by name within a municipality; looked up once each."""

    def __init__(self) -> None:
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        for pk, code, name in Municipality.objects.values_list("pk", "code", "name"):
            self.by_code[code] = pk
            self.by_name[normalise(name)] = pk
        self.areas: dict[int, dict[str, list[int]]] = {}

    def municipality(self, text: str) -> int:
        if text.isdigit():
            pk = self.by_code.get(text.zfill(4))
            if pk is None:
                raise BadValue(f"okänd kommunkod {text!r} (SCB:s fyrsiffriga kod, t.ex. 1286 för Ystad)")
            return pk
        key = normalise(text)
        for candidate in (key, key.removesuffix(" kommun"), key.removesuffix("s kommun"), key.removesuffix(" stad")):
            if candidate in self.by_name:
                return self.by_name[candidate]
        raise BadValue(f"okänd kommun {text!r}; ange SCB-kod (t.ex. 1286) eller namn (t.ex. Ystad)")

    def area(self, municipality_id: int, text: str) -> int:
        names = self.areas.get(municipality_id)
        if names is None:
            names = {}
            for pk, name in Area.objects.current().filter(municipality_id=municipality_id).values_list("pk", "name"):
                names.setdefault(normalise(name), []).append(pk)
            self.areas[municipality_id] = names
        ids = names.get(normalise(text), [])
        if not ids:
            raise BadValue(f"kommunen har inget aktuellt område som heter {text!r}")
        if len(ids) > 1:
            raise BadValue(f"kommunen har {len(ids)} aktuella områden som heter {text!r}; byt namn på ett av dem")
        return ids[0]


def _year(text: str) -> int:
    if not text:
        raise BadValue("året saknas")
    try:
        year = int(text)
    except ValueError:
        raise BadValue(f"ogiltigt år {text!r} – skriv t.ex. 2025") from None
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise BadValue(f"orimligt år {year} (väntat {EARLIEST_YEAR}–{LATEST_YEAR})")
    return year


def _value(text: str) -> float:
    if not text:
        raise BadValue("värdet saknas")
    if text in SUPPRESSED:
        raise BadValue(f"värdet är undertryckt ({text!r}); ta bort raden eller ange ett värde")
    return number_of(text)


def _long_figure(number: int, values: dict[str, str], resolver: _Resolver) -> _Figure:
    errors: list[RowError] = []

    def check(column: str, read):
        try:
            return read(values.get(column, ""))
        except BadValue as exc:
            errors.append(RowError(number, column, str(exc)))
            return None

    def required_text(text: str) -> str:
        if not text:
            raise BadValue("värdet saknas")
        return text

    def polarity(text: str) -> str:
        word = normalise(text)
        if word not in POLARITY_WORDS:
            raise BadValue(f"okänd riktning {text!r}; skriv 'högre är sämre', 'högre är bättre' eller 'neutral'")
        return POLARITY_WORDS[word]

    municipality_id = check("kommun", resolver.municipality)
    area_id = None
    if values.get("område") and municipality_id is not None:
        area_id = check("område", lambda text: resolver.area(municipality_id, text))
    year = check("år", _year)
    source = check("källa", lambda text: _source(required_text(text)))
    code = check("kod", required_text)
    name = check("namn", required_text)
    value = check("värde", _value)
    chosen = check("riktning", polarity)
    if errors:
        raise _RowProblems(errors)
    return _Figure(
        number,
        municipality_id,
        area_id,
        year,
        source,
        code,
        name,
        value,
        values.get("enhet", ""),
        chosen,
        values.get("anteckning", ""),
    )


def _source(text: str) -> str:
    key = normalise(text)
    return SOURCE_ALIASES.get(key, key)


def _kolada_figures(number: int, values: dict[str, str], resolver: _Resolver) -> list[_Figure]:
    errors: list[RowError] = []
    results: dict[str, Any] = {}
    readers = {
        "kommun_kod": resolver.municipality,
        "period": _year,
        "anmalda_brott_per_100k": _value,
    }
    has_population = bool(values.get("population_n01951"))
    if has_population:
        readers["population_n01951"] = _value
        readers["population_period"] = lambda text: _year(text or values.get("period", ""))
    for column, read in readers.items():
        try:
            results[column] = read(values.get(column, ""))
        except BadValue as exc:
            errors.append(RowError(number, column, str(exc)))
    if errors:
        raise _RowProblems(errors)
    municipality_id = results["kommun_kod"]
    code, name, unit = KOLADA_CRIME
    figures = [
        _Figure(
            number,
            municipality_id,
            None,
            results["period"],
            "kolada",
            code,
            name,
            results["anmalda_brott_per_100k"],
            unit,
            str(Polarity.HIGHER_WORSE),
            "",
        )
    ]
    if has_population:
        code, name, unit = KOLADA_POPULATION
        figures.append(
            _Figure(
                number,
                municipality_id,
                None,
                results["population_period"],
                "kolada",
                code,
                name,
                results["population_n01951"],
                unit,
                str(Polarity.NEUTRAL),
                "",
            )
        )
    return figures


FIELDS = ("name", "value", "unit", "polarity", "note")


def _write(figures: list[_Figure], summary: ImportSummary, *, dry_run: bool) -> None:
    municipality_ids = {f.municipality_id for f in figures}
    years = {f.year for f in figures}
    existing = {
        (s.municipality_id, s.area_id, s.year, s.source, s.code): s
        for s in SurveyIndex.objects.filter(municipality_id__in=municipality_ids, year__in=years)
    }
    to_create: list[SurveyIndex] = []
    to_update: list[SurveyIndex] = []
    for f in figures:
        current = existing.get(f.key)
        if current is None:
            to_create.append(
                SurveyIndex(
                    municipality_id=f.municipality_id,
                    area_id=f.area_id,
                    year=f.year,
                    source=f.source,
                    code=f.code,
                    **{name: getattr(f, name) for name in FIELDS},
                )
            )
        elif any(getattr(current, name) != getattr(f, name) for name in FIELDS):
            for name in FIELDS:
                setattr(current, name, getattr(f, name))
            to_update.append(current)
        else:
            summary.unchanged += 1
    summary.created, summary.updated = len(to_create), len(to_update)
    if dry_run:
        return
    with transaction.atomic():
        SurveyIndex.objects.bulk_create(to_create, batch_size=1000)
        SurveyIndex.objects.bulk_update(to_update, FIELDS, batch_size=1000)
