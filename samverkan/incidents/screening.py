"""Screening of free text for personal data before a report is saved.

Place, not person: a description of an observation must not identify anyone, but people write what they see, and
sometimes that is a personal identity number, a phone number, an e-mail address or a number plate. ``screen`` finds
these so that a reviewer can redact them, ``redact`` replaces them, and ``highlight_segments`` splits the text for a
template that marks each match.

The rules favour recall on the formats people in Sweden actually write, while leaving alone the numbers that fill
ordinary observation text: times ("kl 22.30", "kl 0100-0300"), dates ("2024-05-03"), counts ("20-25 ungdomar"),
street and flat numbers ("Stora Östergatan 12", "lgh 1102"), postal codes ("271 39") and roads ("E65", "väg 19").
"""

from __future__ import annotations

import bisect
import calendar
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PERSONNUMMER = "personnummer"
PHONE = "phone"
EMAIL = "email"
PLATE = "plate"

KIND_LABELS: dict[str, Promise] = {
    PERSONNUMMER: _("personal identity number"),
    PHONE: _("phone number"),
    EMAIL: _("e-mail address"),
    PLATE: _("number plate"),
}

DEFAULT_REPLACEMENT = "[borttaget]"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data in a text: its kind and the span ``text[start:end]``."""

    kind: str
    start: int
    end: int
    text: str

    @property
    def label(self) -> Promise:
        return KIND_LABELS[self.kind]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "start": self.start, "end": self.end, "text": self.text}


class _Candidate(NamedTuple):
    start: int
    end: int
    kind: str
    # When candidates overlap the higher rank wins: the kind whose pattern is less likely to match by accident.
    rank: int


_RANK_EMAIL = 50
_RANK_PERSONNUMMER = 40
_RANK_PHONE = 30
# Ten digits without a separator that pass the checksum and start with a valid date: if they also read as a phone
# number (a leading 0 means born 1900-1909 or 2000-2009), a phone number is the likelier reading.
_RANK_PERSONNUMMER_BARE = 20
_RANK_PLATE = 10

# Separators as typed or pasted: spaces including the non-breaking ones, and hyphens including the en dash that word
# processors substitute.
_SPACE = "[ \u00a0\u202f]"
_DASH = "[-\u2010\u2011\u2012\u2013]"


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum (the last digit of a personnummer is its check digit)."""
    if not digits or not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"luhn_valid needs a non-empty string of digits, got {digits!r}")
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _search_all(
    pattern: re.Pattern[str], text: str, accept: Callable[[re.Match[str]], int | None]
) -> Iterator[tuple[int, int, int]]:
    """Every match that ``accept`` keeps; after a rejected match the search resumes one character later, so a
    rejected reading cannot hide an acceptable one that starts inside it."""
    pos = 0
    while (match := pattern.search(text, pos)) is not None:
        verdict = accept(match)
        if verdict is None:
            pos = match.start() + 1
        else:
            yield match.start(), match.end(), verdict
            pos = max(match.end(), match.start() + 1)


# --- personnummer and samordningsnummer ---------------------------------------------------------------------------

_PERSONNUMMER = re.compile(
    rf"""
    (?<![0-9])
    (?P<century>18|19|20)?
    (?P<yy>[0-9]{{2}})(?P<mm>[0-9]{{2}})(?P<dd>[0-9]{{2}})
    (?P<sep>{_SPACE}?(?:{_DASH}|\+){_SPACE}?|{_SPACE})?
    (?P<serial>[0-9]{{4}})
    (?![0-9])
    """,
    re.VERBOSE,
)


def _valid_birth_date(century: str | None, yy: str, mm: str, dd: str) -> bool:
    month, day = int(mm), int(dd)
    if day > 60:  # samordningsnummer: the day of birth plus 60
        day -= 60
    if not 1 <= month <= 12 or day < 1:
        return False
    years = [int(century + yy)] if century else [1900 + int(yy), 2000 + int(yy)]
    return any(day <= calendar.monthrange(year, month)[1] for year in years)


