"""The result types: what callers do with them beyond reading fields."""

import dataclasses

from cheque_reader.types import BBox, ChequeResult, DigitRead


def _result(**changes) -> ChequeResult:
    base = ChequeResult(source="a.png", page=1, status="ok", digits="12", text="12", amount="12", confidence=0.9,
                        needs_review=False, field=BBox(1, 2, 3, 4),
                        digit_reads=(DigitRead(1, 0.9, 7, 0.05, BBox(0, 0, 2, 3)),), extra={"item_sequence": "7"})
    return dataclasses.replace(base, **changes)


def test_results_are_hashable_and_hash_like_equal_results():
    a, b = _result(), _result()
    assert a == b and hash(a) == hash(b)
    assert len({a, b, _result(digits="13")}) == 2
    counts = {a: 1}
    counts[b] += 1
    assert counts[a] == 2


def test_extra_columns_still_count_in_equality():
    assert _result() != _result(extra={"item_sequence": "8"})
