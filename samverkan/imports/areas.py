"""Areas from GeoJSON or GeoPackage: read and check every feature, then create, version or leave each area, and
link the reports to the area versions valid on the day they happened.

An area's identity is (municipality, kind, code — or the name when there is no code). An area whose geometry and
name are unchanged is left alone; a changed one gets a new version from ``valid_from`` (the old one ends that day,
as in mySociety's MapIt: boundaries are never overwritten). Current areas of the same kind and municipality that
the file lacks are reported and, only when asked, ended.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from django.db import transaction
from django.utils import timezone
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from samverkan.imports.base import ImportFailed, ImportSummary, Progress, RowError, no_progress
from samverkan.incidents.models import Incident, Precision
from samverkan.places.geo import SWEDEN_LAT, SWEDEN_LON, contains_points
from samverkan.places.models import Area, AreaKind, Municipality
from samverkan.places.services import area_create, area_replace
from samverkan.situation.services import daily_counts_rebuild

# 1e-7 degrees is about 1 cm: finer than any boundary we get, coarse enough to absorb reprojection noise.
PRECISION_DEGREES = 1e-7
POINT_PRECISIONS = (Precision.EXACT, Precision.STREET)
# Kinds whose SCB codes begin with the four-digit kommun code (DeSO "1286A0010", RegSO "1286R001").
KINDS_WITH_KOMMUN_CODE = (AreaKind.DESO, AreaKind.REGSO)
# SWEREF 99 TM eastings and northings of Sweden with a margin: numbers like these in a WGS84 file are a wrong CRS.
SWEREF_E = (150_000.0, 1_000_000.0)
SWEREF_N = (6_000_000.0, 7_800_000.0)
_KOMMUN_PREFIX = re.compile(r"^(\d{4})")
_CHUNK = 500
NAME_MAX = Area._meta.get_field("name").max_length
CODE_MAX = Area._meta.get_field("code").max_length


@dataclass(frozen=True)
class AreaFeature:
    """One checked feature of the file: a valid (multi)polygon in WGS84 with its name, code and municipality."""

    row: int
    name: str
    code: str
    municipality: Municipality
    geometry: BaseGeometry

    @property
    def key(self) -> tuple[int, str]:
        return (self.municipality.pk, self.code or self.name)


@dataclass
class AreaFile:
    features: list[AreaFeature]
    fields: list[str]
    crs: str
    notes: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    """A field value as text; integral numbers without ".0" (codes stored as numbers), missing values as ""."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        if float(value).is_integer():
            return str(int(value))
    return str(value).strip()


def _pick_field(fields: Sequence[str], wanted: str, option: str) -> tuple[str | None, RowError | None]:
    """The file's field called ``wanted`` (exactly, else ignoring case), or an error listing the fields found."""
    if wanted in fields:
        return wanted, None
    folded = [f for f in fields if f.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0], None
    found = ", ".join(fields) if len(fields) else "(inga)"
    return None, RowError(None, wanted, f"Fältet ({option}) finns inte i filen. Fält som finns: {found}.")


def municipality_lookup() -> dict[str, Municipality]:
    """Every municipality by SCB code and by name in lower case ("ystad", "ystads kommun" too)."""
    lookup: dict[str, Municipality] = {}
    for municipality in Municipality.objects.all():
        name = municipality.name.casefold()
        genitive = name if name.endswith("s") else f"{name}s"
        for key in (municipality.code, name, f"{name} kommun", f"{genitive} kommun"):
            lookup.setdefault(key, municipality)
    return lookup


def _find_municipality(value: str, lookup: dict[str, Municipality]) -> Municipality | None:
    value = value.strip()
    if value.isdigit() and len(value) <= 4:
        value = value.zfill(4)
    return lookup.get(value) or lookup.get(value.casefold())


# GDAL hands the text over as it is in the file, and GeoJSON is UTF-8 by definition (RFC 7946).
_NOT_UTF8 = "Texten i filen är inte kodad som UTF-8 (t.ex. sparad som Windows-1252). Spara filen som UTF-8."


