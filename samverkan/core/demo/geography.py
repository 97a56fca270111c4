"""Approximate geography of LPO Ystad for the demo: its five kommuner, and districts and villages of Ystad kommun.

Plain data and small numpy functions, no Django. All coordinates are WGS84 (lon, lat). Every outline here is
approximate: good for a demo map and for telling which kommun a point lies in, not for anything at street level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

COUNTY = "Skåne län"
AREA_SOURCE = "Samverkan demo (approximate)"
KOMMUN_SOURCE = (
    "okfse/sweden-geojson swedish_municipalities.geojson (commit ff67bcb, 'Feel free to reuse'), "
    "simplified and approximate"
)

Ring = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Kommun:
    code: str
    name: str
    centre: tuple[float, float]
    outline: Ring

    def geojson(self) -> dict[str, Any]:
        return polygon_geojson(self.outline)


@dataclass(frozen=True, slots=True)
class DemoArea:
    code: str
    name: str
    kind: str  # "district" for parts of Ystad town, "place" for villages
    outline: Ring

    def geojson(self) -> dict[str, Any]:
        return polygon_geojson(self.outline)


# Kommun outlines from okfse/sweden-geojson (itself generalised to about 2 % of the vertices with mapshaper), run
# through shapely.coverage_simplify(tolerance=0.005) so that neighbours keep sharing their borders exactly, and
# rounded to 4 decimals (about 10 m). Approximate: the coastline is off by up to a few hundred metres.
KOMMUNER: tuple[Kommun, ...] = (
    Kommun(
        "1286",
        "Ystad",
        (13.8200, 55.4295),
        (
            (14.0742, 55.4800), (14.0228, 55.4776), (13.9898, 55.4668), (13.9446, 55.4849), (13.9352, 55.4960),
            (13.9045, 55.5048), (13.8504, 55.5661), (13.8323, 55.5721), (13.8123, 55.5613), (13.7807, 55.5576),
            (13.7810, 55.5420), (13.7607, 55.5342), (13.7123, 55.5316), (13.7057, 55.5122), (13.6709, 55.5114),
            (13.6574, 55.5240), (13.6642, 55.5003), (13.6572, 55.4824), (13.6338, 55.4527), (13.6266, 55.4332),
            (13.6573, 55.4140), (13.7132, 55.4232), (13.8089, 55.4230), (13.8399, 55.4169), (13.8990, 55.4315),
            (13.9467, 55.4260), (13.9966, 55.4048), (14.0586, 55.3740), (14.0981, 55.3789), (14.1521, 55.3713),
            (14.1874, 55.3738), (14.2070, 55.3814), (14.2168, 55.3980), (14.2048, 55.4137), (14.1469, 55.4370),
            (14.1290, 55.4653), (14.1118, 55.4795), (14.0868, 55.4692), (14.0742, 55.4800),
        ),
    ),
    Kommun(
        "1291",
        "Simrishamn",
        (14.3500, 55.5560),
        (
            (14.1030, 55.7563), (14.1026, 55.7361), (14.1237, 55.7330), (14.1424, 55.7189), (14.1053, 55.7153),
            (14.0692, 55.6896), (14.0608, 55.6618), (14.0678, 55.6364), (14.1052, 55.6179), (14.1627, 55.6063),
            (14.1667, 55.5837), (14.1405, 55.5745), (14.1507, 55.5552), (14.1299, 55.5311), (14.1369, 55.5162),
            (14.0984, 55.5034), (14.0742, 55.4800), (14.0868, 55.4692), (14.1118, 55.4795), (14.1290, 55.4653),
            (14.1469, 55.4370), (14.2048, 55.4137), (14.2168, 55.3980), (14.2449, 55.4370), (14.2774, 55.4524),
            (14.2940, 55.4738), (14.3234, 55.4834), (14.3510, 55.5047), (14.3673, 55.5513), (14.3501, 55.5655),
            (14.3392, 55.5891), (14.3074, 55.6054), (14.2840, 55.6472), (14.2847, 55.6799), (14.2276, 55.6923),
            (14.2088, 55.7029), (14.1991, 55.7334), (14.1962, 55.7658), (14.1700, 55.7665), (14.1339, 55.7588),
            (14.1030, 55.7563),
        ),
    ),
    Kommun(
        "1265",
        "Sjöbo",
        (13.7050, 55.6310),
        (
            (13.9212, 55.7486), (13.9128, 55.7591), (13.8794, 55.7530), (13.8445, 55.7651), (13.7867, 55.7754),
            (13.7612, 55.7630), (13.7573, 55.7427), (13.7164, 55.7436), (13.6659, 55.7380), (13.6641, 55.7276),
            (13.6137, 55.7301), (13.5712, 55.6888), (13.6139, 55.6677), (13.6028, 55.6314), (13.5467, 55.6364),
            (13.5302, 55.6203), (13.5235, 55.5836), (13.5411, 55.5470), (13.5948, 55.5352), (13.6256, 55.5359),
            (13.6574, 55.5240), (13.6709, 55.5114), (13.7057, 55.5122), (13.7123, 55.5316), (13.7607, 55.5342),
            (13.7810, 55.5420), (13.7807, 55.5576), (13.8123, 55.5613), (13.8323, 55.5721), (13.8504, 55.5661),
            (13.8769, 55.5933), (13.8956, 55.5889), (13.9316, 55.5981), (13.9370, 55.6196), (13.9863, 55.6493),
            (13.9273, 55.6885), (13.9048, 55.7129), (13.8916, 55.7154), (13.9212, 55.7486),
        ),
    ),
    Kommun(
        "1264",
        "Skurup",
        (13.5000, 55.4780),
        (
            (13.6574, 55.5240), (13.6256, 55.5359), (13.5948, 55.5352), (13.5411, 55.5470), (13.5235, 55.5836),
            (13.5056, 55.5727), (13.5079, 55.5565), (13.4816, 55.5274), (13.4547, 55.5240), (13.4477, 55.5105),
            (13.4462, 55.4794), (13.4709, 55.4605), (13.4454, 55.4205), (13.4725, 55.4137), (13.4907, 55.3935),
            (13.4839, 55.3770), (13.5088, 55.3827), (13.5620, 55.3805), (13.6052, 55.3880), (13.6174, 55.4038),
            (13.6573, 55.4140), (13.6266, 55.4332), (13.6338, 55.4527), (13.6572, 55.4824), (13.6642, 55.5003),
            (13.6574, 55.5240),
        ),
    ),
    Kommun(
        "1270",
        "Tomelilla",
        (13.9530, 55.5440),
        (
            (14.1030, 55.7563), (14.0943, 55.7745), (14.0542, 55.7852), (14.0546, 55.7689), (14.0276, 55.7611),
            (13.9854, 55.7694), (13.9614, 55.7767), (13.9484, 55.7616), (13.9212, 55.7486), (13.8916, 55.7154),
            (13.9048, 55.7129), (13.9273, 55.6885), (13.9863, 55.6493), (13.9370, 55.6196), (13.9316, 55.5981),
            (13.8956, 55.5889), (13.8769, 55.5933), (13.8504, 55.5661), (13.9045, 55.5048), (13.9352, 55.4960),
            (13.9446, 55.4849), (13.9898, 55.4668), (14.0228, 55.4776), (14.0742, 55.4800), (14.0984, 55.5034),
            (14.1369, 55.5162), (14.1299, 55.5311), (14.1507, 55.5552), (14.1405, 55.5745), (14.1667, 55.5837),
            (14.1627, 55.6063), (14.1052, 55.6179), (14.0678, 55.6364), (14.0608, 55.6618), (14.0692, 55.6896),
            (14.1053, 55.7153), (14.1424, 55.7189), (14.1237, 55.7330), (14.1026, 55.7361), (14.1030, 55.7563),
        ),
    ),
)  # fmt: skip

# Parts of Ystad town and villages of Ystad kommun, drawn by hand around their real positions. The southern edges
# follow the coarse coastline of the kommun outline above rather than the real one, so that every area lies inside
# its kommun.
YSTAD_AREAS: tuple[DemoArea, ...] = (
    DemoArea(
        "ystad-centrum",
        "Centrum (Innerstaden)",
        "district",
        ((13.8110, 55.4275), (13.8290, 55.4275), (13.8290, 55.4335), (13.8200, 55.4337), (13.8110, 55.4335)),
    ),
    DemoArea(
        "ystad-hamnen",
        "Hamnen och stationen",
        "district",
        ((13.8110, 55.4248), (13.8190, 55.4240), (13.8290, 55.4234), (13.8360, 55.4242), (13.8360, 55.4275),
         (13.8290, 55.4275), (13.8110, 55.4275)),
    ),
    DemoArea(
        "ystad-ostra-forstaden",
        "Östra förstaden",
        "district",
        ((13.8290, 55.4275), (13.8360, 55.4275), (13.8360, 55.4252), (13.8440, 55.4254), (13.8520, 55.4258),
         (13.8520, 55.4380), (13.8400, 55.4385), (13.8290, 55.4380), (13.8290, 55.4335)),
    ),
    DemoArea(
        "ystad-vastra-forstaden",
        "Västra förstaden",
        "district",
        ((13.7950, 55.4252), (13.8030, 55.4250), (13.8110, 55.4248), (13.8110, 55.4275), (13.8110, 55.4335),
         (13.8110, 55.4340), (13.7950, 55.4344)),
    ),
    DemoArea(
        "ystad-norra",
        "Norra Ystad",
        "district",
        ((13.8110, 55.4340), (13.8110, 55.4335), (13.8200, 55.4337), (13.8290, 55.4335), (13.8290, 55.4380),
         (13.8290, 55.4450), (13.8200, 55.4455), (13.8110, 55.4450)),
    ),
    DemoArea(
        "ystad-edvinshem",
        "Edvinshem",
        "district",
        ((13.7900, 55.4352), (13.8000, 55.4349), (13.8105, 55.4347), (13.8105, 55.4450), (13.8000, 55.4455),
         (13.7900, 55.4450)),
    ),
    DemoArea(
        "ystad-sandskogen",
        "Sandskogen",
        "district",
        ((13.8530, 55.4262), (13.8650, 55.4268), (13.8750, 55.4280), (13.8880, 55.4310), (13.8990, 55.4328),
         (13.9120, 55.4316), (13.9230, 55.4305), (13.9230, 55.4390), (13.8900, 55.4395), (13.8530, 55.4385)),
    ),
    DemoArea(
        "ystad-nybrostrand",
        "Nybrostrand",
        "place",
        ((13.9250, 55.4302), (13.9400, 55.4286), (13.9560, 55.4272), (13.9570, 55.4395), (13.9400, 55.4405),
         (13.9250, 55.4400)),
    ),
    DemoArea(
        "ystad-kopingebro",
        "Köpingebro",
        "place",
        ((13.9260, 55.4515), (13.9350, 55.4505), (13.9450, 55.4515), (13.9455, 55.4590), (13.9350, 55.4600),
         (13.9255, 55.4588)),
    ),
    DemoArea(
        "ystad-hedeskoga",
        "Hedeskoga",
        "place",
        ((13.8120, 55.4515), (13.8200, 55.4508), (13.8285, 55.4515), (13.8285, 55.4585), (13.8200, 55.4592),
         (13.8120, 55.4585)),
    ),
    DemoArea(
        "ystad-svarte",
        "Svarte",
        "place",
        ((13.7070, 55.4258), (13.7200, 55.4256), (13.7330, 55.4258), (13.7330, 55.4340), (13.7200, 55.4348),
         (13.7070, 55.4340)),
    ),
    DemoArea(
        "ystad-bjaresjo",
        "Bjäresjö",
        "place",
        ((13.7120, 55.4465), (13.7200, 55.4458), (13.7285, 55.4465), (13.7285, 55.4535), (13.7200, 55.4542),
         (13.7120, 55.4535)),
    ),
    DemoArea(
        "ystad-glemmingebro",
        "Glemmingebro",
        "place",
        ((14.0860, 55.3905), (14.0950, 55.3895), (14.1040, 55.3905), (14.1040, 55.3995), (14.0950, 55.4003),
         (14.0860, 55.3995)),
    ),
    DemoArea(
        "ystad-loderup",
        "Löderup",
        "place",
        ((14.1150, 55.3800), (14.1250, 55.3792), (14.1350, 55.3800), (14.1350, 55.3900), (14.1250, 55.3908),
         (14.1150, 55.3900)),
    ),
    DemoArea(
        "ystad-kaseberga",
        "Kåseberga",
        "place",
        ((14.0590, 55.3815), (14.0660, 55.3808), (14.0730, 55.3815), (14.0730, 55.3900), (14.0660, 55.3907),
         (14.0590, 55.3900)),
    ),
)  # fmt: skip

# Real localities (approximate centres), used to check that the outlines put each one in its own kommun.
LOCALITIES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "1286": (
        ("Ystad", 13.8200, 55.4295), ("Nybrostrand", 13.9400, 55.4330), ("Köpingebro", 13.9350, 55.4550),
        ("Löderup", 14.1250, 55.3850), ("Glemmingebro", 14.0950, 55.3950), ("Hedeskoga", 13.8200, 55.4550),
        ("Svarte", 13.7200, 55.4300), ("Bjäresjö", 13.7200, 55.4500), ("Kåseberga", 14.0660, 55.3860),
        ("Sövestad", 13.7900, 55.5040), ("Stora Köpinge", 13.9600, 55.4700),
    ),
    "1291": (
        ("Simrishamn", 14.3500, 55.5560), ("Kivik", 14.2290, 55.6860), ("Skillinge", 14.2780, 55.4730),
        ("Borrby", 14.1930, 55.4540), ("Hammenhög", 14.1550, 55.5000), ("Brantevik", 14.3450, 55.5140),
    ),
    "1265": (
        ("Sjöbo", 13.7050, 55.6310), ("Blentarp", 13.6030, 55.5850), ("Vollsjö", 13.7770, 55.7060),
        ("Lövestad", 13.8890, 55.6530),
    ),
    "1264": (
        ("Skurup", 13.5000, 55.4780), ("Rydsgård", 13.5880, 55.4740), ("Skivarp", 13.5620, 55.4250),
        ("Abbekås", 13.6000, 55.3980),
    ),
    "1270": (("Tomelilla", 13.9530, 55.5440), ("Brösarp", 14.1030, 55.7200)),
}  # fmt: skip

# Named spots in Ystad where the demo's patterns concentrate (approximate).
YSTAD_SPOTS: dict[str, tuple[float, float]] = {
    "stortorget": (13.8200, 55.4295),
    "stora_ostergatan": (13.8235, 55.4290),
    "hamngatan": (13.8215, 55.4280),
    "station": (13.8230, 55.4265),
    "faerjeterminalen": (13.8290, 55.4250),
    "smabatshamnen": (13.8140, 55.4258),
    "busstationen": (13.8250, 55.4272),
    "sandskogen_vast": (13.8620, 55.4290),
    "sandskogen_mitt": (13.8800, 55.4320),
    "sandskogen_ost": (13.9050, 55.4345),
    "nybrostrand_strand": (13.9380, 55.4320),
    "skola_norra": (13.8180, 55.4395),
    "skola_ostra": (13.8420, 55.4325),
    "skola_vastra": (13.8030, 55.4300),
    "skola_edvinshem": (13.8000, 55.4405),
    "skola_kopingebro": (13.9360, 55.4560),
    "skola_loderup": (14.1220, 55.3860),
    "vag_kristianstadsvagen": (13.8450, 55.4430),
    "vag_malmovagen": (13.7880, 55.4330),
    "vag_sjobovagen": (13.8050, 55.4500),
    "vag_osterleden": (13.8580, 55.4410),
    "kopingebro": (13.9350, 55.4550),
    "loderup": (14.1250, 55.3850),
    "glemmingebro": (14.0950, 55.3950),
    "hedeskoga": (13.8200, 55.4550),
    "svarte": (13.7200, 55.4300),
    "bjaresjo": (13.7200, 55.4500),
    "kaseberga": (14.0660, 55.3860),
}


def polygon_geojson(ring: Ring) -> dict[str, Any]:
    """A GeoJSON Polygon from one closed or open ring of (lon, lat)."""
    coords = [[lon, lat] for lon, lat in ring]
    if coords[0] != coords[-1]:
        coords.append(coords[0])
    return {"type": "Polygon", "coordinates": [coords]}


def kommun(code: str) -> Kommun:
    for k in KOMMUNER:
        if k.code == code:
            return k
    raise KeyError(f"no demo kommun with code {code!r}")


def contains(ring: Ring, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Which points (lon, lat) lie inside the polygon ``ring`` (even-odd rule; points on an edge may go either way)."""
    px = np.asarray(lon, dtype=float)
    py = np.asarray(lat, dtype=float)
    vertices = np.asarray(ring, dtype=float)
    x1, y1 = vertices[:, 0], vertices[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    inside = np.zeros(np.broadcast(px, py).shape, dtype=bool)
    for ax, ay, bx, by in zip(x1, y1, x2, y2, strict=True):
        if ay == by:
            continue  # a horizontal edge never crosses a horizontal ray
        crosses = (ay > py) != (by > py)
        x_at = ax + (py - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (px < x_at)
    return inside
