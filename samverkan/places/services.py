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
