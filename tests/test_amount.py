import pytest
from hypothesis import given
from hypothesis import strategies as st

from cheque_reader.amount import (
    ParsedAmount,
    assemble_amount,
    format_amount,
    grammatical_edits,
    is_unmarked,
    parse_amount,
)


@pytest.mark.parametrize(
    "text, value, convention",
    [
        ("1,234.56", "1234.56", "us"),
        ("1234.56", "1234.56", "us"),
        ("72.00", "72.00", "us"),
        ("125.-", "125.00", "us"),
        ("125/-", "125.00", "us"),
        ("25,00,000/-", "2500000.00", "in"),
        ("1,00,000", "100000.00", "in"),
        ("1.234,56", "1234.56", "eu"),
        ("12,50", "12.50", "eu"),
        ("2.250", "2250.00", "eu"),
        ("0500", "500.00", "us"),
        ("17.311.", "17311.00", "eu"),   # a closing point, as on Chilean cheques (ORAND CAR-A)
        ("26000.", "26000.00", "us"),
        ("3158,", "3158.00", "us"),       # a closing comma (a ",-" whose dash was not written)
        ("49.575,-", "49575.00", "eu"),
        ("--64032--", "64032.00", "us"),  # guard marks before and after, against inserted digits
        ("=1,234.56=", "1234.56", "us"),
        (".30.668.", "30668.00", "eu"),   # a scrap before the first digit separates nothing
    ],
)
def test_parse_amount_conventions(text, value, convention):
    parsed = parse_amount(text)
    assert (parsed.value, parsed.convention, parsed.grammar_ok) == (value, convention, True)


@pytest.mark.parametrize("text, value, digits_value", [
    ("1234-56", "1234.56", "123456.00"),     # British pounds and pence, a dash between them
    ("1,234-56", "1234.56", "123456.00"),
    ("15740-00-", "15740.00", "1574000.00"),
])
def test_pence_after_a_dash_where_a_layout_prefers_a_convention(text, value, digits_value):
    # a whole cheque's layout sets a convention: the dash form is tried after it (British cheques are
    # taken for US ones); a bare field of unknown convention (ORAND's Chilean "50000" read "500-00")
    # does not make cents of a stray dash, and keeps the grammar flag
    for prefer in ("us", "in", "uk"):
        assert parse_amount(text, prefer) == ParsedAmount(value, "uk", True)
    assert parse_amount(text) == ParsedAmount(digits_value, "", False)


def test_fraction_cents():
    assert parse_amount("1234 56/100").value == "1234.56"
    assert parse_amount("1,234 56/100").value == "1234.56"
    assert parse_amount("256 92/100-").value == "256.92"      # a closing dash after the fraction
    read = assemble_amount([(c, 1.0) for c in "256 92/100-"])
    assert read.digits == "25692" and read.grammar_ok           # the denominator is not amount digits


@pytest.mark.parametrize("text", ["1,2,3", "12.345.67", "1,23,4", ".,", "12.5.", "1..", ".", "1,5,", "-1-2", ".75",
                                  "12-3", "1-234", "1-2-34"])
def test_grammar_violations_are_flagged(text):
    assert not parse_amount(text).grammar_ok


@pytest.mark.parametrize("text", ["8,48/-", "12,34/-", "1.234,56/-", "12,50/=", "8-48/-"])
def test_euro_cents_before_a_closing_slash_break_the_grammar(text):
    # '/-' ("and no paise") closes South Asian amounts: "8,48/-" is a rupee amount misread, not 8.48
    for prefer in (None, "in", "us", "eu"):
        assert not parse_amount(text, prefer).grammar_ok
    assert parse_amount(text.split("/")[0], "us").convention in ("eu", "uk")   # the same marks with no slash: cents
    assert parse_amount("8,648/-").grammar_ok and parse_amount("1,234.56/-").grammar_ok   # US and Indian still do


@pytest.mark.parametrize("text, bare", [("1-53,-", "1-53"), ("12-50.-", "12-50"), ("1,234-56,=", "1,234-56")])
def test_pence_after_a_dash_break_the_grammar_before_a_no_cents_mark(text, bare):
    # ',-' and '.-' say "no cents": "1-53,-" is "153,-" with a stray dash (synthetic eu cheque 469), not 1.53
    for prefer in (None, "us", "in", "eu", "uk"):
        assert not parse_amount(text, prefer).grammar_ok
    assert parse_amount(bare, "us").convention == "uk" and parse_amount(bare + "-", "us").convention == "uk"


