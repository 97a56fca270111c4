"""Writes of municipalities and areas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from samverkan.places.geo import bbox_of
from samverkan.places.models import Area, Municipality


def area_create(
    *,
    municipality: Municipality,
    kind: str,
    name: str,
    geometry: dict[str, Any],
    code: str = "",
    valid_from: dt.date = dt.date(2000, 1, 1),
    approximate: bool = False,
    source: str = "",
) -> Area:
    min_lon, min_lat, max_lon, max_lat = bbox_of(geometry)
    area = Area(
        municipality=municipality,
        kind=kind,
        name=name,
        code=code,
        geometry=geometry,
        min_lon=min_lon,
        min_lat=min_lat,
        max_lon=max_lon,
        max_lat=max_lat,
        valid_from=valid_from,
        approximate=approximate,
        source=source,
    )
    area.full_clean()
    area.save()
    return area


@transaction.atomic
def area_replace(*, area: Area, geometry: dict[str, Any], valid_from: dt.date, **changes: Any) -> Area:
    """A boundary change: end ``area`` the day the new version starts and add the new version."""
    area.valid_to = valid_from
    area.full_clean()
    area.save(update_fields=["valid_to"])
    fields = {
        "municipality": area.municipality,
        "kind": area.kind,
        "name": area.name,
        "code": area.code,
        "approximate": area.approximate,
        "source": area.source,
    }
    fields.update(changes)
    return area_create(geometry=geometry, valid_from=valid_from, **fields)


def municipality_outlines_load(
    *, features: list[dict[str, Any]], code_field: str, approximate: bool = False, dry_run: bool = False
) -> dict[str, Any]:
    """Set the outlines of municipalities from GeoJSON features (WGS84) whose ``code_field`` holds the SCB code.

    Everything is checked first; a feature without a known code or with a geometry that is not a polygon in Sweden
    makes the whole load fail with every problem listed (ValueError), writing nothing.
    """
    import shapely

    from samverkan.places.geo import SWEDEN_LAT, SWEDEN_LON, geometry_from_geojson

    by_code = {m.code: m for m in Municipality.objects.all()}
    problems: list[str] = []
    updates: list[tuple[Municipality, dict[str, Any]]] = []
    for number, feature in enumerate(features, start=1):
        code = str((feature.get("properties") or {}).get(code_field, "")).strip().zfill(4)
        municipality = by_code.get(code)
        if municipality is None:
            problems.append(f"objekt {number}: okänd kommunkod {code!r} i fältet {code_field!r}")
            continue
        try:
            geom = geometry_from_geojson(feature.get("geometry") or {})
        except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
            problems.append(f"objekt {number} ({municipality.name}): ogiltig geometri ({exc})")
            continue
        w, s, e, n = geom.bounds
        if w < SWEDEN_LON[0] or e > SWEDEN_LON[1] or s < SWEDEN_LAT[0] or n > SWEDEN_LAT[1]:
            problems.append(f"objekt {number} ({municipality.name}): ligger inte i Sverige i WGS84 (lon/lat)")
            continue
        updates.append((municipality, shapely.geometry.mapping(geom)))
    if problems:
        raise ValueError("\n".join(problems))
    changed = [m for m, g in updates if m.geometry != g or m.geometry_approximate != approximate]
    if not dry_run:
        with transaction.atomic():
            for municipality, geometry in updates:
                municipality.geometry = geometry
                municipality.geometry_approximate = approximate
            Municipality.objects.bulk_update([m for m, _ in updates], ["geometry", "geometry_approximate"])
    return {"read": len(features), "changed": len(changed), "unchanged": len(updates) - len(changed)}
