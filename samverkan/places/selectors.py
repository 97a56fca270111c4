"""Reads of municipalities and areas, including point lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from samverkan.places.geo import contains_points
from samverkan.places.models import Area, Municipality


def municipality_containing(*, lon: float, lat: float, candidates: Iterable[Municipality]) -> Municipality | None:
    """The first candidate municipality whose outline contains the point (None when none does)."""
    for municipality in candidates:
        if municipality.geometry and contains_points(municipality.geometry, [lon], [lat])[0]:
            return municipality
    return None


def area_ids_containing(
    *, municipality_id: int, lon: ArrayLike, lat: ArrayLike, on: dt.date | None = None
) -> list[list[int]]:
    """For each point, the ids of the municipality's areas (valid ``on`` that day, default: current) containing it.

    Vectorised per area, so assigning thousands of points costs one polygon test per area, not per point.
    """
    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    areas = Area.objects.filter(municipality_id=municipality_id)
    areas = areas.valid_on(on) if on else areas.current()
    result: list[list[int]] = [[] for _ in range(lon_a.size)]
    for area in areas.only("id", "geometry", "min_lon", "min_lat", "max_lon", "max_lat"):
        in_box = (lon_a >= area.min_lon) & (lon_a <= area.max_lon) & (lat_a >= area.min_lat) & (lat_a <= area.max_lat)
        if not in_box.any():
            continue
        idx = np.flatnonzero(in_box)
        inside = contains_points(area.geometry, lon_a[idx], lat_a[idx])
        for i in idx[inside]:
            result[int(i)].append(area.pk)
    return result


def area_list(*, municipality_ids: Iterable[int], kind: str | None = None, current_only: bool = True):
    qs = Area.objects.filter(municipality_id__in=list(municipality_ids)).select_related("municipality")
    if kind:
        qs = qs.filter(kind=kind)
    if current_only:
        qs = qs.current()
    return qs