def _open(path: Path, layer: str | None) -> tuple[dict[str, Any], np.ndarray, list[np.ndarray], str]:
    """Meta data, WKB geometries, field arrays and driver of the layer; raises ImportFailed when unreadable."""
    if not path.is_file():
        raise ImportFailed([RowError(None, None, f"Filen finns inte: {path}")])
    try:
        layers = pyogrio.list_layers(path)
    except UnicodeDecodeError:
        raise ImportFailed([RowError(None, None, _NOT_UTF8)]) from None
    except (RuntimeError, OSError) as exc:
        raise ImportFailed(
            [RowError(None, None, f"Filen kunde inte läsas som GeoJSON eller GeoPackage ({exc}).")]
        ) from None
    spatial = [str(name) for name, geometry_type in layers if geometry_type is not None]
    if layer is None:
        if len(spatial) > 1:
            names = ", ".join(spatial)
            raise ImportFailed([RowError(None, None, f"Filen har flera lager ({names}); välj ett med --layer.")])
        layer = spatial[0] if spatial else None
    elif layer not in [str(name) for name, _ in layers]:
        names = ", ".join(spatial) or "(inga)"
        raise ImportFailed([RowError(None, None, f"Lagret {layer!r} finns inte i filen. Lager med geometri: {names}.")])
    try:
        info = pyogrio.read_info(path, layer=layer)
        meta, _fids, geometry, field_data = pyogrio.raw.read(path, layer=layer, force_2d=True)
    except UnicodeDecodeError:
        raise ImportFailed([RowError(None, None, _NOT_UTF8)]) from None
    except (RuntimeError, OSError) as exc:
        raise ImportFailed([RowError(None, None, f"Filen kunde inte läsas ({exc}).")]) from None
    return meta, geometry, list(field_data), str(info.get("driver") or "")


def _source_crs(crs_text: str | None, driver: str) -> CRS:
    # GeoJSON is WGS84 by definition (RFC 7946) when it names no CRS; any other format must name one.
    if not crs_text:
        if driver.casefold() == "geojson":
            return CRS.from_epsg(4326)
        raise ImportFailed(
            [
                RowError(
                    None,
                    None,
                    "Filen anger inget koordinatsystem. Spara den med koordinatsystemet angivet "
                    "(SCB:s DeSO- och RegSO-filer är i SWEREF 99 TM, EPSG:3006).",
                )
            ]
        )
    try:
        return CRS.from_user_input(crs_text)
    except CRSError:
        raise ImportFailed([RowError(None, None, f"Filens koordinatsystem känns inte igen: {crs_text}.")]) from None


def _is_wgs84(crs: CRS) -> bool:
    return crs.equals(CRS.from_epsg(4326), ignore_axis_order=True)


