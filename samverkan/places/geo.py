"""Projections and point-in-polygon lookups.

WGS84 (EPSG:4326) is what phones, maps and GeoJSON speak; SWEREF 99 TM (EPSG:3006) is Sweden's national grid in
metres, which distances, grids and the analysis core need. ``always_xy`` keeps (lon, lat) / (easting, northing)
order whatever the EPSG axis order says.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

# Sweden's extent with a margin, for plausibility checks of coordinates.
SWEDEN_LON = (10.0, 24.5)
SWEDEN_LAT = (55.0, 69.5)


@lru_cache(maxsize=1)
def _to_sweref() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:3006", always_xy=True)


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True)


def to_sweref(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(lon, lat) in WGS84 → (easting, northing) in SWEREF 99 TM metres."""
    x, y = _to_sweref().transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x), np.asarray(y)


def to_wgs84(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(easting, northing) in SWEREF 99 TM → (lon, lat) in WGS84."""
    lon, lat = _to_wgs84().transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def point_to_sweref(lon: float, lat: float) -> tuple[float, float]:
    x, y = _to_sweref().transform(lon, lat)
    return float(x), float(y)


def in_sweden(lon: float, lat: float) -> bool:
    return SWEDEN_LON[0] <= lon <= SWEDEN_LON[1] and SWEDEN_LAT[0] <= lat <= SWEDEN_LAT[1]


def geometry_from_geojson(data: dict[str, Any]) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry (or Feature) dict, refusing what is not a valid (multi)polygon."""
    if data.get("type") == "Feature":
        data = data.get("geometry") or {}
    geom = shape(data)
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        raise ValueError(f"expected a Polygon or MultiPolygon, got {geom.geom_type}")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def bbox_of(data: dict[str, Any]) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a GeoJSON geometry."""
    return tuple(float(v) for v in geometry_from_geojson(data).bounds)  # type: ignore[return-value]


def contains_points(data: dict[str, Any], lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Which of the points (lon, lat) lie inside (or on the edge of) the GeoJSON polygon."""
    geom = geometry_from_geojson(data)
    shapely.prepare(geom)
    return np.asarray(shapely.intersects_xy(geom, np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)))