def _personnummer_rank(match: re.Match[str]) -> int | None:
    century, sep = match["century"], match["sep"]
    if not _valid_birth_date(century, match["yy"], match["mm"], match["dd"]):
        return None
    check = match["yy"] + match["mm"] + match["dd"] + match["serial"]
    if sep is None:
        # Bare digits are common in ordinary text (order and case numbers), so the checksum must hold.
        if not luhn_valid(check):
            return None
        return _RANK_PERSONNUMMER if century else _RANK_PERSONNUMMER_BARE
    # The canonical "850709-1234" is flagged even with a wrong check digit: a mistyped personnummer is still one.
    # Looser separators (a space, spaced dashes) are also how date and time ranges are written, so they need the
    # checksum as well.
    if not (sep == "+" or re.fullmatch(_DASH, sep)) and not luhn_valid(check):
        return None
    return _RANK_PERSONNUMMER


def _personnummer_candidates(text: str) -> Iterator[_Candidate]:
    for start, end, rank in _search_all(_PERSONNUMMER, text, _personnummer_rank):
        yield _Candidate(start, end, PERSONNUMMER, rank)


# --- phone numbers ---------------------------------------------------------------------------------------------------

# A run of digit groups. "(0)" after a country code and an area code in brackets, "(0411)", are groups of their own.
_PAREN_GROUP = r"\(0[0-9]{0,3}\)"
_PHONE_GROUP = re.compile(rf"{_PAREN_GROUP}|[0-9]+")
_PHONE_SEP = rf"(?:{_SPACE}?{_DASH}{_SPACE}?|{_SPACE})"
_PHONE_RUN = re.compile(
    # Not run on from a letter, nor from a dash unless it stands apart as a bullet does ("-070-123 45 67"). A digit
    # before a "+" is fine: "811218-9876+46 70 123 45 67" is two things typed flush.
    rf"(?<![^\W\d])(?<!\+)(?<!\S{_DASH})\+?(?:{_PAREN_GROUP}|[0-9]+)"
    rf"(?:{_PHONE_SEP}(?:{_PAREN_GROUP}|[0-9]+)|{_PAREN_GROUP}|(?<=\))[0-9]+)*"
)
_HHMM = re.compile(r"(?:[01][0-9]|2[0-4])[0-5][0-9]")

_MIN_PHONE_DIGITS = 8
_MAX_NATIONAL_DIGITS = 10  # 07X-XXX XX XX; landlines are 8 to 10 digits with the leading 0
_MAX_INTERNATIONAL_DIGITS = 15  # ITU-T E.164
# Fixed lengths of the neighbours across the water from Skåne (Denmark, Norway, Poland), so that a number from there is
# not run on into the digits after it.
_NEIGHBOUR_NATIONAL_DIGITS = {"45": 8, "47": 8, "48": 9}


class _Group(NamedTuple):
    start: int
    end: int
    digits: str
    bracketed: bool
    after_space: bool  # separated from the group before it by spaces only


def _valid_national(digits: str) -> bool:
    if digits.startswith("07"):  # mobile and other 07 numbers always have ten digits
        return len(digits) == _MAX_NATIONAL_DIGITS
    return _MIN_PHONE_DIGITS <= len(digits) <= _MAX_NATIONAL_DIGITS and digits[0] == "0" and digits[1] != "0"


def _valid_phone(groups: list[_Group], international: bool) -> bool:
    # Single digits between separators are counts and lists ("0 1 2 3"), not phone numbers; the exceptions are a
    # country code such as "+1" and the "(0)" written after one.
    for index, group in enumerate(groups):
        if len(group.digits) < 2 and not group.bracketed and not (international and index == 0):
            return False
    # "0100-0300" and "0800 1000" are times written without a colon, also when a number follows them
    # ("kl 0800 1000 08-123 456 78"). Area code and subscriber are not written as four and four digits.
    if len(groups) >= 2 and all(_HHMM.fullmatch(g.digits) for g in groups[:2]):
        return False
    if international:
        digits = "".join(g.digits for g in groups if g.digits != "0" or not g.bracketed)
        if digits.startswith("46"):
            return _valid_national("0" + digits[2:].removeprefix("0"))
        for country, length in _NEIGHBOUR_NATIONAL_DIGITS.items():
            if digits.startswith(country):
                return len(digits) == len(country) + length
        return _MIN_PHONE_DIGITS <= len(digits) <= _MAX_INTERNATIONAL_DIGITS
    if len(groups) > 1 and 2 <= len(groups[0].digits) <= 4:
        # Read the first group as the area code. Stockholm's 08 is the only one with two digits, and no subscriber
        # number starts with 0: "05 070-123 45 67" and "040 070-123 45 67" hold a stray number before a mobile one.
        if (len(groups[0].digits) == 2 and groups[0].digits != "08") or groups[1].digits.startswith("0"):
            return False
    digits = "".join(g.digits for g in groups)
    if digits.startswith("0046"):
        return _valid_national("0" + digits[4:].removeprefix("0"))
    return _valid_national(digits)


