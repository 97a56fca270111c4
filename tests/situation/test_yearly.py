"""The yearly picture in the law's structure, when it is due, and the import of survey indices behind it."""

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import Http404
from django.utils import timezone

from samverkan.analysis.temporal import compare_to_baseline, trend
from samverkan.imports.base import ImportFailed
from samverkan.incidents.models import Category, Incident
from samverkan.places.geo import to_sweref, to_wgs84
from samverkan.places.models import Area
from samverkan.situation.documents import snapshot_html, snapshot_pdf
from samverkan.situation.models import Snapshot, SurveyIndex
from samverkan.situation.services import daily_counts_rebuild, snapshot_save
from samverkan.situation.survey_import import survey_import
from samverkan.situation.yearly import yearly_due, yearly_picture
from tests.factories import YSTAD, IncidentFactory

STOCKHOLM = ZoneInfo("Europe/Stockholm")
X0, Y0 = (float(v) for v in to_sweref(*YSTAD))
YEARS = [2022, 2023, 2024, 2025]
DRUGS = [10, 20, 40, 80]  # doubling each year, all in Centrum
GRAFFITI = [30, 30, 30, 30]  # steady, 3 km east of Centrum
SEVERE_2025 = 16  # drug reports rated 3 in 2025
POLICE_REPORTED_2025 = 10  # graffiti reports reported to the police in 2025
RESTRICTED_2025 = 5  # police-only drug reports in 2025, also in Centrum
LAW_HEADINGS = (
    "1. Kartläggning av brottsligheten, dess omfattning och konsekvenser",
    "2. Annan information av betydelse",
    "3. Analys",
    "4. Förslag till åtgärdsplan",
)


