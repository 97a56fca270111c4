"""A saved picture as a document: the HTML shows the picture's figures and escapes user text; the PDF carries the
cutoff, the sources and page numbers on every page, and marks the police view."""

import datetime as dt
import re
import shutil
import subprocess
import time
from zoneinfo import ZoneInfo

import pytest

from samverkan.incidents.models import Category
from samverkan.places.geo import to_sweref, to_wgs84
from samverkan.places.models import Area
from samverkan.situation.documents import (
    GENERIC_SOURCES,
    POLICE_MARK,
    SHARED_NOTE,
    snapshot_html,
    snapshot_pdf,
    sources_line,
)
from samverkan.situation.selectors import picture_compute
from samverkan.situation.services import daily_counts_rebuild, snapshot_save
from tests.factories import YSTAD, IncidentFactory

STOCKHOLM = ZoneInfo("Europe/Stockholm")
X0, Y0 = (float(v) for v in to_sweref(*YSTAD))
DRUGS = [3, 5, 2, 4, 6, 3, 5, 4]
SAFETY = [10, 12, 9, 11, 10, 13, 12, 11]


def report(world, when, *, category="klotter", dx=0.0, dy=0.0, sensitivity="shared"):
    lon, lat = (float(v) for v in to_wgs84(X0 + dx, Y0 + dy))
    return IncidentFactory(
        occurred_from=when,
        municipality=world.ystad,
        source_organisation=world.kommun,
        category=Category.objects.get(code=category, municipality=None),
        lon=lon,
        lat=lat,
        sensitivity=sensitivity,
    )


def weekly_world(world, *, restricted=0):
    """Weeks 2–9 of 2025 with the counts above, week 10 with 14 drug and 11 safety reports (and ``restricted``
    police-only drug reports), spread over a few hundred metres of Ystad, linked to the area Centrum."""
    centrum = Area.objects.get(municipality=world.ystad, name="Centrum")
    first_monday = dt.date(2025, 1, 6)
    for week, counts in enumerate([*zip(DRUGS, SAFETY, strict=True), (14, 11)]):
        monday = first_monday + dt.timedelta(weeks=week)
        for category, n in (("narkotika", counts[0]), ("klotter", counts[1])):
            for i in range(n):
                day = monday + dt.timedelta(days=i % 7)
                when = dt.datetime(day.year, day.month, day.day, 8 + i % 12, tzinfo=STOCKHOLM)
                incident = report(world, when, category=category, dx=37.0 * i, dy=23.0 * (i % 5))
                incident.areas.add(centrum)
    for _ in range(restricted):
        report(
            world, dt.datetime(2025, 3, 4, 22, tzinfo=STOCKHOLM), category="narkotika", sensitivity="police_restricted"
        )
    daily_counts_rebuild()


def saved(world, *, view="shared", user="kommun_samordnare", **texts):
    picture = picture_compute(user=world.users[user], municipality_id=world.ystad.pk, period="2025-W10", view=view)
    snapshot = snapshot_save(user=world.users[user], picture=picture, **texts)
    # As the pages will: read back from the database, with its types.
    snapshot.refresh_from_db()
    return snapshot


def pdf_pages(data: bytes, tmp_path) -> list[str]:
    path = tmp_path / "picture.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is missing")


