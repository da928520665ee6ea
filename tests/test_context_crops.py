"""scripts/context_crops.py: which of the segmenter's cuts become positives and which "not_digit"."""

from __future__ import annotations

import numpy as np
import pytest

from cheque_reader.model import NOT_DIGIT
from cheque_reader.types import BBox, DigitCandidate
from tests.conftest import load_script


def _ink(w: int, h: int = 20) -> np.ndarray:
    return np.zeros((h, w), np.uint8)  # all ink: w * h pixels


def _cands():
    # primitives: 0 and 1 the two halves of one digit, 2 a digit, 3 a speck, 4 a comma, 5 a digit
    return [
        DigitCandidate(BBox(0, 0, 5, 20), _ink(5), "digit", 0, 1),       # 0: left half
        DigitCandidate(BBox(5, 0, 5, 20), _ink(5), "digit", 1, 2),       # 1: right half
        DigitCandidate(BBox(0, 0, 10, 20), _ink(10), "digit", 0, 2),     # 2: the first digit whole
        DigitCandidate(BBox(5, 0, 15, 20), _ink(15), "digit", 1, 3),     # 3: right half + second digit
        DigitCandidate(BBox(12, 0, 10, 20), _ink(10), "digit", 2, 3),    # 4: the second digit
        DigitCandidate(BBox(12, 0, 12, 20), _ink(12, 17), "digit", 2, 4),  # 5: second digit + speck
        DigitCandidate(BBox(22, 18, 2, 2), _ink(2, 2), "digit", 3, 4),   # 6: the speck
        DigitCandidate(BBox(25, 18, 3, 4), _ink(3, 4), ",", 4, 5),       # 7: a comma
        DigitCandidate(BBox(30, 0, 10, 20), _ink(10), "digit", 5, 6),    # 8: the third digit
    ]


def test_the_spelling_path_labels_the_cuts():
    C = load_script("context_crops")
    idx, labels, ambiguous = C.context_examples(_cands(), (2, 4, 7, 8), "519")
    got = dict(zip(idx, labels))
    assert got == {2: 5, 4: 1, 8: 9,                        # the path's digits, as the truth spells them
                   0: NOT_DIGIT, 1: NOT_DIGIT,              # halves of a split digit
                   3: NOT_DIGIT}                            # a half joined to the next digit
    assert ambiguous == 1                                   # 5: the digit with a speck, left out
    assert 6 not in got and 7 not in got                    # a speck apart from the digits; the comma


def test_the_path_must_spell_the_string():
    C = load_script("context_crops")
    with pytest.raises(ValueError):
        C.context_examples(_cands(), (2, 4, 7, 8), "51")