def _to_wgs84(geoms: np.ndarray, crs: CRS) -> np.ndarray:
    if _is_wgs84(crs):
        return geoms
    transformer = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, project)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """A repaired geometry's polygon parts (repair can leave lines or points beside them)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _looks_like_sweref(bounds: np.ndarray) -> bool:
    return bool(
        SWEREF_E[0] <= bounds[0] <= SWEREF_E[1]
        and SWEREF_E[0] <= bounds[2] <= SWEREF_E[1]
        and SWEREF_N[0] <= bounds[1] <= SWEREF_N[1]
        and SWEREF_N[0] <= bounds[3] <= SWEREF_N[1]
    )


def read_area_file(
    path: str | Path,
    *,
    kind: str,
    name_field: str,
    code_field: str | None = None,
    municipality: str | None = None,
    municipality_field: str | None = None,
    layer: str | None = None,
) -> AreaFile:
    """Read and check every feature of a GeoJSON or GeoPackage file; raise ImportFailed listing every problem.

    Rows in errors are feature numbers starting at 1.
    """
    path = Path(path)
    errors: list[RowError] = []
    notes: list[str] = []
    if kind not in AreaKind.values:
        raise ImportFailed(
            [RowError(None, "--kind", f"Okänd områdestyp {kind!r}; välj bland {', '.join(AreaKind.values)}.")]
        )
    if municipality and municipality_field:
        raise ImportFailed(
            [RowError(None, "--municipality", "Ange antingen --municipality eller --municipality-field, inte båda.")]
        )
    derive = not municipality and not municipality_field
    if derive and kind not in KINDS_WITH_KOMMUN_CODE:
        raise ImportFailed(
            [RowError(None, "--municipality", "Ange kommunen med --municipality eller --municipality-field.")]
        )
    lookup = municipality_lookup()
    constant = None
    if municipality:
        constant = _find_municipality(municipality, lookup)
        if constant is None:
            raise ImportFailed([RowError(None, "--municipality", f"Okänd kommun: {municipality!r}.")])

    meta, wkb, field_data, driver = _open(path, layer)
    fields = [str(f) for f in meta["fields"]]
    n = len(wkb)
    if n == 0:
        raise ImportFailed([RowError(None, None, "Filen innehåller inga objekt.")])
    crs = _source_crs(meta.get("crs"), driver)

    columns: dict[str, np.ndarray] = {}
    for option, wanted in (
        ("--name-field", name_field),
        ("--code-field", code_field),
        ("--municipality-field", municipality_field),
    ):
        if not wanted:
            continue
        found, error = _pick_field(fields, wanted, option)
        if error:
            errors.append(error)
        else:
            columns[option] = field_data[fields.index(found)]
    if errors:
        raise ImportFailed(errors)
    names = [_text(v) for v in columns["--name-field"]]
    codes = [_text(v) for v in columns["--code-field"]] if code_field else [""] * n

    raw = np.empty(n, dtype=object)
    unreadable: set[int] = set()
    for i, blob in enumerate(wkb):
        try:
            raw[i] = shapely.from_wkb(blob) if blob is not None else None
        except GEOSException:
            errors.append(RowError(i + 1, None, "Geometrin kan inte läsas."))
            unreadable.add(i)
    usable = np.array(
        [g is not None and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon") for g in raw], dtype=bool
    )
    for i, geom in enumerate(raw):
        if geom is None or geom.is_empty:
            if i not in unreadable:
                errors.append(RowError(i + 1, None, "Geometri saknas."))
        elif not usable[i]:
            errors.append(
                RowError(i + 1, None, f"Geometrin är {geom.geom_type}; bara Polygon och MultiPolygon kan bli områden.")
            )

    geoms = np.empty(n, dtype=object)
    geoms[usable] = _to_wgs84(np.asarray(raw[usable]), crs) if usable.any() else []
    if usable.any():
        # NaN hides from the bounds below and makes GEOS fail later; a failed reprojection gives Infinity.
        coordinates, owner = shapely.get_coordinates(np.asarray(geoms[usable]), return_index=True)
        for i in np.flatnonzero(usable)[np.unique(owner[~np.isfinite(coordinates).all(axis=1)])]:
            errors.append(
                RowError(
                    int(i) + 1,
                    None,
                    "Geometrin har koordinater som inte är ändliga tal (NaN eller oändliga), i filen eller efter "
                    "omräkningen från filens koordinatsystem.",
                )
            )
            usable[i] = False
    bounds = np.full((n, 4), np.nan)
    if usable.any():
        bounds[usable] = shapely.bounds(np.asarray(geoms[usable]))
    inside = (
        (bounds[:, 0] >= SWEDEN_LON[0])
        & (bounds[:, 2] <= SWEDEN_LON[1])
        & (bounds[:, 1] >= SWEDEN_LAT[0])
        & (bounds[:, 3] <= SWEDEN_LAT[1])
    )
    outside = usable & ~inside
    if outside.any() and _is_wgs84(crs) and all(_looks_like_sweref(b) for b in bounds[outside]):
        errors.insert(
            0,
            RowError(
                None,
                None,
                "Koordinaterna ser ut att vara SWEREF 99 TM men filen anger WGS84. Spara filen med rätt "
                "koordinatsystem (EPSG:3006), till exempel som GeoPackage.",
            ),
        )
    for i in np.flatnonzero(outside):
        lo_x, lo_y, hi_x, hi_y = bounds[i]
        errors.append(
            RowError(
                int(i) + 1,
                None,
                f"Området ligger utanför Sverige (longitud {lo_x:.4f}–{hi_x:.4f}, latitud {lo_y:.4f}–{hi_y:.4f}).",
            )
        )

    repaired: list[int] = []
    features: list[AreaFeature] = []
    first_row: dict[tuple[int, str], int] = {}
    derived_example = ""
    mun_values = [_text(v) for v in columns["--municipality-field"]] if municipality_field else None
    for i in range(n):
        row = i + 1
        name, code = names[i], codes[i]
        found_before = len(errors)
        if not name:
            errors.append(RowError(row, name_field, "Namn saknas."))
        elif len(name) > NAME_MAX:
            errors.append(RowError(row, name_field, f"Namnet är längre än {NAME_MAX} tecken."))
        if len(code) > CODE_MAX:
            errors.append(RowError(row, code_field, f"Koden är längre än {CODE_MAX} tecken."))
        if constant is not None:
            owner: Municipality | None = constant
        elif mun_values is not None:
            owner = _find_municipality(mun_values[i], lookup) if mun_values[i] else None
            if owner is None:
                message = f"Okänd kommun: {mun_values[i]!r}." if mun_values[i] else "Kommun saknas."
                errors.append(RowError(row, municipality_field, message))
        else:
            source_field, source = (code_field, code) if code else (name_field, name)
            match = _KOMMUN_PREFIX.match(source)
            owner = lookup.get(match.group(1)) if match else None
            if owner is None:
                errors.append(
                    RowError(
                        row,
                        source_field,
                        f"Kommunen kan inte härledas ur {source!r} (koden ska börja med kommunkoden, t.ex. "
                        "1286A0010); ange --municipality eller --municipality-field.",
                    )
                )
            elif not derived_example:
                derived_example = f"{source} → {owner.code} {owner.name}"
        if len(errors) > found_before or not usable[i] or not inside[i] or owner is None:
            continue
        geom = geoms[i]
        if not geom.is_valid:
            geom = _polygonal(shapely.make_valid(geom))
            repaired.append(row)
        geom = shapely.set_precision(geom, PRECISION_DEGREES)
        if geom.is_empty or geom.area == 0:
            errors.append(RowError(row, None, "Geometrin har ingen yta."))
            continue
        feature = AreaFeature(row=row, name=name, code=code, municipality=owner, geometry=geom)
        if feature.key in first_row:
            what = f"koden {code!r}" if code else f"namnet {name!r}"
            errors.append(
                RowError(
                    row,
                    code_field if code else name_field,
                    f"Samma {what} finns redan på rad {first_row[feature.key]}.",
                )
            )
            continue
        first_row[feature.key] = row
        features.append(feature)
    if errors:
        errors.sort(key=lambda e: (e.row is not None, e.row or 0))
        raise ImportFailed(errors)
    if derived_example:
        notes.append(f"Kommunen härleddes ur de fyra första siffrorna i koden (t.ex. {derived_example}).")
    if repaired:
        shown = ", ".join(str(r) for r in repaired[:20]) + (" …" if len(repaired) > 20 else "")
        what = "ogiltig geometri reparerades" if len(repaired) == 1 else "ogiltiga geometrier reparerades"
        notes.append(f"{len(repaired)} {what} (objekt {shown}).")
    return AreaFile(features=features, fields=fields, crs=crs.to_string(), notes=notes)


def geojson_of(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON with exterior rings counter-clockwise, as RFC 7946 asks."""
    return json.loads(shapely.to_geojson(shapely.orient_polygons(geom, exterior_cw=False)))