def squash(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


# --------------------------------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------------------------------


def test_html_shows_the_pictures_figures_in_swedish(world):
    weekly_world(world)
    snapshot = saved(world, assessment="Lugnt i stort.", decisions="Extra rondering vid stationen.")
    html = snapshot_html(snapshot)
    text = squash(re.sub(r"<[^>]+>", " ", html))
    assert html.startswith("<!DOCTYPE html>") and '<html lang="sv">' in html
    picture = snapshot.picture
    for figure in picture["key_figures"]:
        row = re.search(rf"<th scope=\"row\">{figure['name']}</th>(.*?)</tr>", html, re.S)
        assert row, figure["name"]
        cells = [squash(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]
        expected = f"{figure['expected']:.1f}".replace(".", ",")
        assert cells[:3] == [str(figure["current"]), expected, f"{figure['lower']}–{figure['upper']}"]
    drugs = next(f for f in picture["key_figures"] if f["code"] == "droger")
    traffic = next(f for f in picture["key_figures"] if f["code"] == "trafik")
    assert (drugs["current"], drugs["flag"], traffic["flag"]) == (14, "higher", "too_few")
    assert "▲ Fler än väntat" in text
    assert "För få rapporter för att säga något" in text
    assert f"Totalt {picture['total']['current']}" in text
    for category in picture["top_categories"]:
        assert f"{category['name']} {category['count']} {category['previous']}" in text
    assert "Centrum 25" in text  # the area's count this week
    assert picture["near_repeat"]["message"] in html
    assert "Vecka 10 2025" in text and "2025-03-03 – 2025-03-09" in text
    assert f"Version 1, sparad {snapshot.created_at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M} av kommun_samordnare" in text
    assert f"Data t.o.m. {snapshot.data_cutoff.astimezone(STOCKHOLM):%Y-%m-%d %H:%M}" in text
    assert SHARED_NOTE in text and POLICE_MARK not in text
    assert "<p>Lugnt i stort.</p>" in html and "<p>Extra rondering vid stationen.</p>" in html
    assert html.count("<svg") >= 3 and 'src="data:image/png;base64,' in html
    # The accessible page has the weekday × hour numbers as a table too; the print leaves it to the heat map.
    assert "Samma siffror som tabell" in html
    assert "Samma siffror som tabell" not in snapshot_html(snapshot, pdf=True)


def test_user_text_is_escaped(world):
    weekly_world(world)
    snapshot = saved(
        world,
        assessment='<script>alert("x")</script>\n\nAndra stycket & mer',
        decisions="<img src=x onerror=alert(1)>",
        ratings=[{"area_id": 1, "area": "<b>Hamnen</b>", "rating": "red", "motivation": "<i>oro</i>"}],
    )
    html = snapshot_html(snapshot)
    assert "<script>" not in html and "<img src=x" not in html and "<b>Hamnen" not in html and "<i>oro" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<p>Andra stycket &amp; mer</p>" in html
    assert "&lt;b&gt;Hamnen&lt;/b&gt;" in html and "&lt;i&gt;oro&lt;/i&gt;" in html


def test_ratings_show_the_scale_label_and_a_shape_not_only_a_colour(world, settings):
    weekly_world(world)
    settings.SAMVERKAN_RATING_SCALE = [("green", "Grön"), ("yellow", "Gul"), ("red", "Röd")]
    snapshot = saved(
        world,
        ratings=[
            {"area_id": 1, "area": "Centrum", "rating": "red", "motivation": "Narkotika vid stationen"},
            {"area_id": 2, "area": "Hamnen", "rating": "green", "motivation": "Lugnt"},
            {"area_id": 3, "area": "Norr", "rating": "yellow", "motivation": "Klotter"},
        ],
    )
    text = squash(re.sub(r"<[^>]+>", " ", snapshot_html(snapshot)))
    assert "Centrum ● Röd Narkotika vid stationen" in text
    assert "Hamnen ○ Grön Lugnt" in text
    assert "Norr ◑ Gul Klotter" in text


def test_the_police_view_is_marked_and_the_shared_view_says_what_it_leaves_out(world):
    weekly_world(world, restricted=3)
    police = saved(world, view="police", user="polis_analytiker")
    shared = saved(world, view="shared", user="polis_analytiker")
    police_html, shared_html = snapshot_html(police), snapshot_html(shared)
    assert POLICE_MARK in police_html and SHARED_NOTE not in police_html
    assert POLICE_MARK not in shared_html and SHARED_NOTE in shared_html
    assert police.picture["total"]["current"] == shared.picture["total"]["current"] + 3
    assert f'Totalt</th><td class="num">{police.picture["total"]["current"]}</td>' in police_html


def test_sources_come_from_the_picture_when_it_names_them():
    assert sources_line({"sources": ["form", "polisen"]}) == "Rapporter i Samverkan (EST), polisens öppna händelser"
    assert sources_line({"sources": [{"code": "csv", "name": "Bostadsbolagets export"}]}) == "Bostadsbolagets export"
    assert sources_line({}) == GENERIC_SOURCES


def test_the_document_refers_to_nothing_outside_itself(world):
    weekly_world(world)
    html = snapshot_html(saved(world))
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html and "url(http" not in html


# --------------------------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------------------------


@needs_pdftotext
def test_pdf_has_the_figures_and_on_every_page_the_cutoff_sources_and_page_number(world, tmp_path):
    weekly_world(world, restricted=2)
    snapshot = saved(world, assessment="Oro vid stationen.\n\nFler rapporter om narkotika.", decisions="Rondering.")
    started = time.perf_counter()
    data = snapshot_pdf(snapshot)
    print(f"\nweekly PDF: {time.perf_counter() - started:.2f} s, {len(data) / 1024:.0f} kB")
    assert data.startswith(b"%PDF")
    pages = pdf_pages(data, tmp_path)
    n = len(pages)
    assert n >= 2
    cutoff = f"{snapshot.data_cutoff.astimezone(STOCKHOLM):%Y-%m-%d %H:%M}"
    for number, page in enumerate(pages, start=1):
        flat = squash(page)
        assert f"Sida {number} av {n}" in flat
        assert f"Data t.o.m. {cutoff}" in flat
        # The reports here are made in the form; the footer names that source.
        assert "Källor: Rapporter i Samverkan (EST)" in flat
        assert POLICE_MARK not in flat
    everything = squash(" ".join(pages))
    assert SHARED_NOTE in squash(pages[0])
    for figure in snapshot.picture["key_figures"]:
        assert figure["name"] in everything
    drugs = next(f for f in snapshot.picture["key_figures"] if f["code"] == "droger")
    expected = f"{drugs['expected']:.1f}".replace(".", ",")
    assert f"Droger 14 {expected} {drugs['lower']}–{drugs['upper']}" in everything
    assert "För få rapporter för att säga något" in everything
    assert "Oro vid stationen." in everything and "Fler rapporter om narkotika." in everything
    assert "Version 1" in everything and "kommun_samordnare" in everything


@needs_pdftotext
def test_police_pdf_is_marked_on_every_page_and_the_shared_pdf_never(world, tmp_path):
    weekly_world(world, restricted=2)
    police = saved(world, view="police", user="polis_analytiker", assessment="Polisens bedömning.")
    shared = saved(world, view="shared", user="polis_analytiker")
    police_pages = pdf_pages(snapshot_pdf(police), tmp_path)
    assert all(POLICE_MARK in squash(page) for page in police_pages)
    assert SHARED_NOTE not in squash(" ".join(police_pages))
    shared_text = squash(" ".join(pdf_pages(snapshot_pdf(shared), tmp_path)))
    assert POLICE_MARK not in shared_text and "Polisens vy" not in shared_text
    assert SHARED_NOTE in shared_text
