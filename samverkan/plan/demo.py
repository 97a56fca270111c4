"""The Ystad demo agreement: the samverkansöverenskommelse of Ystads kommun and LPO Ystad for 2023–2025 with its
problems, goals and indicators, commitments, citizen promises, measures and two meetings.

The agreement's frame (parties, signing date, period, focus areas, the 2023 problem index of the police's safety
survey) follows the real agreement; problems, goals, promises, measures, meetings and the later survey values are
invented for the demo, like the demo reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Min, Sum

from samverkan.accounts.models import Membership, Organisation, Role, User
from samverkan.core.demo import geography
from samverkan.incidents.models import Category, FocusArea, Sensitivity
from samverkan.places.models import Area, Municipality
from samverkan.plan.models import (
    Agreement,
    CitizenPromise,
    Commitment,
    Decision,
    Direction,
    Goal,
    Indicator,
    IndicatorSource,
    IndicatorValue,
    Measure,
    MeasureKind,
    MeasureStatus,
    MeasureTerm,
    Meeting,
    Problem,
    PromiseStatus,
)
from samverkan.situation.models import DailyCount, Polarity, SurveyIndex

TITLE = "Samverkansöverenskommelse mellan Ystads kommun och Lokalpolisområde Ystad 2023–2025"
YSTAD_CODE = "1286"
KOMMUN = "Ystads kommun"
POLIS = "Lokalpolisområde Ystad"
BASELINE_YEAR = 2023
TARGET_YEAR = 2025
SURVEY_SOURCE = "trygghetsmätning"
SURVEY_CODE = "problemindex"
# The problem index of LPO Ystad in the police's safety survey 2023 is the real one; later years are demo values.
SURVEY_VALUES = {2023: (1.43, "Lokalpolisområde Ystad totalt."), 2024: (1.36, "Demovärde."), 2025: (1.19, "Demovärde.")}
AREA_CODES = {
    "hamnen": "ystad-hamnen",
    "centrum": "ystad-centrum",
    "ostra": "ystad-ostra-forstaden",
    "sandskogen": "ystad-sandskogen",
    "kopingebro": "ystad-kopingebro",
    "loderup": "ystad-loderup",
}
AREA_NAMES = {a.code: a.name for a in geography.YSTAD_AREAS}


def demo_agreement_load(
    *,
    municipalities: Mapping[str, Municipality],
    organisations: Mapping[str, Organisation],
    created_by: User | None = None,
) -> bool:
    """Create the Ystad demo agreement unless it exists; True when it was created.

    ``municipalities`` by SCB code and ``organisations`` by name, as the demo loader has them; the agreement needs
    Ystad (1286), "Ystads kommun" and "Lokalpolisområde Ystad". ``created_by`` (who recorded the measures and
    meetings) defaults to a coordinator or administrator of the kommun. Areas are looked up by their demo names and
    left out when missing. Run after the demo reports are loaded: the report-based baselines are counted from them.
    """
    ystad = municipalities[YSTAD_CODE]
    if Agreement.objects.filter(municipality=ystad, title=TITLE).exists():
        return False
    kommun, polis = organisations[KOMMUN], organisations[POLIS]
    user = created_by or _recorder(kommun)
    with transaction.atomic():
        _load(ystad, kommun, polis, user)
    return True


def _recorder(kommun: Organisation) -> User:
    membership = (
        Membership.objects.filter(organisation=kommun, role__in=[Role.SAMORDNARE, Role.ADMIN])
        .select_related("user")
        .order_by("role", "id")
        .first()
    )
    if membership is None:
        raise ValueError(f"the demo agreement needs a coordinator or administrator of {kommun.name}")
    return membership.user


def _load(ystad: Municipality, kommun: Organisation, polis: Organisation, user: User) -> None:
    focus = {f.code: f for f in FocusArea.objects.filter(code__in=["droger", "trafik", "trygghet"])}
    current = Area.objects.current().filter(municipality=ystad)
    areas = {key: current.filter(name=AREA_NAMES[code]).first() for key, code in AREA_CODES.items()}

    agreement = Agreement.objects.create(
        title=TITLE,
        municipality=ystad,
        period_start=dt.date(2023, 1, 1),
        period_end=dt.date(2025, 12, 31),
        signed_on=dt.date(2023, 3, 8),
        summary=(
            "Ystads kommun och Lokalpolisområde Ystad arbetar tillsammans för att förebygga brott och öka "
            "tryggheten. Arbetet riktas mot tre fokusområden: droger, trafik och trygghet – i offentlig miljö, i "
            "hemmet, i skolan och på arbetsplatsen. Parterna ska samordna fler aktiviteter och åtgärder på rätt "
            "plats vid rätt tid och arbeta mer kunskapsbaserat."
        ),
        steering_group=(
            "Kommundirektör (ordförande), lokalpolisområdeschef, kommunpolis, samordnare för brottsförebyggande "
            "arbete, förvaltningschefer för barn och utbildning, socialtjänsten och samhällsbyggnad."
        ),
        meeting_schedule=(
            "Styrgruppen: fyra gånger per år.\n"
            "EST-gruppen (samordnare, kommunpolis, fältgrupp, gatu- och parkenheten, Ystadbostäder): varje vecka, "
            "tisdagar.\n"
            "Fördjupad analys av lägesbilden varje tertial; uppföljning av mål och medborgarlöften en gång per år."
        ),
        follow_up=(
            "Åtgärder och beslut dokumenteras i Samverkan. Målen följs upp årligen mot indikatorerna; "
            "medborgarlöftena följs upp offentligt två gånger per år. Kommunstyrelsen och kommunfullmäktige "
            "informeras varje år."
        ),
    )
    agreement.parties.add(kommun, polis)
    agreement.focus_areas.add(*focus.values())

    problems = _problems(agreement, focus)
    indicators = _indicators(agreement, ystad, focus, areas)
    _goals(agreement, problems, indicators)
    _commitments(agreement, kommun, polis)
    _promises(agreement, kommun, polis)
    measures = _measures(agreement, ystad, focus, areas, problems, indicators, kommun, polis, user)
    _meetings(agreement, ystad, measures, kommun, polis, user)


def _problems(agreement: Agreement, focus: dict[str, FocusArea]) -> dict[str, Problem]:
    rows = {
        "narkotika": (
            "droger",
            "Narkotikahantering vid stationen och hamnen",
            "Rapportörer och polisen ser återkommande misstänkt narkotikahantering kring resecentrum, "
            "busstationen och hamnplanen, främst kvällar och helger.",
            "Unga som väntar på buss eller tåg och som rör sig i området kvällstid; resenärer.",
            "Unga som rekryteras som langare; försäljning som förmedlas via sociala medier och möts upp på plats.",
            "Skymda platser bakom terminalbyggnaden, dålig belysning, få vuxna i rörelse efter klockan 20.",
        ),
        "unga": (
            "droger",
            "Ökat bruk av alkohol och narkotika bland unga",
            "Skolans drogvaneundersökning och fältgruppens iakttagelser visar ett ökat bruk bland unga 15–17 år.",
            "Unga med svag anknytning till skola och fritid; unga som inte når någon vuxen.",
            "Äldre kamrater och langare som säljer till unga; låg upplevd risk att upptäckas.",
            "Samlingsplatser utan vuxennärvaro i centrum och vid stranden under helger och lov.",
        ),
        "buskorning": (
            "trafik",
            "Buskörning med mopeder och A-traktorer",
            "Boende i Köpingebro och på Österlen (Löderup) rapporterar buskörning och fortkörning, framför allt "
            "sommarhalvåret.",
            "Gående och cyklister på smala byvägar; boende som störs kvällstid.",
            "Unga förare med trimmade fordon; få kontroller på landsbygden.",
            "Raksträckor genom byarna och parkeringar där unga samlas kvällstid.",
        ),
        "offentlig_miljo": (
            "trygghet",
            "Otrygghet i offentlig miljö kvällstid",
            "Trygghetsmätningen och rapporter om otrygga platser pekar ut gångtunnlar och parker i Östra "
            "förstaden och Sandskogen.",
            "Boende som går hem kvällstid, särskilt äldre och unga kvinnor.",
            "Grupper som samlas och stör; skadegörelse och klotter som lämnas kvar.",
            "Trasig eller svag belysning i gångtunnlar, igenvuxen vegetation, nedskräpning.",
        ),
        "vald": (
            "trygghet",
            "Hot och våld i hemmet, i skolan och på arbetsplatsen",
            "Våld i nära relation, bråk i och kring skolor och hot mot anställda i hemtjänst och skola.",
            "Barn som lever med våld; anställda som arbetar ensamma.",
            "Bristande kunskap om var man söker hjälp; normer som tolererar våld.",
            "Skolgårdar utan vuxennärvaro på raster; ensamarbete i hemtjänsten kvällstid.",
        ),
    }
    result = {}
    for key, (code, title, description, victim, offender, place) in rows.items():
        result[key] = Problem.objects.create(
            agreement=agreement,
            focus_area=focus[code],
            title=title,
            description=description,
            cause_victim=victim,
            cause_offender=offender,
            cause_place=place,
        )
    return result


def _indicators(
    agreement: Agreement, ystad: Municipality, focus: dict[str, FocusArea], areas: dict[str, Area | None]
) -> dict[str, Indicator]:
    hamnen = areas["hamnen"]
    drugs = Indicator.objects.create(
        agreement=agreement,
        name="Rapporter om misstänkt narkotikahantering vid stationen och hamnen",
        source=IndicatorSource.INCIDENTS,
        unit="rapporter per år",
        direction=Direction.DECREASE,
        focus_area=focus["droger"],
        area=hamnen,
        baseline_year=BASELINE_YEAR,
        target_year=TARGET_YEAR,
    )
    drugs.categories.set(Category.objects.filter(code="narkotika"))
    traffic = Indicator.objects.create(
        agreement=agreement,
        name="Rapporter om buskörning med mopeder och A-traktorer",
        source=IndicatorSource.INCIDENTS,
        unit="rapporter per år",
        direction=Direction.DECREASE,
        focus_area=focus["trafik"],
        baseline_year=BASELINE_YEAR,
        target_year=TARGET_YEAR,
    )
    traffic.categories.set(Category.objects.filter(code="buskorning"))
    for indicator, reduction in ((drugs, 0.20), (traffic, 0.25)):
        baseline = _yearly_reports(indicator, ystad)
        if baseline is not None:
            indicator.baseline_value = baseline
            indicator.target_value = round(baseline * (1 - reduction))
            indicator.save(update_fields=["baseline_value", "target_value"])

    survey = Indicator.objects.create(
        agreement=agreement,
        name="Trygghetsmätningens problemindex",
        source=IndicatorSource.SURVEY,
        unit="index 0–6",
        direction=Direction.DECREASE,
        survey_source=SURVEY_SOURCE,
        survey_code=SURVEY_CODE,
        baseline_year=BASELINE_YEAR,
        baseline_value=SURVEY_VALUES[BASELINE_YEAR][0],
        target_year=TARGET_YEAR,
        target_value=1.2,
    )
    for year, (value, note) in SURVEY_VALUES.items():
        if not SurveyIndex.objects.filter(
            municipality=ystad, area__isnull=True, year=year, source=SURVEY_SOURCE, code=SURVEY_CODE
        ).exists():
            SurveyIndex.objects.create(
                municipality=ystad,
                year=year,
                source=SURVEY_SOURCE,
                code=SURVEY_CODE,
                name="Problemindex (polisens trygghetsmätning)",
                value=value,
                unit="index 0–6",
                polarity=Polarity.HIGHER_WORSE,
                note=note,
            )

    walks = Indicator.objects.create(
        agreement=agreement,
        name="Föräldravandringar i centrum",
        source=IndicatorSource.MANUAL,
        unit="vandringar per år",
        direction=Direction.INCREASE,
        baseline_year=BASELINE_YEAR,
        baseline_value=12,
        target_year=TARGET_YEAR,
        target_value=30,
    )
    for year, value in ((2023, 12), (2024, 21), (2025, 32)):
        IndicatorValue.objects.create(indicator=walks, year=year, value=value, note="Fältgruppens sammanställning.")
    return {"drugs": drugs, "traffic": traffic, "survey": survey, "walks": walks}


def _yearly_reports(indicator: Indicator, ystad: Municipality) -> float | None:
    """The indicator's reports in the baseline year, or — when the demo reports begin later in that year — in the
    first twelve months of reports, as a municipality without earlier data would estimate its baseline. None when
    there are no reports yet."""
    shared = DailyCount.objects.filter(municipality=ystad).exclude(sensitivity=Sensitivity.POLICE_RESTRICTED)
    first = shared.filter(area__isnull=True).aggregate(first=Min("day"))["first"]
    if first is None:
        return None
    start = max(first, dt.date(BASELINE_YEAR, 1, 1))
    end = start + dt.timedelta(days=365)
    rows = shared.filter(area=indicator.area) if indicator.area_id else shared.filter(area__isnull=True)
    rows = rows.filter(category__code__in=list(indicator.categories.values_list("code", flat=True)))
    return float(rows.filter(day__gte=start, day__lt=end).aggregate(n=Sum("count"))["n"] or 0)


def _goals(agreement: Agreement, problems: dict[str, Problem], indicators: dict[str, Indicator]) -> None:
    for problem, indicator, text in (
        (
            "narkotika",
            "drugs",
            "Minska narkotikarelaterade iakttagelser vid stationen och hamnen med 20 % till 2025.",
        ),
        ("buskorning", "traffic", "Minska rapporterad buskörning med mopeder och A-traktorer med 25 % till 2025."),
        (
            "offentlig_miljo",
            "survey",
            "Trygghetsmätningens problemindex ska sjunka från 1,43 (2023) till högst 1,2 år 2025.",
        ),
        ("unga", "walks", "Fler vuxna ska finnas ute där unga samlas: minst 30 föräldravandringar år 2025."),
    ):
        Goal.objects.create(agreement=agreement, problem=problems[problem], indicator=indicators[indicator], text=text)


def _commitments(agreement: Agreement, kommun: Organisation, polis: Organisation) -> None:
    for party, text in (
        (kommun, "Samordna EST-arbetet och ta fram en gemensam lägesbild varje vecka tillsammans med kommunpolisen."),
        (kommun, "Åtgärda felanmälningar om belysning, klotter och skadegörelse på otrygga platser inom en vecka."),
        (kommun, "Ha fältgruppen ute kvällstid på de platser lägesbilden pekar ut, särskilt under helger och lov."),
        (kommun, "Genomföra drogförebyggande arbete i skolan och stödja föräldravandringar."),
        (polis, "Bidra med polisens lägesbild till den gemensamma veckovisa lägesbilden."),
        (polis, "Prioritera närvaro vid stationen och hamnen de tider lägesbilden visar problem."),
        (polis, "Genomföra trafikkontroller mot buskörning på landsbygden sommarhalvåret."),
        (polis, "Låta kommunpolisen delta i skolans drogförebyggande arbete och i EST-gruppens möten."),
    ):
        Commitment.objects.create(agreement=agreement, party=party, text=text)


def _promises(agreement: Agreement, kommun: Organisation, polis: Organisation) -> None:
    start, end = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
    for order, (party, text, status, follow_up, updated) in enumerate(
        (
            (
                polis,
                "Polisen genomför riktade trafikkontroller mot mopeder och A-traktorer i Köpingebro och Löderup under "
                "sommarhalvåret.",
                PromiseStatus.KEPT,
                "Kontroller genomfördes varje vecka maj–september 2024 och 2025, främst fredagar och lördagar "
                "kvällstid.",
                dt.date(2025, 10, 15),
            ),
            (
                kommun,
                "Kommunen förbättrar belysningen i gångtunnlar i Östra förstaden.",
                PromiseStatus.KEPT,
                "Ny LED-belysning är monterad i fyra gångtunnlar; klart i juni 2024.",
                dt.date(2024, 6, 28),
            ),
            (
                polis,
                "Polisen är synlig vid stationen och hamnen fredag och lördag kväll.",
                PromiseStatus.ONGOING,
                "Närvaron har ökat sedan februari 2025 och samordnas med fältgruppen och bevakningsbolaget.",
                dt.date(2025, 6, 2),
            ),
            (
                kommun,
                "Fältgruppen finns ute i centrum och vid stationen varje helg under skolans lov.",
                PromiseStatus.PARTLY,
                "Fältgruppen var ute under sommar-, höst- och jullov; under sportlovet 2025 saknades personal.",
                dt.date(2025, 3, 20),
            ),
            (
                kommun,
                "Kommunen röjer vegetation och lagar belysning längs gångstråken i Sandskogen.",
                PromiseStatus.ONGOING,
                "Röjningen är klar längs huvudstråket; belysningen byts under hösten 2025.",
                dt.date(2025, 9, 1),
            ),
            (
                polis,
                "Kommunpolisen besöker alla högstadieskolor minst en gång per termin för att prata om droger.",
                PromiseStatus.KEPT,
                "Samtliga högstadieskolor besöktes varje termin 2024 och 2025.",
                dt.date(2025, 12, 15),
            ),
            (
                kommun,
                "Klotter på kommunens fastigheter i centrum tas bort inom 48 timmar efter felanmälan.",
                PromiseStatus.NOT_KEPT,
                "Målet nåddes inte: i genomsnitt tog det fyra dagar. Ett nytt saneringsavtal gäller från 2026.",
                dt.date(2025, 12, 15),
            ),
        )
    ):
        CitizenPromise.objects.create(
            agreement=agreement,
            period_start=start,
            period_end=end,
            text=text,
            responsible=party,
            status=status,
            follow_up=follow_up,
            follow_up_updated=updated,
            ordering=order,
        )


def _measures(
    agreement: Agreement,
    ystad: Municipality,
    focus: dict[str, FocusArea],
    areas: dict[str, Area | None],
    problems: dict[str, Problem],
    indicators: dict[str, Indicator],
    kommun: Organisation,
    polis: Organisation,
    user: User,
) -> dict[str, Measure]:
    rows: dict[str, dict[str, Any]] = {
        "trafikkontroller": dict(
            title="Riktade trafikkontroller mot mopeder och A-traktorer i Köpingebro och Löderup",
            description="Polisen kontrollerar mopeder och A-traktorer på byvägarna, med hastighetsmätning.",
            focus="trafik",
            kind=MeasureKind.SITUATIONAL,
            term=MeasureTerm.SHORT,
            org=polis,
            areas=["kopingebro", "loderup"],
            time_windows=[{"weekdays": [5, 6], "start": "18:00", "end": "23:00"}],
            start=dt.date(2024, 5, 1),
            end=dt.date(2024, 9, 30),
            status=MeasureStatus.DONE,
            problem="buskorning",
            indicator="traffic",
            expected_effect="Färre rapporter om buskörning i byarna under kontrollperioden.",
        ),
        "belysning": dict(
            title="Ny belysning i gångtunnlar i Östra förstaden",
            description="Gatu- och parkenheten byter till LED-belysning och målar om fyra gångtunnlar.",
            focus="trygghet",
            kind=MeasureKind.SITUATIONAL,
            term=MeasureTerm.LONG,
            org=kommun,
            areas=["ostra"],
            time_windows=[],
            start=dt.date(2024, 3, 1),
            end=dt.date(2024, 6, 28),
            status=MeasureStatus.DONE,
            problem="offentlig_miljo",
            indicator="survey",
            expected_effect="Färre rapporter om otrygga platser och högre upplevd trygghet.",
        ),
        "narvaro_hamnen": dict(
            title="Polisnärvaro vid stationen och hamnen helgkvällar",
            description="Polisen patrullerar till fots vid resecentrum och hamnplanen, samordnat med bevakningen.",
            focus="droger",
            kind=MeasureKind.SITUATIONAL,
            term=MeasureTerm.SHORT,
            org=polis,
            areas=["hamnen"],
            time_windows=[{"weekdays": [5, 6], "start": "20:00", "end": "02:00"}],
            start=dt.date(2025, 2, 7),
            end=dt.date(2025, 5, 31),
            status=MeasureStatus.DONE,
            problem="narkotika",
            indicator="drugs",
            expected_effect="Färre iakttagelser av narkotikahantering vid stationen och hamnen.",
        ),
        "faltgrupp": dict(
            title="Fältgruppen vid stationen fredag och lördag kväll",
            description="Fältgruppen möter unga vid stationen och i centrum och slussar vidare till fritidsgårdar.",
            focus="droger",
            kind=MeasureKind.SOCIAL,
            term=MeasureTerm.LONG,
            org=kommun,
            areas=["hamnen", "centrum"],
            time_windows=[{"weekdays": [5, 6], "start": "19:00", "end": "01:00"}],
            start=dt.date(2024, 9, 1),
            end=None,
            status=MeasureStatus.ONGOING,
            problem="unga",
            indicator=None,
            expected_effect="Fler unga når en vuxen; färre samlingar utan vuxennärvaro.",
        ),
        "sandskogen": dict(
            title="Röjning och belysning längs gångstråken i Sandskogen",
            description="Röjning av sly längs huvudstråket och byte av belysningsstolpar.",
            focus="trygghet",
            kind=MeasureKind.SITUATIONAL,
            term=MeasureTerm.LONG,
            org=kommun,
            areas=["sandskogen"],
            time_windows=[],
            start=dt.date(2025, 4, 1),
            end=dt.date(2025, 11, 30),
            status=MeasureStatus.DELAYED,
            problem="offentlig_miljo",
            indicator=None,
            expected_effect="Ökad trygghet för dem som går genom Sandskogen kvällstid.",
        ),
        "skolpolis": dict(
            title="Drogförebyggande lektioner med kommunpolisen i årskurs 8",
            description="Kommunpolisen och skolans elevhälsa håller gemensamma lektioner om droger och risker.",
            focus="droger",
            kind=MeasureKind.SOCIAL,
            term=MeasureTerm.LONG,
            org=polis,
            areas=[],
            time_windows=[],
            start=dt.date(2025, 9, 1),
            end=None,
            status=MeasureStatus.PLANNED,
            problem="unga",
            indicator=None,
            expected_effect="Senare debut och lägre bruk bland unga.",
        ),
    }
    result = {}
    for key, row in rows.items():
        measure = Measure.objects.create(
            agreement=agreement,
            municipality=ystad,
            title=row["title"],
            description=row["description"],
            focus_area=focus[row["focus"]],
            kind=row["kind"],
            term=row["term"],
            responsible_organisation=row["org"],
            time_windows=row["time_windows"],
            start=row["start"],
            end=row["end"],
            status=row["status"],
            problem=problems[row["problem"]],
            indicator=indicators[row["indicator"]] if row["indicator"] else None,
            motivation=problems[row["problem"]].description,
            expected_effect=row["expected_effect"],
            created_by=user,
        )
        measure.areas.set([a for name in row["areas"] if (a := areas[name]) is not None])
        result[key] = measure
    return result


def _meetings(
    agreement: Agreement,
    ystad: Municipality,
    measures: dict[str, Measure],
    kommun: Organisation,
    polis: Organisation,
    user: User,
) -> None:
    steering = Meeting.objects.create(
        municipality=ystad,
        agreement=agreement,
        held_on=dt.date(2024, 3, 12),
        title="Styrgruppsmöte, första kvartalet 2024",
        agenda=(
            "1. Lägesbild 2023 och trygghetsmätningen\n"
            "2. Medborgarlöften 2024–2025\n"
            "3. Åtgärder inför sommarhalvåret\n"
            "4. Övrigt"
        ),
        minutes=(
            "Kommunpolisen redovisade lägesbilden för 2023: narkotikahanteringen vid stationen och hamnen och "
            "buskörningen i Köpingebro och Löderup sticker ut. Styrgruppen fastställde medborgarlöftena för "
            "2024–2025."
        ),
        created_by=user,
    )
    Decision.objects.create(
        meeting=steering,
        text="Medborgarlöftena för 2024–2025 fastställs och publiceras på kommunens och polisens webbplatser.",
        owner=kommun,
    )
    Decision.objects.create(
        meeting=steering,
        text="Polisen genomför riktade trafikkontroller i Köpingebro och Löderup maj–september.",
        owner=polis,
        measure=measures["trafikkontroller"],
    )
    Decision.objects.create(
        meeting=steering,
        text="Gatu- och parkenheten byter belysningen i gångtunnlarna i Östra förstaden före sommaren.",
        owner=kommun,
        measure=measures["belysning"],
    )
    est = Meeting.objects.create(
        municipality=ystad,
        agreement=agreement,
        held_on=dt.date(2025, 2, 4),
        title="EST-möte vecka 6",
        agenda=(
            "1. Föregående mötes beslut\n"
            "2. Lägesbild vecka 5: fler iakttagelser av narkotikahantering vid stationen\n"
            "3. Åtgärder som pågår\n"
            "4. Beslut: prioriterade platser till nästa vecka"
        ),
        minutes=(
            "Rapportörerna ser fler iakttagelser av narkotikahantering vid stationen helgkvällar. Fältgruppen "
            "bekräftar bilden. Polisen ökar närvaron från vecka 6."
        ),
        created_by=user,
    )
    Decision.objects.create(
        meeting=est,
        text="Polisen prioriterar stationen och hamnen fredag och lördag kväll från vecka 6 till och med maj.",
        owner=polis,
        measure=measures["narvaro_hamnen"],
    )
    Decision.objects.create(
        meeting=est,
        text="Kommunen felanmäler den trasiga belysningen bakom terminalbyggnaden.",
        owner=kommun,
    )