def _phone_candidates(text: str) -> Iterator[_Candidate]:
    for run in _PHONE_RUN.finditer(text):
        international = run.group().startswith("+")
        groups = []
        previous_end = 0
        for g in _PHONE_GROUP.finditer(run.group()):
            separator = run.group()[previous_end : g.start()]
            after_space = bool(separator) and re.fullmatch(f"{_SPACE}+", separator) is not None
            groups.append(
                _Group(
                    run.start() + g.start(),
                    run.start() + g.end(),
                    g.group().strip("()"),
                    g.group().startswith("("),
                    after_space,
                )
            )
            previous_end = g.end()
        first = 0
        while first < len(groups):
            plus = international and first == 0
            # A number starts the run or follows a space: after a dash it would be the tail of a date or a range.
            starts_number = first == 0 or groups[first].after_space
            if not (starts_number and (plus or groups[first].digits.startswith("0"))):
                first += 1
                continue
            # The longest valid prefix, so that a count or a second number typed right after is left out.
            last = None
            count = 0
            for stop in range(first + 1, len(groups) + 1):
                count += len(groups[stop - 1].digits)
                if count > _MAX_INTERNATIONAL_DIGITS + 1:  # room for a "(0)" that does not count
                    break
                if _valid_phone(groups[first:stop], plus):
                    last = stop
            if last is None:
                first += 1
                continue
            start = run.start() if plus else groups[first].start
            yield _Candidate(start, groups[last - 1].end, PHONE, _RANK_PHONE)
            first = last


# --- e-mail addresses ---------------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w%+-]+(?:\.[\w%+-]+)*"
    rf"(?:@|{_SPACE}?[(\[](?i:at)[)\]]{_SPACE}?)"  # "anna (at) ystad.se" is written to fool harvesters, not us
    # The top-level domain is letters; digits may follow it directly, as when text is pasted together.
    r"[^\W_][\w-]*(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![^\W\d]|-)"
)


def _email_candidates(text: str) -> Iterator[_Candidate]:
    for match in _EMAIL.finditer(text):
        yield _Candidate(match.start(), match.end(), EMAIL, _RANK_EMAIL)


# --- number plates ----------------------------------------------------------------------------------------------------

# Transportstyrelsen leaves out I, Q, V, Å, Ä and Ö; both cases, because people type "abc123".
_PLATE_LETTER = "[A-HJ-PR-UW-Za-hj-pr-uw-z]"
_PLATE = re.compile(
    rf"(?<!\w)(?P<letters>{_PLATE_LETTER}{{3}})(?:{_SPACE}|-)?[0-9]{{2}}(?:[0-9]|{_PLATE_LETTER})(?!\w)"
)
# Three-letter words and abbreviations that are followed by a number in ordinary text ("mellan 100 och 200",
# "ett 100-tal", "max 30 km/h", "ringde SOS 112", "Box 123", "25 000 SEK", "TPL 139", "1 maj 2024" cut short, "en
# BMW 320", "KTM 125"). A real plate made of one of these letter groups is missed: rare, and the price of not flagging
# every such sentence.
_PLATE_STOPWORDS = frozenset(
    """
    all att den det dom ett fem han har hon hos jag kan man med men mot nej ner nya och oss per sen sex sju ska som
    tre typ upp ute
    art box brf dkk eur gbp gps hus kap lgh lss max nok obs ref rum sek sms sos tel tfn tot tpl usd
    jan feb mar apr maj jun jul aug sep okt nov dec
    amg bmw cla cls gla glc gle ktm slk
    and are but for had has not out the was
    """.split()
)


def _plate_candidates(text: str) -> Iterator[_Candidate]:
    for match in _PLATE.finditer(text):
        if match["letters"].lower() not in _PLATE_STOPWORDS:
            yield _Candidate(match.start(), match.end(), PLATE, _RANK_PLATE)


# --- public interface ---------------------------------------------------------------------------------------------


