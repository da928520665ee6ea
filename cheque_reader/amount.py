"""Digits and separators into amount text, value and a grammar check.

Four writing conventions are understood: US (``1,234.56``), Indian (``25,00,000/-``),
European (``1.234,56``) and British pounds-and-pence with a dash (``1234-56``). Marks before
the first digit (guard marks ``--1234``, a stray ``.``), terminators (``/-``, ``-``, ``=``,
``.-``, ``,-``, and a closing ``.`` or ``,`` as in Chile's ``17.311.``) and fraction cents
(``1234 56/100``) are accepted.

>>> parse_amount("1,234.56")
ParsedAmount(value='1234.56', convention='us', grammar_ok=True)
>>> parse_amount("25,00,000/-")
ParsedAmount(value='2500000.00', convention='in', grammar_ok=True)
>>> parse_amount("1.234,56").value
'1234.56'
>>> parse_amount("1,2,3").grammar_ok
False
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from .types import AmountRead

#: Conventions in the order they are tried when no preference is given (``uk``: a dash before the pence,
#: ``1234-56``, the British way; a text that parses in another convention reads as it did without it).
CONVENTIONS = ("us", "in", "eu", "uk")

#: Conventions tried only when a convention is preferred (a whole cheque whose layout sets one): in a
#: bare field of unknown convention a stray dash read between digits is no pence, and would make cents
#: of a whole amount (5 of ORAND's 1,080 Chilean fields, ``50000`` read ``500-00``, became 500.00, no
#: longer flagged ``grammar``).
PREFERRED_ONLY = ("uk",)

#: Conventions a text closed by a slash (``/-``, ``/=``, ``/``: "and no paise", South Asian usage)
#: is not written in: ``8,48/-`` is a misread rupee amount (``8,648/-``), not 8 euros 48.
SLASH_TERMINATOR_NOT = ("eu", "uk")

#: Conventions a text closed by a point or comma and a dash (``.-``, ``,-``: "and no cents") is not
#: written in: ``1-53,-`` is a stray dash in ``153,-``, not 1 pound 53.
NO_CENTS_TERMINATOR_NOT = ("uk",)

_GRAMMARS = {
    # integer part, optional decimal part
    "us": re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d{2}))?$"),
    "in": re.compile(r"^(?P<int>\d{1,2}(?:,\d{2})*,\d{3}|\d+)(?:\.(?P<dec>\d{2}))?$"),
    "eu": re.compile(r"^(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<dec>\d{2}))?$"),
    "uk": re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+|\d+)-(?P<dec>\d{2})$"),
}
_FRACTION = re.compile(r"^(?P<int>[\d,.]*\d)\s*(?P<dec>\d{2})/100$")
_TERMINATOR = re.compile(r"(?:[.,/]?[-=]+|/|[.,])$")
#: Marks before the first digit: guard marks (``--1234``) or scraps; a point or comma there
#: separates nothing, except before cents alone (``.75``), which are kept.
_GUARD = re.compile(r"^[-=.,]+(?!\d{2}$)")


@dataclass(frozen=True)
class ParsedAmount:
    """The value of an amount text, the convention that parsed it, and whether one did.

    >>> parse_amount("1,234.56")
    ParsedAmount(value='1234.56', convention='us', grammar_ok=True)
    """

    value: str | None
    convention: str
    grammar_ok: bool


def parse_amount(text: str, prefer: str | None = None) -> ParsedAmount:
    """Parse amount ``text`` (digits and ``, . - / =`` separators) into a decimal string.

    ``prefer`` (``"us"``, ``"in"``, ``"eu"`` or ``"uk"``) is tried first; without one, the
    conventions of :data:`PREFERRED_ONLY` are not tried. When no convention parses the text, the
    value is formed from the digits alone and ``grammar_ok`` is False.

    >>> parse_amount("125.-")
    ParsedAmount(value='125.00', convention='us', grammar_ok=True)
    >>> parse_amount("17.311.")
    ParsedAmount(value='17311.00', convention='eu', grammar_ok=True)
    >>> parse_amount("--64.032--").value, parse_amount("3.158,").value
    ('64032.00', '3158.00')
    >>> parse_amount("1234 56/100").value, parse_amount("1234 56/100-").value
    ('1234.56', '1234.56')
    >>> parse_amount("8,48").grammar_ok, parse_amount("8,48/-").grammar_ok   # no euro cents before a '/-'
    (True, False)
    >>> parse_amount("1234-56", "uk"), parse_amount("1,234-56-", "us").value   # British pence after a dash
    (ParsedAmount(value='1234.56', convention='uk', grammar_ok=True), '1234.56')
    >>> parse_amount("1234-56").grammar_ok, parse_amount("1-53,-", "uk").grammar_ok   # no convention; ',-': no cents
    (False, False)
    """
    body = _bare(text)
    frac = _fraction(text)
    if frac:
        head = parse_amount(frac.group("int"), prefer)
        if head.value is not None and head.value.endswith(".00"):
            return ParsedAmount(head.value[:-3] + "." + frac.group("dec"), head.convention, head.grammar_ok)
    order = ([prefer] if prefer in _GRAMMARS else []) + [
        c for c in CONVENTIONS if c != prefer and (prefer is not None or c not in PREFERRED_ONLY)]
    terminator = (_TERMINATOR.search(text.strip().replace(" ", "")) or [""])[0]
    if "/" in terminator:
        order = [c for c in order if c not in SLASH_TERMINATOR_NOT]
    if terminator[:1] in (".", ",") and terminator[1:2] in ("-", "="):
        order = [c for c in order if c not in NO_CENTS_TERMINATOR_NOT]
    for convention in order:
        m = _GRAMMARS[convention].match(body)
        if m:
            integer = re.sub(r"\D", "", m.group("int"))
            return ParsedAmount(_format(integer, m.group("dec")), convention, True)
    digits = re.sub(r"\D", "", body)
    return ParsedAmount(_format(digits, None) if digits else None, "", False)


def is_unmarked(text: str) -> bool:
    """Whether amount ``text`` is digits alone, or digits and a bare closing dash: no separator or cents.

    On a cheque whose convention writes such marks (``us``, ``in-cts``), a read without any
    has most likely lost them, a decimal point among them, and its value is then 100 times
    too large (``762.00`` read ``76200``); the pipeline sends such reads to review. A dash
    alone does not say where the amount ends: ``37.02-`` and ``3702.-`` both read ``3702-``
    when their point is lost, and ``3702/-`` when its slash is.

    >>> is_unmarked("76200"), is_unmarked("3702--"), is_unmarked("762.00"), is_unmarked("25000/-")
    (True, True, False, False)
    """
    digits = text.rstrip("-")
    return digits.isascii() and digits.isdigit()


def _bare(text: str) -> str:
    """``text`` without spaces, a closing terminator and the marks before the first digit."""
    return _GUARD.sub("", _TERMINATOR.sub("", text.strip().replace(" ", "")))


def _fraction(text: str) -> re.Match | None:
    """The ``xx/100`` cents match of ``text``, spaces, leading marks and a closing terminator aside."""
    return _FRACTION.match(_bare(text))


def _format(integer: str, decimals: str | None) -> str:
    integer = integer.lstrip("0") or "0"
    return f"{integer}.{decimals or '00'}"


def format_amount(value: str, convention: str = "us") -> str:
    """Write a decimal string the way ``convention`` groups it (the inverse of :func:`parse_amount`).

    >>> format_amount("2500000.00", "in")
    '25,00,000.00'
    >>> format_amount("1234.56", "eu")
    '1.234,56'
    """
    integer, _, dec = value.partition(".")
    dec = (dec + "00")[:2]
    if convention == "in" and len(integer) > 3:
        head, tail = integer[:-3], integer[-3:]
        groups = [head[max(0, i - 2) : i] for i in range(len(head), 0, -2)][::-1]
        grouped = ",".join(groups + [tail])
    else:
        groups = [integer[max(0, i - 3) : i] for i in range(len(integer), 0, -3)][::-1]
        grouped = ("." if convention == "eu" else ",").join(groups)
    return f"{grouped},{dec}" if convention == "eu" else f"{grouped}.{dec}"


def grammatical_edits(text: str, prefer: str | None = None) -> list[tuple[int, str]]:
    """The one-digit edits that make an ungrammatical ``text`` parse (in the ``prefer`` convention,
    when one is given): ``(k, replacement)`` for the ``k``-th digit dropped (``""``), read as a
    separator instead (``","`` or ``"."``), or written twice (``"00"`` for a ``0``). The marks
    before the first digit and after the last stay as they are (a dropped first digit must not
    leave a separator leading the amount).

    A digit too many inside a group (a looped 2 read as "02"), a separator read as a digit, or
    a digit too few in a run of the same digit (a reader that decodes with CTC, as the field
    reader does, merges a repeat it sees no gap in: ``00`` read ``0``) are the usual ways a read
    breaks the grammar.

    >>> grammatical_edits("30,0200/-", "in")
    [(2, ''), (3, ''), (4, ''), (5, '')]
    >>> grammatical_edits("1,200000/-", "in")     # 1,20,000 or 1,200.00: the same digits
    [(3, ','), (4, '.')]
    >>> grammatical_edits("1,25,00,00/-", "in")   # one 0 of the last group lost
    [(5, '00'), (6, '00')]
    >>> grammatical_edits("1,234.56")
    []
    """
    if parse_amount(text, prefer).grammar_ok:
        return []
    positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    if not positions:
        return []
    first, last = positions[0], positions[-1]

    def same_ends(edited: str) -> bool:
        digits_at = [j for j, ch in enumerate(edited) if ch.isdigit()]
        return bool(digits_at) and edited[: digits_at[0]] == text[:first] and edited[digits_at[-1] + 1 :] == text[last + 1 :]

    k_of = {i: k for k, i in enumerate(positions)}
    return [(k_of[i], replacement) for i, replacement, edited, _ in _parsing_edits(text, positions, prefer)
            if same_ends(edited)]


def _parsing_edits(text: str, positions: Sequence[int], prefer: str | None):
    """``(position, replacement, edited text, parsed)`` for each character of ``text`` at ``positions``
    dropped, read as ``,`` or ``.`` instead, or (a digit) written twice, where the edited text parses
    (in the ``prefer`` convention, when one is given): the edits :func:`grammatical_edits` and
    :func:`separator_edits` choose from."""
    for i in positions:
        for replacement in ("", ",", ".") + ((2 * text[i],) if text[i].isdigit() else ()):
            if replacement == text[i]:
                continue
            edited = text[:i] + replacement + text[i + 1 :]
            parsed = parse_amount(edited, prefer)
            if parsed.grammar_ok and (prefer is None or parsed.convention == prefer):
                yield i, replacement, edited, parsed


def separator_edits(text: str, prefer: str | None = None) -> list[tuple[str, str]]:
    """The one-mark edits that make an ungrammatical ``text`` parse (in the ``prefer`` convention,
    when one is given): ``(edited text, value)`` for each mark between two digits read as
    another separator (``,`` ``.``) or dropped, so long as a mark stays between the digits (an
    ungrammatical text's value is already that of its digits as one number). The digits stay as read.

    A comma read as a point, a point as a dash, or a stray mark: the usual ways the marks of a
    read break the grammar when its digits are right.

    >>> sorted({v for _, v in separator_edits("39.952.00")})          # every edit: the same value
    ['39952.00']
    >>> separator_edits("22,39.000.00-", "in"), separator_edits("39.952.00", "us")
    ([('22,39,000.00-', '2239000.00')], [('39,952.00', '39952.00'), ('39952.00', '39952.00')])
    >>> separator_edits("1,234.56"), separator_edits("51,0200-", "in")   # the second: a digit too many
    ([], [])
    """
    if parse_amount(text, prefer).grammar_ok:
        return []
    digit_at = [i for i, ch in enumerate(text) if ch.isdigit()]
    inner = [i for i in range(digit_at[0] + 1, digit_at[-1]) if not text[i].isdigit()] if digit_at else []
    edits = [(edited, parsed.value) for _, replacement, edited, parsed in _parsing_edits(text, inner, prefer)
             # a mark must stay between the digits (else their value as one number, as before)
             if parsed.value and not edited[digit_at[0] : digit_at[-1] - (not replacement)].isdigit()]
    return sorted(edits, key=lambda e: len(e[0]) < len(text))  # marks changed before marks dropped


def text_digits(text: str) -> str:
    """The amount digits of ``text``: its digits, but for the printed ``/100`` of fraction cents.

    >>> text_digits("1,234 56/100"), text_digits("1,234.56"), text_digits("4955-2/100")
    ('123456', '123456', '49552100')
    """
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits[:-3] if _fraction(text) else digits


def assemble_amount(tokens: Sequence[tuple[str, float]], prefer: str | None = None) -> AmountRead:
    """Join ``(character, confidence)`` tokens left to right into an :class:`AmountRead`.

    Digit tokens are ``"0"``..``"9"``; any other character is a separator and goes into
    ``text`` only. The confidence is the product of the digit confidences (the
    probability that every digit is right, if the calibrated digits are independent).

    >>> a = assemble_amount([("7", 0.9), ("2", 1.0), (".", 1.0), ("0", 1.0), ("0", 1.0)])
    >>> a.digits, a.text, a.amount, round(a.confidence, 2)
    ('7200', '72.00', '72.00', 0.9)

    Fraction cents keep their numerator only: ``1234 56/100`` has the digits ``123456``. A run of
    ``-`` (or ``=``), a long dash the segmenter cut in pieces, is one mark:

    >>> assemble_amount([(c, 1.0) for c in "2500/----"]).text
    '2500/-'
    """
    tokens = [t for i, t in enumerate(tokens) if not (i and t[0] in "-=" and t[0] == tokens[i - 1][0])]
    text = "".join(ch for ch, _ in tokens)
    digit_tokens = [(ch, p) for ch, p in tokens if ch.isdigit()]
    if _fraction(text):
        digit_tokens = digit_tokens[:-3]  # the "/100" denominator is printed form, not amount digits
    digits = "".join(ch for ch, _ in digit_tokens)
    logp = sum(math.log(max(p, 1e-12)) for _, p in digit_tokens)
    if not digits:
        return AmountRead(digits="", text=text, amount=None, confidence=0.0, grammar_ok=False)
    parsed = parse_amount(text, prefer)
    return AmountRead(
        digits=digits,
        text=text,
        amount=parsed.value,
        confidence=math.exp(logp),
        grammar_ok=parsed.grammar_ok,
        convention=parsed.convention,
    )
