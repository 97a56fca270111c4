"""The TOML mapping that tells the CSV/Excel importer which column holds what (see ``docs/import-mapping.md``).

Municipal exports differ in column names, codes and formats; the differences live in a mapping file per source, not
in code. This module only parses and checks the file's structure; names that must exist in the database
(organisation, municipality, category codes) are resolved by the importer.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samverkan.imports.base import ImportFailed, RowError

# Keys of [columns]: what the importer reads from a column, with a Swedish description for messages and docs.
COLUMN_KEYS: dict[str, str] = {
    "external_id": "radens id i källsystemet (för omimport)",
    "category": "kategori",
    "date": "datum, eller datum och tid",
    "datetime": "datum och tid (samma som date)",
    "time": "klockslag",
    "end_date": "slutdatum för ett tidsfönster",
    "end_time": "sluttid, eller slutdatum och tid",
    "reported_at": "när rapporten lämnades",
    "lat": "latitud (WGS84, grader)",
    "lon": "longitud (WGS84, grader)",
    "x": "östlig koordinat (SWEREF 99 TM, meter)",
    "y": "nordlig koordinat (SWEREF 99 TM, meter)",
    "place": "platsnamn (områdets namn i kommunen)",
    "description": "beskrivning",
    "persons": "ungefärligt antal personer",
    "severity": "allvarlighetsgrad 1–3",
    "police_reported": "polisanmäld (ja/nej)",
    "fault_reported": "felanmäld (ja/nej)",
    "status": "status",
    "municipality": "kommun (SCB-kod eller namn)",
}

TOP_KEYS = {
    "source_key",
    "organisation",
    "municipality",
    "sensitivity",
    "status",
    "default_category",
    "precision",
    "file",
    "columns",
    "categories",
}
FILE_KEYS = {"encoding", "delimiter", "sheet"}

ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "cp1252": "cp1252"}
ENCODINGS.update({"windows-1252": "cp1252", "ansi": "cp1252"})
DELIMITERS = {";": ";", ",": ",", "\t": "\t", "tab": "\t"}

# Codes and the Swedish words people write for them.
SENSITIVITIES = {
    "public": "public",
    "offentlig": "public",
    "shared": "shared",
    "delad": "shared",
    "police_restricted": "police_restricted",
    "endast polis": "police_restricted",
}
STATUSES = {
    "new": "new",
    "ny": "new",
    "reviewed": "reviewed",
    "granskad": "reviewed",
    "acted_on": "acted_on",
    "åtgärdad": "acted_on",
    "closed": "closed",
    "avslutad": "closed",
    "stängd": "closed",
}
# A file gives a point either way; "area" and "municipality" follow from how the row is placed.
POINT_PRECISIONS = {"exact", "street"}

SOURCE_KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")


def normalise(value: str) -> str:
    """How source values are compared: case, surrounding and repeated spaces do not matter."""
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class Mapping:
    name: str
    source_key: str
    organisation: str
    columns: dict[str, str]
    municipality: str | None = None
    sensitivity: str = "shared"
    status: str | None = None
    default_category: str | None = None
    precision: str = "exact"
    # Normalised source value → category code.
    categories: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    @property
    def coordinates(self) -> str | None:
        """ "wgs84" when the file has lat/lon, "sweref99tm" when it has x/y, None when rows are placed by name."""
        if "lat" in self.columns:
            return "wgs84"
        if "x" in self.columns:
            return "sweref99tm"
        return None

    def column(self, key: str) -> str | None:
        return self.columns.get(key)


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; raises :class:`ImportFailed` listing every problem."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ImportFailed([RowError(None, None, f"mappningsfilen {str(path)!r} finns inte")]) from None
    except UnicodeDecodeError:
        raise ImportFailed([RowError(None, None, f"mappningsfilen {path.name!r} är inte sparad som UTF-8")]) from None
    except OSError as exc:
        raise ImportFailed(
            [RowError(None, None, f"mappningsfilen {path.name!r} går inte att läsa: {exc.strerror}")]
        ) from None
    return parse_mapping(text, name=path.name)


def parse_mapping(text: str, *, name: str = "mappningen") -> Mapping:
    """Parse mapping TOML (from a file or an upload); raises :class:`ImportFailed` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportFailed([RowError(None, None, f"{name} är inte giltig TOML: {exc}")]) from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ImportFailed(
            [RowError(None, None, f"{name} är inte giltig TOML: listor eller tabeller i för många nivåer")]
        ) from None
    problems: list[str] = []
    mapping = _check(data, problems)
    if problems:
        raise ImportFailed([RowError(None, None, f"{name}: {p}") for p in problems])
    assert mapping is not None
    return Mapping(name=name, **mapping)


def _text(
    data: dict[str, Any], key: str, problems: list[str], *, where: str = "", required: bool = False
) -> str | None:
    label = f"{where}{key}"
    if key not in data:
        if required:
            problems.append(f"{label} saknas")
        return None
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{label} ska vara en text inom citattecken, inte {value!r}")
        return None
    if "\x00" in value:  # TOML allows "\u0000"; no database stores it in text
        problems.append(f"{label} innehåller ett nolltecken (\\u0000)")
        return None
    return value.strip()


