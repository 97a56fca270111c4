"""The police's vocabulary as data: which category each event type becomes, and where each kommun's point is.

Event types → categories
    ``MAPPINGS`` holds one mapping per version, each with the day it applies from. An event is categorised by the
    version in force on the day it happened, so a later change of the mapping (a new version with a later
    ``valid_from``) never silently re-labels old events. Keys are the type names as the police write them; lookups
    ignore case and runs of whitespace ("Lagen om hundar och katter " with its trailing space is the same type).
    A value is a category code (``incidents.Category.code``, shared categories) or ``None``: the event is kept as a
    police event but becomes no report, because it does not describe one incident — "Sammanfattning …" summarises a
    whole night of them, "Uppdatering" returns to an earlier event (counting it would count that event twice),
    "Information" and "Tillfälligt obemannat" are notices about the police's own service.
    Types not in the mapping are kept under ``UNKNOWN_TYPE_CATEGORY`` and listed in the import summary, so the mapping
    can be extended with a new version.

The kommun's point
    The police give every event the centre point of its kommun, or of the county when they only name the county in
    ``location`` and the kommun in the event's name. ``MUNICIPALITY_GPS`` is the point the police use for each kommun
    (SCB code → latitude, longitude, as published in ``location.gps``), so an event located only by county still gets
    its own kommun's point rather than the county's, which lies in some other kommun.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

MAPPING_VERSION = 1

UNKNOWN_TYPE_CATEGORY = "ovrigt"

# Every summary type starts with this word ("Sammanfattning natt", "… kväll och natt", "… helg"); new ones appear.
SUMMARY_PREFIX = "sammanfattning"

MAPPINGS: dict[int, dict] = {
    1: {
        "valid_from": dt.date(2000, 1, 1),
        "types": {
            # Traffic
            "Trafikolycka": "trafikolycka",
            "Trafikolycka, personskada": "trafikolycka",
            "Trafikolycka, singel": "trafikolycka",
            "Trafikolycka, vilt": "trafikolycka",
            "Trafikolycka, smitning från": "trafikolycka",
            "Trafikolycka, övrigt": "trafikolycka",
            "Rattfylleri": "rattfylleri",
            "Trafikbrott": "trafikbrott",
            "Trafikbrott, övriga": "trafikbrott",
            "Olovlig körning": "trafikbrott",
            # Offences at sea and in the air (drunk boating, drones) are handled like offences on the road.
            "Sjölagen": "trafikbrott",
            "Luftfartslagen": "trafikbrott",
            "Trafikkontroll": "trafikkontroll",
            "Trafikhinder": "trafikhinder",
            # Drugs and alcohol
            "Narkotikabrott": "narkotikabrott",
            "Fylleri/LOB": "berusade",
            "Fylleri": "berusade",
            "Alkohollagen": "alkohollagen",
            # Violence and threats
            "Misshandel": "misshandel",
            "Misshandel, grov": "misshandel",
            "Bråk": "brak-vald",
            "Mord/dråp": "grovt-vald",
            "Mord/dråp, försök": "grovt-vald",
            "Olaga frihetsberövande": "grovt-vald",
            "Olaga frihetsberövande/människorov": "grovt-vald",
            "Övriga brott mot person": "hot-ofredande",
            "Olaga hot": "hot-ofredande",
            "Ofredande/förargelse": "hot-ofredande",
            "Hets mot folkgrupp": "hot-ofredande",
            "Våld/hot mot tjänsteman": "vald-hot-tjansteman",
            "Sabotage mot blåljusverksamhet": "vald-hot-tjansteman",
            "Våldtäkt": "sexualbrott",
            "Våldtäkt, försök": "sexualbrott",
            "Sexualbrott": "sexualbrott",
            "Sedlighetsbrott": "sexualbrott",
            "Skottlossning": "skjutning-sprangning",
            "Skottlossning, misstänkt": "skjutning-sprangning",
            "Detonation": "skjutning-sprangning",
            "Explosion": "skjutning-sprangning",
            "Bombhot": "skjutning-sprangning",
            "Farligt föremål, misstänkt": "skjutning-sprangning",
            "Knivlagen": "vapen",
            "Vapenlagen": "vapen",
            # Property
            "Rån": "ran",
            "Rån, försök": "ran",
            "Rån övrigt": "ran",
            "Rån, övrigt": "ran",
            "Rån väpnat": "ran",
            "Larm Överfall": "ran",
            "Stöld": "stold-inbrott",
            "Stöld, försök": "stold-inbrott",
            "Stöld, ringa": "stold-inbrott",
            "Stöld/inbrott": "stold-inbrott",
            "Tillgrepp, stöld": "stold-inbrott",
            "Inbrott": "stold-inbrott",
            "Inbrott, försök": "stold-inbrott",
            "Larm Inbrott": "stold-inbrott",
            "Häleri": "stold-inbrott",
            "Motorfordon, stöld": "stold-inbrott",
            "Motorfordon, anträffat stulet": "stold-inbrott",
            "Skadegörelse": "skadegorelse",
            "Brand": "brand",
            "Brand automatlarm": "brand",
            "Mordbrand": "brand",
            "Olaga intrång": "olaga-intrang",
            "Hemfridsbrott": "olaga-intrang",
            "Olaga intrång/hemfridsbrott": "olaga-intrang",
            "Bedrägeri": "bedrageri",
            "Bedrägeri, ocker": "bedrageri",
            "Åldringsbrott": "bedrageri",
            "Ekobrott": "bedrageri",
            "Förfalskningsbrott": "bedrageri",
            "Missbruk av urkund": "bedrageri",
            # Public order
            "Ordningslagen": "ordningsstorning",
            "Ofog barn/ungdom": "ordningsstorning",
            # Mostly fireworks, by the summaries; the explosions have their own types.
            "Smällar": "ordningsstorning",
            # Accidents, rescue, missing persons
            "Arbetsplatsolycka": "olycka-raddning",
            "Vållande till kroppsskada": "olycka-raddning",
            "Sjukdom/olycksfall": "olycka-raddning",
            "Räddningsinsats": "olycka-raddning",
            "Fjällräddning": "olycka-raddning",
            "Försvunnen person": "olycka-raddning",
            "Anträffad död": "olycka-raddning",
            "Naturkatastrof": "olycka-raddning",
            "Varningslarm/haveri": "olycka-raddning",
            "Spridning smitta/kemikalier": "olycka-raddning",
            "Spridning smittsamma kemikalier": "olycka-raddning",
            # Police operations and checks
            "Polisinsats/kommendering": "polisinsats",
            "Kontroll person/fordon": "polisinsats",
            "Kontroll": "polisinsats",
            "Gränskontroll": "polisinsats",
            "Efterlyst person": "polisinsats",
            "Utlänningslagen": "polisinsats",
            "Skyddslagen": "polisinsats",
            # Other
            "Övrigt": "ovrigt",
            "Djur": "ovrigt",
            "Djur skadat/omhändertaget": "ovrigt",
            "Lagen om hundar och katter": "ovrigt",
            "Miljöbrott": "ovrigt",
            "Anträffat gods": "ovrigt",
            "Upphittat föremål": "ovrigt",
            # Not one incident each: kept as police events, no report (see the module docstring).
            "Sammanfattning natt": None,
            "Sammanfattning kväll och natt": None,
            "Sammanfattning dag": None,
            "Sammanfattning dygn": None,
            "Sammanfattning eftermiddag": None,
            "Sammanfattning förmiddag": None,
            "Sammanfattning helg": None,
            "Sammanfattning kväll": None,
            "Sammanfattning vecka": None,
            "Uppdatering": None,
            "Information": None,
            "Tillfälligt obemannat": None,
        },
    },
}


def normalise_type(name: str) -> str:
    """The lookup key of a type name: case and runs of whitespace do not matter."""
    return " ".join(name.split()).casefold()


def is_summary(type_name: str) -> bool:
    return normalise_type(type_name).startswith(SUMMARY_PREFIX)


@cache
def _normalised(version: int) -> dict[str, str | None]:
    return {normalise_type(k): v for k, v in MAPPINGS[version]["types"].items()}


def mapping_version_on(day: dt.date) -> int:
    """The mapping version in force on ``day`` (the earliest one for days before every version)."""
    in_force = [v for v, m in MAPPINGS.items() if m["valid_from"] <= day]
    return max(in_force, key=lambda v: MAPPINGS[v]["valid_from"]) if in_force else min(MAPPINGS)


def category_for(type_name: str, day: dt.date) -> tuple[str | None, bool]:
    """(category code or None for no report, whether the type is known) of an event of ``type_name`` on ``day``.

    An unknown type that reads as a summary still becomes no report; any other unknown type becomes
    ``UNKNOWN_TYPE_CATEGORY``.
    """
    key = normalise_type(type_name)
    mapping = _normalised(mapping_version_on(day))
    if key in mapping:
        return mapping[key], True
    if key.startswith(SUMMARY_PREFIX):
        return None, False
    return UNKNOWN_TYPE_CATEGORY, False


# SCB code, latitude, longitude: the police's point for each of the 290 kommuner (from location.gps of events located
# at the kommun itself).
_MUNICIPALITY_GPS = """
0114 59.51961 17.92834  0115 59.5357 18.078017  0117 59.500058 18.352485  0120 59.284612 18.520789
0123 59.410065 17.836804  0125 59.279834 17.790225  0126 59.23633 17.982156  0127 59.245941 17.840858
0128 59.20768 17.774222  0136 59.17555 18.14137  0138 59.242595 18.283392  0139 59.49068 17.752277
0140 59.178177 17.427816  0160 59.4419 18.07033  0162 59.407905 18.019075  0163 59.43911 17.94148
0180 59.329324 18.068581  0181 59.195363 17.625689  0182 59.307903 18.156042  0183 59.367047 17.966309
0184 59.368879 18.008433  0186 59.36296 18.1468  0187 59.403297 18.32638  0188 59.759584 18.701358
0191 59.619146 17.723419  0192 58.902926 17.946529  0305 59.627071 17.452298  0319 60.568607 17.448913
0330 59.72612 17.792036  0331 59.939637 16.858759  0360 60.347587 17.520509  0380 59.858564 17.638927
0381 59.635691 17.077823  0382 60.259302 18.365341  0428 59.043375 15.870939  0461 59.048348 17.307228
0480 58.752844 17.009159  0481 58.675485 17.074955  0482 59.057938 16.587912  0483 58.995551 16.205476
0484 59.371249 16.509805  0486 59.377452 17.032119  0488 58.902655 17.549464  0509 58.228996 14.64882
0512 57.85952 15.297346  0513 57.997571 15.685223  0560 58.197099 15.053779  0561 58.20079 15.997699
0562 58.707488 15.773595  0563 58.202451 16.601363  0580 58.410807 15.621373  0581 58.587745 16.192421
0582 58.475901 16.323431  0583 58.538034 15.047094  0584 58.447602 14.890234  0586 58.322691 15.133535
0604 57.838521 14.817802  0617 57.35804 13.73719  0642 57.916599 13.877318  0643 57.909309 14.074367
0662 57.2985 13.54326  0665 57.498962 14.14863  0680 57.782614 14.161788  0682 57.653036 14.696725
0683 57.183161 14.047821  0684 57.398996 14.665814  0685 57.42746 15.08533  0686 57.665165 14.973221
0687 58.035518 14.975696  0760 57.014575 15.381174  0761 56.751264 15.270001  0763 56.524745 14.978534
0764 56.89921 14.556001  0765 56.552446 14.137405  0767 56.461774 13.596274  0780 56.879004 14.805852
0781 56.833877 13.941042  0821 57.172604 16.020619  0834 56.412638 15.998275  0840 56.523757 16.386916
0860 57.49484 15.841651  0861 57.04158 16.44312  0862 56.630686 15.540006  0880 56.663445 16.356779
0881 56.7438 15.908681  0882 57.265699 16.447398  0883 57.757716 16.636976  0884 57.669034 15.858857
0885 56.88023 16.656236  0980 57.468412 18.486745  1060 56.277708 14.530938  1080 56.161224 15.5869
1081 56.210434 15.276023  1082 56.170303 14.863073  1083 56.053743 14.579688  1214 55.91293 13.101817
1230 55.641065 13.212229  1231 55.631913 13.096379  1233 55.470893 13.01999  1256 56.237877 14.216166
1257 56.283635 13.278832  1260 56.087102 12.912505  1261 55.794 13.110429  1262 55.673138 13.067406
1263 55.508908 13.23711  1264 55.48045 13.502349  1265 55.634822 13.70337  1266 55.851716 13.661926
1267 55.934859 13.53959  1270 55.54355 13.95484  1272 56.074362 14.477659  1273 56.381536 13.992941
1275 56.137972 13.394986  1276 56.1349 13.129041  1277 56.134262 12.945908  1278 56.427389 12.847722
1280 55.604981 13.003822  1281 55.70466 13.191007  1282 55.870348 12.83008  1283 56.046467 12.694512
1284 56.200639 12.555329  1285 55.83912 13.303391  1286 55.429505 13.820031  1287 55.376243 13.157423
1290 56.029394 14.156678  1291 55.557396 14.348965  1292 56.245748 12.863881  1293 56.158915 13.766765
1315 56.977313 13.338766  1380 56.674375 12.857789  1381 56.505756 13.045605  1382 56.902733 12.488801
1383 57.107118 12.252091  1384 57.487492 12.076193  1401 57.691744 12.294416  1402 57.73665 12.125197
1407 57.711741 11.648789  1415 58.067839 11.829434  1419 58.04102 11.683671  1421 58.180267 11.675984
1427 58.440139 11.361439  1430 58.471505 11.680192  1435 58.732727 11.457819  1438 58.974388 11.865175
1439 58.567559 11.994926  1440 57.841175 12.029249  1441 57.769484 12.26882  1442 58.032304 12.808976
1443 57.668969 12.570143  1444 58.33404 12.680218  1445 58.195507 12.778158  1446 58.530085 14.510566
1447 58.985467 14.096623  1452 57.485569 13.35241  1460 59.028612 12.226943  1461 58.702568 12.451842
1462 58.132158 12.124134  1463 57.425318 12.569522  1465 57.495572 13.114623  1466 58.078029 13.018839
1470 58.261781 12.960194  1471 58.528002 13.491428  1472 58.424323 14.161642  1473 58.705509 14.126147
1480 57.70887 11.97456  1481 57.65 12.016667  1482 57.869754 11.974032  1484 58.275573 11.435558
1485 58.3498 11.935649  1486 58.938346 11.179187  1487 58.379728 12.324803  1488 58.283489 12.285821
1489 57.930021 12.536211  1490 57.721035 12.939819  1491 57.794789 13.420516  1492 59.051117 12.697732
1493 58.710112 13.821333  1494 58.503505 13.157077  1495 58.386013 13.439328  1496 58.390278 13.846121
1497 58.30707 14.287466  1498 58.181769 13.959474  1499 58.175029 13.553217  1715 59.50368 13.317048
1730 59.83754 12.314031  1737 60.140907 13.010213  1760 59.533208 14.272209  1761 59.311466 13.529854
1762 59.835348 13.534415  1763 59.529761 13.486084  1764 59.353179 13.111732  1765 59.389159 12.132717
1766 59.836558 13.144046  1780 59.402181 13.511498  1781 59.310068 14.108919  1782 59.713997 14.169845
1783 60.03437 13.694508  1784 59.654853 12.592136  1785 59.132661 12.930107  1814 59.16539 14.743407
1860 58.98269 14.62289  1861 59.066532 15.10229  1862 59.239103 14.433918  1863 59.783688 14.522569
1864 59.877447 14.998849  1880 59.275263 15.213411  1881 59.126536 15.140105  1882 58.889427 14.910987
1883 59.328634 14.536414  1884 59.519206 15.037867  1885 59.597698 15.222911  1904 59.826056 15.691519
1907 59.707226 16.226841  1960 59.422397 16.097786  1961 59.613204 16.229476  1962 60.065042 15.923796
1980 59.609901 16.544809  1981 59.920859 16.606328  1982 59.989144 15.816642  1983 59.512096 15.99451
1984 59.393688 15.838175  2021 60.509943 14.225342  2023 60.900926 13.322618  2026 60.590983 15.070049
2029 60.730308 14.999892  2031 60.889025 15.123373  2034 61.116937 14.628071  2039 61.227306 14.041987
2061 60.143193 15.415992  2062 61.004878 14.537003  2080 60.60646 15.6355  2081 60.484304 15.433969
2082 60.34665 15.7479  2083 60.277545 15.985892  2084 60.14533 16.17384  2085 60.152358 15.191639
2101 60.891784 16.720187  2104 60.54595 16.2841  2121 61.446923 15.738922  2132 62.036668 17.205249
2161 61.830839 16.08175  2180 60.67488 17.141273  2181 60.621607 16.775918  2182 61.305576 17.06281
2183 61.34838 16.394269  2184 61.727391 17.107401  2260 62.522874 15.658942  2262 62.485456 17.324865
2280 62.63227 17.940871  2281 62.390811 17.306927  2282 62.928433 17.786295  2283 63.165407 17.277135
2284 63.290047 18.716617  2303 63.061337 16.396683  2305 62.750741 15.422575  2309 63.326242 14.448654
2313 63.853662 15.556869  2321 63.399043 13.081506  2326 62.772481 14.169867  2361 62.369341 13.407971
2380 63.176683 14.636068  2401 63.567106 19.505022  2403 63.930406 19.219213  2404 64.201953 19.71887
2409 64.191835 20.84891  2417 64.913509 19.482641  2418 65.18512 18.74907  2421 65.09562 17.112277
2422 65.534938 17.542175  2425 64.261794 16.415234  2460 63.908007 19.752965  2462 64.624471 16.655497
2463 64.160234 17.353615  2480 63.825847 20.263035  2481 64.59581 18.676367  2482 64.750244 20.950917
2505 65.592077 19.180283  2506 66.051505 17.890054  2510 66.606961 19.822921  2513 66.327176 22.842752
2514 65.855281 23.143965  2518 66.388444 23.639283  2521 67.212782 23.367392  2523 67.1379 20.659362
2560 65.677136 20.992866  2580 65.584819 22.156703  2581 65.316698 21.480036  2582 65.825119 21.688703
2583 65.841709 24.127664  2584 67.8558 20.225282
"""

MUNICIPALITY_GPS: dict[str, tuple[float, float]] = {
    code: (float(lat), float(lon)) for code, lat, lon in zip(*[iter(_MUNICIPALITY_GPS.split())] * 3, strict=True)
}
