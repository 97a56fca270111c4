"""The default focus areas and the EST checklist categories every new installation starts with.

Municipalities adjust them in the admin (deactivate, add their own, version by validity dates).
"""

FOCUS_AREAS = [
    # code, Swedish, English
    ("droger", "Droger", "Drugs"),
    ("trafik", "Trafik", "Traffic"),
    ("trygghet", "Trygghet", "Safety"),
]

CATEGORIES = [
    # code, Swedish, English, focus area, open to the public
    ("skadegorelse", "Skadegörelse", "Vandalism", "trygghet", True),
    ("klotter", "Klotter", "Graffiti", "trygghet", True),
    ("nedskrapning", "Nedskräpning/dumpning", "Littering and dumping", "trygghet", True),
    ("brand", "Brand", "Fire (arson, car or container fire)", "trygghet", False),
    ("otrygg-plats", "Otrygg plats", "Unsafe place (lighting, vegetation, broken things)", "trygghet", True),
    ("otrygg-samling", "Otrygghetsskapande samling av personer", "Groups causing unease", "trygghet", True),
    ("ordningsstorning", "Ordningsstörning", "Public disorder", "trygghet", False),
    ("narkotika", "Misstänkt narkotikahantering", "Suspected drug dealing or use", "droger", False),
    ("berusade", "Berusade personer", "Drunkenness", "droger", False),
    ("buskorning", "Buskörning (moped, A-traktor)", "Reckless driving (mopeds, A-tractors)", "trafik", True),
    ("fortkorning", "Fortkörning", "Speeding", "trafik", True),
    ("hot-vald-anstalld", "Hot/våld mot anställd", "Threats or violence against staff", "trygghet", False),
    ("brak-vald", "Bråk/våld", "Fights and violence", "trygghet", False),
    ("stold-inbrott", "Stöld/inbrott", "Theft and burglary", "trygghet", False),
    ("arrangemang", "Arrangemang", "Planned event", "trygghet", False),
    ("ovrigt", "Övrigt", "Other", "trygghet", False),
]