def _check(data: dict[str, Any], problems: list[str]) -> dict[str, Any] | None:
    for key in sorted(set(data) - TOP_KEYS):
        problems.append(f"okänd nyckel {key!r} (kända: {', '.join(sorted(TOP_KEYS))})")
    out: dict[str, Any] = {}

    source_key = _text(data, "source_key", problems, required=True)
    if source_key is not None:
        if not SOURCE_KEY.fullmatch(source_key):
            problems.append(
                f"source_key {source_key!r} får bara innehålla små bokstäver a–z, siffror, punkt, bindestreck och "
                'understreck (högst 60 tecken), t.ex. "ystad-est-2024"'
            )
        out["source_key"] = source_key
    organisation = _text(data, "organisation", problems, required=True)
    if organisation is not None:
        out["organisation"] = organisation

    sensitivity = _text(data, "sensitivity", problems)
    if sensitivity is not None:
        if normalise(sensitivity) not in SENSITIVITIES:
            problems.append(f"sensitivity {sensitivity!r} är okänd (public, shared eller police_restricted)")
        else:
            out["sensitivity"] = SENSITIVITIES[normalise(sensitivity)]
    status = _text(data, "status", problems)
    if status is not None:
        if normalise(status) not in STATUSES:
            problems.append(f"status {status!r} är okänd (new, reviewed, acted_on eller closed)")
        else:
            out["status"] = STATUSES[normalise(status)]
    precision = _text(data, "precision", problems)
    if precision is not None:
        if precision not in POINT_PRECISIONS:
            problems.append(f"precision {precision!r} är okänd (exact eller street)")
        else:
            out["precision"] = precision
    default_category = _text(data, "default_category", problems)
    if default_category is not None:
        out["default_category"] = default_category

    file = data.get("file", {})
    if not isinstance(file, dict):
        problems.append("[file] ska vara en tabell")
        file = {}
    for key in sorted(set(file) - FILE_KEYS):
        problems.append(f"[file]: okänd nyckel {key!r} (kända: {', '.join(sorted(FILE_KEYS))})")
    encoding = _text(file, "encoding", problems, where="[file] ")
    if encoding is not None and encoding.lower() != "auto":
        if encoding.lower() not in ENCODINGS:
            problems.append(f"[file] encoding {encoding!r} stöds inte (utf-8, cp1252 eller auto)")
        else:
            out["encoding"] = ENCODINGS[encoding.lower()]
    delimiter = file.get("delimiter")
    if delimiter is not None and delimiter != "auto":
        if not isinstance(delimiter, str) or delimiter.lower() not in DELIMITERS:
            problems.append(f'[file] delimiter {delimiter!r} stöds inte (";", ",", "tab" eller "auto")')
        else:
            out["delimiter"] = DELIMITERS[delimiter.lower()]
    sheet = _text(file, "sheet", problems, where="[file] ")
    if sheet is not None:
        out["sheet"] = sheet

    columns = _check_columns(data, problems)
    out["columns"] = columns
    municipality = data.get("municipality")
    if municipality is not None:
        if isinstance(municipality, int):
            municipality = f"{municipality:04d}"
        if not isinstance(municipality, str) or not municipality.strip():
            problems.append(f"municipality ska vara en SCB-kod eller ett kommunnamn, inte {municipality!r}")
        else:
            out["municipality"] = municipality.strip()
    if ("municipality" in out) == ("municipality" in columns):
        problems.append(
            'ange kommunen antingen som municipality = "1286" (eller namnet) eller som en kolumn i [columns], '
            "inte båda och inte ingen"
        )
    if "category" not in columns and default_category is None:
        problems.append("[columns] category saknas (eller ange default_category)")

    categories = data.get("categories", {})
    out["categories"] = {}
    if not isinstance(categories, dict):
        problems.append("[categories] ska vara en tabell med källvärde = kategorikod")
    else:
        originals: dict[str, str] = {}
        for source_value, code in categories.items():
            if not isinstance(code, str) or not code.strip():
                problems.append(f"[categories] {source_value!r} ska peka på en kategorikod inom citattecken")
                continue
            key = normalise(source_value)
            if key in originals and out["categories"][key] != code.strip():
                problems.append(
                    f"[categories] {originals[key]!r} och {source_value!r} räknas som samma värde men pekar på "
                    "olika koder"
                )
                continue
            originals[key] = source_value
            out["categories"][key] = code.strip()
    return out


def _check_columns(data: dict[str, Any], problems: list[str]) -> dict[str, str]:
    raw = data.get("columns")
    if not isinstance(raw, dict):
        problems.append("[columns] saknas: tabellen som säger vilken kolumn i filen som innehåller vad")
        return {}
    columns: dict[str, str] = {}
    for key in sorted(set(raw) - set(COLUMN_KEYS)):
        problems.append(f"[columns]: okänd nyckel {key!r} (kända: {', '.join(COLUMN_KEYS)})")
    for key in COLUMN_KEYS:
        value = _text(raw, key, problems, where="[columns] ")
        if value is not None:
            columns[key] = value
    if "datetime" in columns:
        if "date" in columns:
            problems.append("[columns]: ange date eller datetime, inte båda")
        else:
            columns["date"] = columns.pop("datetime")
    if "date" not in columns:
        problems.append("[columns] date (eller datetime) saknas")
    if "time" in columns and "date" in columns and columns["time"] == columns["date"]:
        problems.append(
            "[columns]: time pekar på samma kolumn som date; ta bort time om kolumnen har både datum och tid"
        )
    if "end_date" in columns and "end_time" not in columns:
        problems.append("[columns]: end_date kräver end_time")
    pairs = {"lat": "lon", "lon": "lat", "x": "y", "y": "x"}
    for key, other in pairs.items():
        if key in columns and other not in columns:
            problems.append(f"[columns]: {key} kräver {other}")
    if ("lat" in columns or "lon" in columns) and ("x" in columns or "y" in columns):
        problems.append("[columns]: ange lat/lon (WGS84) eller x/y (SWEREF 99 TM), inte båda")
    if not ({"lat", "x", "place"} & set(columns)):
        problems.append("[columns]: ange var det hände: lat och lon, x och y, eller place (ett områdesnamn)")
    return columns