def years_world(world):
    """Reports 2022–2025 in Ystad: drug reports doubling yearly around the centre, steady graffiti further east."""
    centrum = Area.objects.get(municipality=world.ystad, name="Centrum")
    drugs = Category.objects.get(code="narkotika", municipality=None)
    graffiti = Category.objects.get(code="klotter", municipality=None)
    built, in_centrum = [], []

    def add(when, category, dx, dy, **fields):
        lon, lat = (float(v) for v in to_wgs84(X0 + dx, Y0 + dy))
        incident = IncidentFactory.build(
            occurred_from=when,
            municipality=world.ystad,
            source_organisation=world.kommun,
            category=category,
            lon=lon,
            lat=lat,
            **fields,
        )
        built.append(incident)
        return incident

    for year, n_drugs, n_graffiti in zip(YEARS, DRUGS, GRAFFITI, strict=True):
        for i in range(n_drugs):
            when = dt.datetime(year, 1 + i % 12, 1 + i % 28, 20 + i % 4, tzinfo=STOCKHOLM)
            severe = year == 2025 and i < SEVERE_2025
            in_centrum.append(add(when, drugs, 20.0 * (i % 5), 20.0 * (i // 5 % 5), severity=3 if severe else 1))
        for i in range(n_graffiti):
            when = dt.datetime(year, 1 + i % 12, 2 + i % 27, 9 + i % 8, tzinfo=STOCKHOLM)
            reported = year == 2025 and i < POLICE_REPORTED_2025
            add(when, graffiti, 3000.0 + 150.0 * (i % 6), 150.0 * (i // 6), police_reported=reported)
    for i in range(RESTRICTED_2025):
        when = dt.datetime(2025, 6, 10 + i, 23, tzinfo=STOCKHOLM)
        in_centrum.append(add(when, drugs, 10.0 * i, 0.0, sensitivity="police_restricted"))
    Incident.objects.bulk_create(built)
    Incident.areas.through.objects.bulk_create(
        [Incident.areas.through(incident_id=i.pk, area_id=centrum.pk) for i in in_centrum]
    )
    daily_counts_rebuild()
    return centrum


def surveys(world, centrum):
    def index(year, value, *, area=None, source="trygghetsmätning", code="problemindex", **more):
        SurveyIndex.objects.create(
            municipality=world.ystad,
            area=area,
            year=year,
            source=source,
            code=code,
            name=more.pop("name", "Problemindex"),
            value=value,
            unit=more.pop("unit", "index 0–6"),
            **more,
        )

    index(2023, 1.43)
    index(2025, 1.61)  # worse: higher problem index
    index(2023, 2.1, area=centrum)
    index(2025, 1.9, area=centrum)  # better
    index(2025, 11917.13, source="kolada", code="N07540", name="Anmälda brott", unit="per 100 000 inv.")
    index(2024, 71.0, code="trygg", name="Känner sig trygga", unit="%", polarity="higher_better")
    index(2025, 64.0, code="trygg", name="Känner sig trygga", unit="%", polarity="higher_better")  # worse
    index(2018, 3.0, code="gammal", name="Gammal mätning")  # too old to count as the present


# --------------------------------------------------------------------------------------------------------------------
# The yearly picture
# --------------------------------------------------------------------------------------------------------------------


def test_mapping_counts_extent_and_consequences_per_year(world):
    years_world(world)
    picture = yearly_picture(user=world.users["kommun_samordnare"], municipality_id=world.ystad.pk, year=2025)
    json.dumps(picture, allow_nan=False)
    yearly = picture["yearly"]
    assert (yearly["year"], yearly["years"], yearly["complete"]) == (2025, YEARS, True)
    mapping = yearly["mapping"]
    focus = {f["code"]: f["counts"] for f in mapping["by_focus"]}
    assert focus == {"droger": DRUGS, "trygghet": GRAFFITI}
    assert mapping["total"] == [d + g for d, g in zip(DRUGS, GRAFFITI, strict=True)]
    categories = {c["code"]: c["counts"] for c in mapping["by_category"]}
    assert categories == {"narkotika": DRUGS, "klotter": GRAFFITI}
    assert [(a["name"], a["counts"]) for a in mapping["by_area"]] == [("Centrum", DRUGS)]
    last = mapping["consequences"]["by_year"][-1]
    n = DRUGS[-1] + GRAFFITI[-1]
    assert last == {
        "year": 2025,
        "reports": n,
        "severe": SEVERE_2025,
        "severe_share": round(SEVERE_2025 / n, 4),
        "police_reported": POLICE_REPORTED_2025,
        "police_share": round(POLICE_REPORTED_2025 / n, 4),
    }
    assert [r["reports"] for r in mapping["consequences"]["by_year"]] == mapping["total"]
    by_focus = {r["code"]: r for r in mapping["consequences"]["by_focus"]}
    assert by_focus["droger"]["severe_share"] == round(SEVERE_2025 / DRUGS[-1], 4)
    assert by_focus["trygghet"]["police_share"] == round(POLICE_REPORTED_2025 / GRAFFITI[-1], 4)
    assert picture["sources"] == [{"code": "form", "name": "Rapporter i Samverkan (EST)", "count": n}]


def test_the_police_view_adds_police_only_reports_and_the_shared_view_leaves_them_out(world):
    years_world(world)
    shared = yearly_picture(user=world.users["polis_analytiker"], municipality_id=world.ystad.pk, year=2025)
    police = yearly_picture(
        user=world.users["polis_analytiker"], municipality_id=world.ystad.pk, year=2025, view="police"
    )
    drugs = lambda p: next(f for f in p["yearly"]["mapping"]["by_focus"] if f["code"] == "droger")  # noqa: E731
    assert drugs(shared)["counts"][-1] == DRUGS[-1]
    assert drugs(police)["counts"][-1] == DRUGS[-1] + RESTRICTED_2025
    reports = lambda p: p["yearly"]["mapping"]["consequences"]["by_year"][-1]["reports"]  # noqa: E731
    assert reports(police) - reports(shared) == RESTRICTED_2025
    assert shared["restricted_excluded"] and not police["restricted_excluded"]


def test_refusals_follow_the_picture_rules(world):
    with pytest.raises(PermissionDenied):
        yearly_picture(user=world.users["kommun_rapportor"], municipality_id=world.ystad.pk, year=2025)
    with pytest.raises(PermissionDenied):
        yearly_picture(user=world.users["kommun_samordnare"], municipality_id=world.ystad.pk, year=2025, view="police")
    with pytest.raises(Http404):
        yearly_picture(user=world.users["simrishamn_samordnare"], municipality_id=world.ystad.pk, year=2025)


def test_other_information_takes_the_latest_survey_values_and_says_which_got_worse(world):
    centrum = years_world(world)
    surveys(world, centrum)
    picture = yearly_picture(user=world.users["kommun_samordnare"], municipality_id=world.ystad.pk, year=2025)
    indices = {(i["code"], i["area"]): i for i in picture["yearly"]["other_information"]["indices"]}
    assert set(indices) == {("problemindex", None), ("problemindex", "Centrum"), ("N07540", None), ("trygg", None)}
    whole = indices[("problemindex", None)]
    assert (whole["year"], whole["value"], whole["previous_year"], whole["previous"]) == (2025, 1.61, 2023, 1.43)
    assert whole["change"] == pytest.approx(0.18) and whole["worse"] is True
    assert whole["source_name"] == "Polisens trygghetsmätning"
    assert indices[("problemindex", "Centrum")]["worse"] is False
    assert indices[("trygg", None)]["worse"] is True  # higher is better, and it fell
    assert indices[("N07540", None)]["previous"] is None and indices[("N07540", None)]["worse"] is None
    assert {"code": "kolada", "name": "Kolada"} in picture["sources"]
    # The 2024 picture does not see 2025's values.
    earlier = yearly_picture(user=world.users["kommun_samordnare"], municipality_id=world.ystad.pk, year=2024)
    before = {(i["code"], i["area"]): i for i in earlier["yearly"]["other_information"]["indices"]}
    assert before[("problemindex", None)]["value"] == 1.43 and before[("problemindex", None)]["previous"] is None


def test_analysis_and_proposals_point_at_rising_focus_areas_hot_places_and_worse_indices(world):
    centrum = years_world(world)
    surveys(world, centrum)
    picture = yearly_picture(user=world.users["kommun_samordnare"], municipality_id=world.ystad.pk, year=2025)
    yearly = picture["yearly"]
    topics = [item["topic"] for item in yearly["analysis"]]
    assert topics[:4] == ["Omfattning", "Trender", "Fokusområden", "Platser"]
    assert f"{DRUGS[-1] + GRAFFITI[-1]} rapporter" in yearly["analysis"][0]["text"]

    problems = {p["problem"]: p for p in yearly["proposals"]}
    kinds = [p["kind"] for p in yearly["proposals"]]
    assert kinds == sorted(kinds, key=["focus_area", "area", "place", "survey"].index)
    drug_figure = next(f for f in picture["key_figures"] if f["code"] == "droger")
    assert drug_figure["flag"] == compare_to_baseline(DRUGS[-1], DRUGS[:-1]).flag == "higher"
    assert trend(DRUGS).flag == "increasing" and trend(GRAFFITI).flag != "increasing"
    evidence = [e.replace("\u00a0", " ") for e in problems["Droger: fler rapporter än tidigare"]["evidence"]]
    assert evidence[0].startswith(f"2025: {DRUGS[-1]} rapporter mot förväntat 23,3 (normalt")
    assert evidence[1].startswith("Ökande trend, +100,0 % per år")
    assert not any(p.startswith("Trygghet") for p in problems)

    centre = next(p for p in yearly["proposals"] if p["kind"] == "area")
    assert centre["problem"].startswith("Centrum: många rapporter")
    assert f"{DRUGS[-1]} rapporter" in centre["evidence"][0]
    if any(v >= 2 for row in picture["map"]["gi"] for v in row):
        assert "het plats" in centre["problem"]
    worse = [p["problem"] for p in yearly["proposals"] if p["kind"] == "survey"]
    assert worse == [
        "Känner sig trygga (Polisens trygghetsmätning) har blivit sämre",
        "Problemindex (Polisens trygghetsmätning) har blivit sämre",
    ]


def test_a_year_without_reports_still_has_every_part(world):
    picture = yearly_picture(user=world.users["kommun_samordnare"], municipality_id=world.ystad.pk, year=2025)
    yearly = picture["yearly"]
    assert yearly["years"] == [2021, 2022, 2023, 2024, 2025] and yearly["mapping"]["total"] == [0] * 5
    assert yearly["mapping"]["by_focus"] == [] and yearly["proposals"] == []
    assert yearly["other_information"]["indices"] == []
    saved = snapshot_save(user=world.users["kommun_samordnare"], picture=picture, kind="yearly")
    saved.refresh_from_db()
    assert "Inga trygghetsmätningar" in snapshot_html(saved)


# --------------------------------------------------------------------------------------------------------------------
# The yearly document
# --------------------------------------------------------------------------------------------------------------------


def positions(text: str, needles) -> list[int]:
    return [text.index(needle) for needle in needles]


def test_yearly_document_has_the_laws_sections_in_order(world, tmp_path):
    centrum = years_world(world)
    surveys(world, centrum)
    picture = yearly_picture(user=world.users["kommun_samordnare"], municipality_id=world.ystad.pk, year=2025)
    saved = snapshot_save(
        user=world.users["kommun_samordnare"], picture=picture, kind="yearly", assessment="<b>Oro</b> i centrum."
    )
    saved.refresh_from_db()
    html = snapshot_html(saved)
    found = positions(html, LAW_HEADINGS)
    assert found == sorted(found)
    # Each section holds its part: counts, indices, analysis, proposals.
    sections = [html[a:b] for a, b in zip(found, [*found[1:], len(html)], strict=True)]
    assert re.search(r"Droger</th>" + "".join(rf'<td class="num">{n}</td>' for n in DRUGS), sections[0])
    assert "Allvarligast" in sections[0] and "Nyckeltal" in sections[0]
    assert "1,61" in sections[1] and "1,43 (2023)" in sections[1] and "▼ Sämre" in sections[1]
    assert "11\u00a0917,13" in sections[1] and '<td class="num">64</td>' in sections[1]
    assert "Omfattning" in sections[2] and "Karta" in sections[2]
    assert "Droger: fler rapporter än tidigare" in sections[3] and "&lt;b&gt;Oro&lt;/b&gt;" in sections[3]
    assert '<html lang="sv">' in html

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is missing")
    path = tmp_path / "yearly.pdf"
    path.write_bytes(snapshot_pdf(saved))
    text = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout.split()
    )
    found = positions(text, LAW_HEADINGS)
    assert found == sorted(found)
    assert "Sida 1 av" in text and "Polisens trygghetsmätning" in text


# --------------------------------------------------------------------------------------------------------------------
# When the next yearly picture is due
# --------------------------------------------------------------------------------------------------------------------


def saved_on(world, day: dt.date, *, kind="yearly", previous=None):
    picture = {
        "schema": 1,
        "municipality": {"id": world.ystad.pk, "code": "1286", "name": "Ystad"},
        "period": {"kind": "year", "start": "2024-01-01", "end": "2025-01-01", "label": "2024"},
        "view": "shared",
        "data_cutoff": timezone.now().isoformat(),
    }
    snapshot = snapshot_save(user=world.users["kommun_samordnare"], picture=picture, kind=kind, previous=previous)
    moment = dt.datetime.combine(day, dt.time(10), tzinfo=STOCKHOLM)
    Snapshot.objects.filter(pk=snapshot.pk).update(created_at=moment)
    snapshot.refresh_from_db()
    return snapshot


def test_yearly_due_counts_from_the_last_yearly_picture(world, settings):
    settings.SAMVERKAN_YEARLY_INTERVAL_YEARS = 2
    assert yearly_due(world.ystad) == {"last": None, "due": None, "overdue": True}
    saved_on(world, dt.date(2024, 3, 1), kind="regular")  # weekly pictures do not count
    assert yearly_due(world.ystad)["last"] is None

    first = saved_on(world, dt.date(2024, 3, 1))
    assert yearly_due(world.ystad, today=dt.date(2025, 6, 1)) == {
        "last": dt.date(2024, 3, 1),
        "due": dt.date(2026, 3, 1),
        "overdue": False,
    }
    assert yearly_due(world.ystad, today=dt.date(2026, 3, 1))["overdue"] is False
    assert yearly_due(world.ystad.pk, today=dt.date(2026, 3, 2))["overdue"] is True
    # A corrected version of the same picture does not renew it; a new yearly picture does.
    saved_on(world, dt.date(2025, 9, 1), previous=first)
    assert yearly_due(world.ystad, today=dt.date(2026, 3, 2))["last"] == dt.date(2024, 3, 1)
    saved_on(world, dt.date(2025, 9, 1))
    assert yearly_due(world.ystad, today=dt.date(2026, 3, 2)) == {
        "last": dt.date(2025, 9, 1),
        "due": dt.date(2027, 9, 1),
        "overdue": False,
    }
    settings.SAMVERKAN_YEARLY_INTERVAL_YEARS = 1
    assert yearly_due(world.ystad, today=dt.date(2026, 9, 2))["overdue"] is True
    assert yearly_due(world.simrishamn)["last"] is None


def test_yearly_due_from_29_february(world, settings):
    settings.SAMVERKAN_YEARLY_INTERVAL_YEARS = 1
    saved_on(world, dt.date(2024, 2, 29))
    assert yearly_due(world.ystad, today=dt.date(2025, 1, 1))["due"] == dt.date(2025, 2, 28)


# --------------------------------------------------------------------------------------------------------------------
# Importing survey indices
# --------------------------------------------------------------------------------------------------------------------

HEADER = "kommun;område;år;källa;kod;namn;värde;enhet"


def write(tmp_path, lines, *, encoding="utf-8-sig", name="index.csv") -> Path:
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def test_import_reads_decimal_commas_names_codes_and_areas(world, tmp_path):
    path = write(
        tmp_path,
        [
            HEADER,
            "1286;;2023;Trygghetsmätning;problemindex;Problemindex;1,43;index 0–6",
            "Ystad;Centrum;2023;trygghetsmätning;problemindex;Problemindex;2,1;index 0–6",
            "Simrishamns kommun;;2025;Kolada;N07540;Anmälda brott;8 558,76;per 100 000 inv.",
        ],
        encoding="cp1252",
    )
    summary = survey_import(path=path)
    assert (summary.total, summary.created, summary.updated, summary.unchanged) == (3, 3, 0, 0)
    rows = {(s.municipality.code, s.area.name if s.area else None, s.code): s for s in SurveyIndex.objects.all()}
    assert rows[("1286", None, "problemindex")].value == 1.43
    assert rows[("1286", None, "problemindex")].source == "trygghetsmätning"
    assert rows[("1286", "Centrum", "problemindex")].value == 2.1
    assert rows[("1291", None, "N07540")].value == pytest.approx(8558.76)
    assert rows[("1291", None, "N07540")].unit == "per 100 000 inv."


def test_import_is_idempotent_and_updates_changed_values(world, tmp_path):
    lines = [HEADER, "1286;;2023;trygghetsmätning;problemindex;Problemindex;1,43;index 0–6"]
    survey_import(path=write(tmp_path, lines))
    again = survey_import(path=write(tmp_path, lines))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    changed = survey_import(path=write(tmp_path, [HEADER, lines[1].replace("1,43", "1,5")]))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 0)
    assert SurveyIndex.objects.get().value == 1.5


def test_dry_run_writes_nothing(world, tmp_path):
    path = write(tmp_path, [HEADER, "1286;;2023;trygghetsmätning;problemindex;Problemindex;1,43;"])
    summary = survey_import(path=path, dry_run=True)
    assert (summary.dry_run, summary.created) == (True, 1)
    assert not SurveyIndex.objects.exists()


def test_bad_rows_are_all_listed_and_nothing_is_written(world, tmp_path):
    path = write(
        tmp_path,
        [
            HEADER,
            "1286;;2023;trygghetsmätning;problemindex;Problemindex;1,43;",
            "Atlantis;;2023;trygghetsmätning;problemindex;Problemindex;1,2;",
            "1286;Hamnen;20x3;;problemindex;Problemindex;..;",
            "1286;;2023;trygghetsmätning;problemindex;Problemindex;1,5;",
        ],
    )
    with pytest.raises(ImportFailed) as failed:
        survey_import(path=path)
    errors = {(e.row, e.field): e.message for e in failed.value.errors}
    assert "okänd kommun 'Atlantis'" in errors[(3, "kommun")]
    assert "inget aktuellt område som heter 'Hamnen'" in errors[(4, "område")]
    assert "ogiltigt år '20x3'" in errors[(4, "år")]
    assert "saknas" in errors[(4, "källa")]
    assert "undertryckt" in errors[(4, "värde")]
    assert "som rad 2" in errors[(5, None)]
    assert len(errors) == 6
    assert not SurveyIndex.objects.exists()


def test_command_exits_with_code_2_and_writes_nothing_on_errors(world, tmp_path, capsys):
    bad = write(tmp_path, [HEADER, "1286;;2023;trygghetsmätning;problemindex;Problemindex;abc;"])
    with pytest.raises(CommandError) as failed:
        call_command("import_survey", str(bad))
    assert failed.value.returncode == 2
    assert "rad 2, fält 'värde': ogiltigt tal 'abc'" in capsys.readouterr().err
    assert not SurveyIndex.objects.exists()
    good = write(tmp_path, [HEADER, "1286;;2023;trygghetsmätning;problemindex;Problemindex;1,43;"])
    call_command("import_survey", str(good), "--dry-run")
    assert "Provkörning" in capsys.readouterr().out and not SurveyIndex.objects.exists()
    call_command("import_survey", str(good))
    assert SurveyIndex.objects.get().value == 1.43


def test_direction_and_note_columns_are_optional_and_checked(world, tmp_path):
    header = HEADER + ";riktning;anteckning"
    good = write(tmp_path, [header, "1286;;2024;trygghetsmätning;trygg;Trygga;71;%;Högre är bättre;Enkät i maj"])
    survey_import(path=good)
    row = SurveyIndex.objects.get()
    assert (row.polarity, row.note, row.unit) == ("higher_better", "Enkät i maj", "%")
    bad = write(tmp_path, [header, "1286;;2024;trygghetsmätning;trygg;Trygga;71;%;uppåt;"])
    with pytest.raises(ImportFailed) as failed:
        survey_import(path=bad)
    assert [(e.row, e.field) for e in failed.value.errors] == [(2, "riktning")]


def test_missing_columns_are_named(world, tmp_path):
    with pytest.raises(ImportFailed) as failed:
        survey_import(path=write(tmp_path, ["kommun;år;värde", "1286;2023;1,2"]))
    assert {e.field for e in failed.value.errors} == {"källa", "kod", "namn"}
    assert all(e.row == 1 for e in failed.value.errors)


KOLADA = Path("/work/shared/data/kommun-crime-stats/kolada_N07540_anmalda_brott_per_100k_2025.csv")


def test_kolada_format_reads_its_wide_table(world, tmp_path):
    path = write(
        tmp_path,
        [
            "kommun_kod,kommun,anmalda_brott_per_100k,period,population_N01951,population_period",
            "1286,Ystad,11917.13068,2025,32188.0,2025",
            "114,Upplands Väsby,11331.30988,2025,50495.0,2025",
        ],
    )
    with pytest.raises(ImportFailed) as failed:
        survey_import(path=path)  # the long layout: says which format the file looks like
    assert "formatet kolada" in failed.value.errors[0].message
    summary = survey_import(path=path, fmt="kolada")
    assert (summary.total, summary.created) == (4, 4)
    crime = SurveyIndex.objects.get(municipality=world.ystad, code="N07540")
    assert (crime.year, crime.source, crime.unit, crime.value) == (2025, "kolada", "per 100 000 inv.", 11917.13068)
    population = SurveyIndex.objects.get(municipality=world.ystad, code="N01951")
    assert (population.value, population.polarity) == (32188.0, "neutral")
    assert SurveyIndex.objects.filter(municipality__code="0114").count() == 2


@pytest.mark.skipif(not KOLADA.exists(), reason="the Kolada file in /work/shared/data is absent")
def test_the_real_kolada_file_imports_every_municipality_once(world):
    summary = survey_import(path=KOLADA, fmt="kolada")
    lines = KOLADA.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert summary.created == 2 * len(lines) == 580
    ystad = SurveyIndex.objects.get(municipality=world.ystad, code="N07540", year=2025)
    assert ystad.value == pytest.approx(11917.13068)
    assert survey_import(path=KOLADA, fmt="kolada").unchanged == 580