def same_geometry(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Equal up to ring orientation, start vertex and part order, within about a centimetre."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=PRECISION_DEGREES))


@dataclass
class _Change:
    """A new area version (``feature``) replacing ``old`` (None when new), or ``old`` ended (``feature`` None)."""

    municipality_id: int
    feature: AreaFeature | None
    old: Area | None
    geojson: dict[str, Any] | None = None
    new: Area | None = None


def _start_of(day: dt.date) -> dt.datetime:
    """The first instant of ``day`` in local time (Europe/Stockholm): reports from then on belong to it."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _relink(changes: list[_Change], *, valid_from: dt.date, write: bool) -> int:
    """Link reports from ``valid_from`` on to the new area versions instead of the old ones; return how many
    reports' links change.

    Reports with a point (exact or street precision) are tested against each new geometry; reports placed only at
    area level follow their area to its new version. Reports before ``valid_from`` keep the old links.
    """
    Link = Incident.areas.through
    start = _start_of(valid_from)
    affected: set[int] = set()
    by_municipality: dict[int, list[_Change]] = defaultdict(list)
    for change in changes:
        by_municipality[change.municipality_id].append(change)
    for municipality_id, group in by_municipality.items():
        points = np.array(
            Incident.objects.filter(
                municipality_id=municipality_id, precision__in=POINT_PRECISIONS, occurred_from__gte=start
            ).values_list("id", "lon", "lat"),
            dtype=float,
        ).reshape(-1, 3)
        ids, lon, lat = points[:, 0].astype(np.int64), points[:, 1], points[:, 2]
        old_ids = [c.old.pk for c in group if c.old is not None]
        old_links: list[tuple[int, int, str]] = []
        for chunk in _chunks(old_ids):
            old_links.extend(
                Link.objects.filter(area_id__in=chunk, incident__occurred_from__gte=start).values_list(
                    "incident_id", "area_id", "incident__precision"
                )
            )
        new_links: list[tuple[int, _Change]] = []
        for change in group:
            if change.geojson is None:
                continue
            bounds = change.feature.geometry.bounds  # type: ignore[union-attr]
            in_box = (lon >= bounds[0]) & (lon <= bounds[2]) & (lat >= bounds[1]) & (lat <= bounds[3])
            if in_box.any():
                idx = np.flatnonzero(in_box)
                hits = idx[contains_points(change.geojson, lon[idx], lat[idx])]
                new_links.extend((int(ids[i]), change) for i in hits)
        successor = {c.old.pk: c for c in group if c.old is not None and c.geojson is not None}
        for incident_id, area_id, precision in old_links:
            if precision not in POINT_PRECISIONS and area_id in successor:
                new_links.append((incident_id, successor[area_id]))
        affected.update(incident_id for incident_id, _area_id, _precision in old_links)
        affected.update(incident_id for incident_id, _change in new_links)
        if write:
            for chunk in _chunks(old_ids):
                Link.objects.filter(area_id__in=chunk, incident__occurred_from__gte=start).delete()
            Link.objects.bulk_create(
                [Link(incident_id=i, area_id=c.new.pk) for i, c in new_links],  # type: ignore[union-attr]
                batch_size=_CHUNK,
                ignore_conflicts=True,
            )
    return len(affected)


def _areas(count: int) -> str:
    return "1 område" if count == 1 else f"{count} områden"


def _area_end(area: Area, day: dt.date) -> None:
    area.valid_to = day
    area.full_clean()
    area.save(update_fields=["valid_to"])


def areas_import(
    *,
    path: str | Path,
    kind: str,
    name_field: str,
    code_field: str | None = None,
    municipality: str | None = None,
    municipality_field: str | None = None,
    valid_from: dt.date | None = None,
    layer: str | None = None,
    end_missing: bool = False,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportSummary:
    """Import areas of one ``kind`` from a GeoJSON or GeoPackage file (see the module docstring for the rules).

    ``municipality`` (SCB code or name) applies to every feature; ``municipality_field`` names a column with the
    SCB code; with neither, DeSO and RegSO take the kommun from the first four digits of their code.
    ``valid_from`` (default today; for the first areas of a kind in the municipalities, the start of the history)
    starts new versions and ends replaced ones. Everything is checked first; any
    problem raises ImportFailed and nothing is written.
    """
    day = valid_from or timezone.localdate()
    read = read_area_file(
        path,
        kind=kind,
        name_field=name_field,
        code_field=code_field,
        municipality=municipality,
        municipality_field=municipality_field,
        layer=layer,
    )
    summary = ImportSummary(kind="areas", dry_run=dry_run, total=len(read.features))
    summary.notes.extend(read.notes)
    municipality_ids = sorted({f.municipality.pk for f in read.features})
    current: dict[tuple[int, str], list[Area]] = defaultdict(list)
    codeless_by_name: dict[tuple[int, str], list[Area]] = defaultdict(list)
    for chunk in _chunks(municipality_ids):
        for area in Area.objects.current().filter(kind=kind, municipality_id__in=chunk).order_by("pk"):
            current[(area.municipality_id, area.code or area.name)].append(area)
            if area.code:
                continue
            codeless_by_name[(area.municipality_id, area.name)].append(area)

    first_import = valid_from is None and not current
    if first_import:
        # The first areas of a kind in these municipalities have no earlier version to end, so they cover the whole
        # history and every existing report is linked to them.
        day = Area._meta.get_field("valid_from").default
    errors: list[RowError] = []
    changes: list[_Change] = []
    matched: set[int] = set()
    n = len(read.features)
    for i, feature in enumerate(read.features):
        if i % 200 == 0:
            progress(i, n)
        candidates = current.get(feature.key) or []
        if not candidates and feature.code:
            # An area first imported without a code is the same area once the file gives it one.
            candidates = codeless_by_name.get((feature.municipality.pk, feature.name)) or []
        candidates = [a for a in candidates if a.pk not in matched]
        if len(candidates) > 1:
            errors.append(
                RowError(
                    feature.row,
                    None,
                    f"Det finns {len(candidates)} gällande områden med samma kod eller namn i "
                    f"{feature.municipality.name}; avsluta de överflödiga först.",
                )
            )
            continue
        old = candidates[0] if candidates else None
        if old is not None:
            matched.add(old.pk)
            if (
                old.name == feature.name
                and old.code == feature.code
                and same_geometry(shape(old.geometry), feature.geometry)
            ):
                summary.unchanged += 1
                continue
            if day <= old.valid_from:
                errors.append(
                    RowError(
                        feature.row,
                        "--valid-from",
                        f"Området {feature.name!r} har en gällande version från {old.valid_from:%Y-%m-%d}; den nya "
                        f"versionen måste börja senare än så (nu {day:%Y-%m-%d}).",
                    )
                )
                continue
            summary.updated += 1
        else:
            summary.created += 1
        changes.append(
            _Change(
                municipality_id=feature.municipality.pk,
                feature=feature,
                old=old,
                geojson=geojson_of(feature.geometry),
            )
        )

    missing = [a for group in current.values() for a in group if a.pk not in matched]
    missing.sort(key=lambda a: (a.municipality_id, a.name))
    if end_missing:
        for area in missing:
            if day <= area.valid_from:
                errors.append(
                    RowError(
                        None,
                        "--valid-from",
                        f"Området {area.name!r} som saknas i filen gäller från {area.valid_from:%Y-%m-%d} och kan "
                        f"inte avslutas {day:%Y-%m-%d}.",
                    )
                )
            changes.append(_Change(municipality_id=area.municipality_id, feature=None, old=area))
    if errors:
        summary.errors = errors
        summary.rejected = len({e.row for e in errors if e.row is not None})
        raise ImportFailed(errors, summary=summary)

    source = (Path(path).name + (f" ({layer})" if layer else ""))[: Area._meta.get_field("source").max_length]
    steps = n + len(changes)
    with transaction.atomic():
        if not dry_run:
            for j, change in enumerate(changes):
                if j % 200 == 0:
                    progress(n + j, steps)
                feature = change.feature
                if feature is None:
                    _area_end(change.old, day)  # type: ignore[arg-type]
                elif change.old is None:
                    change.new = area_create(
                        municipality=feature.municipality,
                        kind=kind,
                        name=feature.name,
                        code=feature.code,
                        geometry=change.geojson,  # type: ignore[arg-type]
                        valid_from=day,
                        source=source,
                    )
                else:
                    change.new = area_replace(
                        area=change.old,
                        geometry=change.geojson,  # type: ignore[arg-type]
                        valid_from=day,
                        name=feature.name,
                        code=feature.code,
                        approximate=False,
                        source=source,
                    )
        relinked = _relink(changes, valid_from=day, write=not dry_run)
        if relinked and not dry_run:
            daily_counts_rebuild(municipality_ids={c.municipality_id for c in changes})
    progress(steps, steps)

    if summary.created or summary.updated:
        summary.notes.append(f"Nya områden och versioner gäller från {day:%Y-%m-%d}.")
    if summary.created and valid_from is None and not first_import:
        summary.notes.append(
            "Rapporter före den dagen kopplas inte till de nya områdena; ange --valid-from för ett tidigare datum."
        )
    if missing:
        listed = ", ".join(a.name for a in missing[:10]) + (" …" if len(missing) > 10 else "")
        if end_missing:
            verb = "skulle avslutas" if dry_run else "avslutades"
            summary.notes.append(f"{_areas(len(missing))} finns inte i filen och {verb} {day:%Y-%m-%d}: {listed}.")
        else:
            summary.notes.append(
                f"{_areas(len(missing))} finns inte i filen och lämnas "
                f"{'orört' if len(missing) == 1 else 'orörda'}: {listed} (--end-missing avslutar dem)."
            )
    if relinked:
        reports = "1 rapport" if relinked == 1 else f"{relinked} rapporter"
        summary.notes.append(f"{reports} {'skulle få' if dry_run else 'fick'} nya områdeskopplingar.")
    summary.extra.update(
        {
            "valid_from": day.isoformat(),
            "missing": len(missing),
            "ended": len(missing) if end_missing else 0,
            "incidents_relinked": relinked,
            "crs": read.crs,
        }
    )
    return summary