def test_preferred_convention_wins_for_ambiguous_text():
    # "1,234" is US one thousand two hundred thirty-four; nothing else parses "1,234" differently,
    # but "1,000" under Indian grouping is the same value: preference only picks the label.
    assert parse_amount("1,000", prefer="in").convention == "in"
    assert parse_amount("1,000").convention == "us"


def test_assemble_amount_confidence_is_product_of_digits():
    read = assemble_amount([("1", 0.5), (",", 0.1), ("2", 0.5), ("3", 1.0), ("4", 1.0)])
    assert read.digits == "1234"
    assert read.text == "1,234"
    assert read.confidence == pytest.approx(0.25)
    assert read.amount == "1234.00"


def test_assemble_amount_without_digits():
    read = assemble_amount([(",", 1.0)])
    assert read.digits == "" and read.amount is None and not read.grammar_ok


@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["us", "in", "eu"]),
)
def test_format_parse_round_trip(integer, cents, convention):
    value = f"{integer}.{cents:02d}"
    text = format_amount(value, convention)
    parsed = parse_amount(text, prefer=convention)
    assert parsed.grammar_ok
    assert parsed.value == value


def test_fraction_denominator_is_not_an_amount_digit():
    tokens = [(c, 0.9) for c in "123456/100"]
    read = assemble_amount(tokens)
    assert read.digits == "123456"
    assert read.amount == "1234.56"
    assert read.confidence == pytest.approx(0.9**6)


def _edited(text: str, k: int, replacement: str) -> str:
    at = [i for i, ch in enumerate(text) if ch.isdigit()][k]
    return text[:at] + replacement + text[at + 1 :]


@pytest.mark.parametrize(
    "text, prefer, edit",
    [
        ("30,0200/-", "in", (2, "")),        # a looped 2 read as "02": a digit too many in a group
        ("1,200000/-", "in", (3, ",")),      # a comma read as 0
        ("39.1528", None, (2, "")),
        ("1,2345", "us", (1, "")),
        ("1,25,00,00/-", "in", (6, "00")),   # a 0 of a run merged into the one before it: a digit too few
        ("1,234,56", "us", (5, "66")),
    ],
)
def test_grammatical_edits_are_one_digit_edits_that_parse(text, prefer, edit):
    edits = grammatical_edits(text, prefer)
    assert edit in edits
    for k, replacement in edits:
        parsed = parse_amount(_edited(text, k, replacement), prefer)
        assert parsed.grammar_ok and (prefer is None or parsed.convention == prefer)


def test_grammatical_edits_keep_the_marks_around_the_digits_and_leave_grammatical_text_alone():
    # dropping the "1" of "1,200000" would leave ",200000", which parses only because a leading
    # mark is ignored: such edits are not offered
    assert all(k != 0 for k, _ in grammatical_edits("1,200000/-", "in"))
    edits = grammatical_edits("12,3456,", None)
    assert (5, "") in edits and not {(5, ","), (5, ".")} & set(edits)     # nor a new closing mark
    assert grammatical_edits("25,00,000/-", "in") == [] and grammatical_edits("1.234,56") == []
    assert grammatical_edits("", None) == [] and grammatical_edits("/-", None) == []


@given(st.text(alphabet="0123456789,.-/", max_size=12), st.sampled_from([None, "us", "in", "eu"]))
def test_grammatical_edits_only_offer_edits_that_parse(text, prefer):
    edits = grammatical_edits(text, prefer)
    if parse_amount(text, prefer).grammar_ok:
        assert edits == []
    digits = [ch for ch in text if ch.isdigit()]
    for k, replacement in edits:
        assert 0 <= k < len(digits) and replacement in ("", ",", ".", 2 * digits[k])
        assert parse_amount(_edited(text, k, replacement), prefer).grammar_ok


@pytest.mark.parametrize("text, unmarked", [
    ("76200", True), ("5", True), ("762.00", False), ("25000/-", False), ("1,250", False),
    ("125-", True), ("125---", True), ("125.-", False), ("-", False), ("1234 56/100", False),
    ("", False), ("٣٤", False),
])
def test_is_unmarked_means_digits_and_at_most_a_bare_closing_dash(text, unmarked):
    assert is_unmarked(text) is unmarked


def test_a_dash_cut_in_pieces_is_one_mark_and_the_value_is_the_same():
    pieces = assemble_amount([(c, 0.9 if c.isdigit() else 1.0) for c in "--64032----"])
    whole = assemble_amount([(c, 0.9 if c.isdigit() else 1.0) for c in "-64032-"])
    assert pieces.text == "-64032-" and pieces == whole
    assert assemble_amount([(c, 1.0) for c in "1,40,00,000/=="]).text == "1,40,00,000/="
    assert assemble_amount([(c, 1.0) for c in "12-=-"]).text == "12-=-"     # different marks stay