def screen(text: str) -> list[Finding]:
    """Find personal data in ``text``: personnummer, phone numbers, e-mail addresses and number plates.

    The findings are sorted by position and never overlap; where two readings overlap, the more specific kind wins
    (an e-mail address over the digits in it, a personnummer over a phone-like reading of the same digits).
    """
    candidates = [
        *_personnummer_candidates(text),
        *_phone_candidates(text),
        *_email_candidates(text),
        *_plate_candidates(text),
    ]
    candidates.sort(key=lambda c: (-c.rank, c.start - c.end, c.start))
    starts: list[int] = []
    chosen: list[_Candidate] = []
    for candidate in candidates:
        index = bisect.bisect_right(starts, candidate.start)
        if index > 0 and chosen[index - 1].end > candidate.start:
            continue
        if index < len(chosen) and chosen[index].start < candidate.end:
            continue
        starts.insert(index, candidate.start)
        chosen.insert(index, candidate)
    return [Finding(c.kind, c.start, c.end, text[c.start : c.end]) for c in chosen]


def _spans(text: str, findings: Iterable[Finding | Mapping[str, Any]]) -> list[tuple[int, int, str]]:
    """Validated spans, sorted, with overlapping ones merged (stored findings may come from older rules)."""
    spans = []
    for item in findings:
        expected: str | None
        if isinstance(item, Finding):
            kind, start, end, expected = item.kind, item.start, item.end, item.text
        elif isinstance(item, Mapping):
            missing = [key for key in ("kind", "start", "end") if key not in item]
            if missing:
                raise ValueError(f"finding {item!r} lacks {', '.join(missing)}")
            kind, start, end, expected = item["kind"], item["start"], item["end"], item.get("text")
        else:
            raise TypeError(f"a finding is a Finding or a mapping, not {type(item).__name__}")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise ValueError(f"finding {kind!r} has non-integer offsets {start!r}, {end!r}")
        if not 0 <= start < end <= len(text):
            raise ValueError(f"finding {kind!r} at {start}-{end} lies outside a text of {len(text)} characters")
        if expected is not None and text[start:end] != expected:
            raise ValueError(f"finding {kind!r} at {start}-{end} no longer matches the text; screen it again")
        spans.append((start, end, str(kind)))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            previous = merged[-1]
            merged[-1] = (previous[0], max(previous[1], end), previous[2])
        else:
            merged.append((start, end, kind))
    return merged


def redact(
    text: str,
    findings: Iterable[Finding | Mapping[str, Any]] | None = None,
    replacement: str = DEFAULT_REPLACEMENT,
) -> str:
    """``text`` with each finding's span replaced by ``replacement``; everything else is kept exactly.

    ``findings`` are ``Finding`` objects or their stored ``as_dict()`` form. A finding whose offsets fall outside the
    text, or whose recorded text no longer matches, raises ValueError: the text has changed since it was screened, and
    redacting by stale offsets would remove the wrong characters.

    When ``findings`` is None the text is screened here, and screened again after each round of replacements: data
    typed flush against a match ("811218-9876anna@ystad.se") only stands out once its neighbour is gone.
    """
    if findings is not None:
        return _replace(text, _spans(text, findings), replacement)
    for _round in range(_MAX_REDACTION_ROUNDS):
        spans = _spans(text, screen(text))
        if not spans:
            break
        text = _replace(text, spans, replacement)
    return text


# Each round can only expose what was glued to a match; the cap stops a replacement that itself looks like personal
# data from looping for ever.
_MAX_REDACTION_ROUNDS = 10


def _replace(text: str, spans: list[tuple[int, int, str]], replacement: str) -> str:
    # From the end, so that each replacement leaves the offsets of the earlier spans valid.
    for start, end, _kind in reversed(spans):
        text = text[:start] + replacement + text[end:]
    return text


def highlight_segments(
    text: str, findings: Iterable[Finding | Mapping[str, Any]] | None = None
) -> list[tuple[str, str | None]]:
    """Split ``text`` into ``(segment, kind)`` pairs, ``kind`` None between findings, for a template to mark each
    finding. Joining the segments gives back ``text``. Findings are checked as in ``redact``."""
    segments: list[tuple[str, str | None]] = []
    position = 0
    for start, end, kind in _spans(text, screen(text) if findings is None else findings):
        if start > position:
            segments.append((text[position:start], None))
        segments.append((text[start:end], kind))
        position = end
    if position < len(text):
        segments.append((text[position:], None))
    return segments
