"""Tests for cheque_reader.datasets: the ORAND fold and the label audit."""

from __future__ import annotations

import pandas as pd
from conftest import load_script, needs_data

from cheque_reader import datasets


def _labels_csv(root, rows):
    folder = root / "orand_car_a"
    folder.mkdir()
    pd.DataFrame(rows, columns=["file", "amount_string"]).to_csv(folder / "labels.csv", index=False)


def test_audited_labels_replace_only_the_strings_the_audit_saw(tmp_path):
    (file, (given, written)), (other, _) = list(datasets.ORAND_LABEL_AUDIT.items())[:2]
    _labels_csv(tmp_path, [(file, given), (other, "123"), ("a_car_999999.jpg", "0042")])
    as_given = datasets.load_orand_labels(tmp_path)
    audited = datasets.load_orand_labels(tmp_path, audited=True)
    assert list(as_given["amount_string"]) == [given, "123", "0042"]  # leading zeros kept as text
    # the audited file gets what is written; a file whose label is not the one audited stays as it is
    assert list(audited["amount_string"]) == [written, "123", "0042"]
    assert list(audited["fold"]) == list(as_given["fold"])


def test_every_audit_entry_changes_digits():
    for file, (given, written) in datasets.ORAND_LABEL_AUDIT.items():
        assert given != written and given.isdigit() and written.isdigit(), file


@needs_data("orand_car_a", "labels.csv")
def test_the_audit_matches_the_shared_labels_and_only_held_out_images():
    as_given = datasets.load_orand_labels()
    audited = datasets.load_orand_labels(audited=True)
    changed = as_given["amount_string"] != audited["amount_string"]
    assert set(as_given.loc[changed, "file"]) == set(datasets.ORAND_LABEL_AUDIT)
    scripts = load_script("calibrate_amount")
    held_out = set(scripts.val_labels()["file"]) | set(scripts.cal_labels()["file"])
    assert set(datasets.ORAND_LABEL_AUDIT) <= held_out  # nothing a network trained on was relabelled


def test_audited_digit_boxes_take_the_written_digits_left_to_right(tmp_path):
    file, (given, written) = next((f, gw) for f, gw in datasets.ORAND_LABEL_AUDIT.items() if len(gw[0]) == len(gw[1]))
    folder = tmp_path / "orand_car_a"
    folder.mkdir()
    # the k-th digit's box at x = 10 k, listed right to left
    rows = [(file, int(given[k]), 10 * k, 0, 8, 8) for k in reversed(range(len(given)))]
    rows.append(("a_car_999999.jpg", 3, 0, 0, 8, 8))
    pd.DataFrame(rows, columns=["file", "digit", "x", "y", "w", "h"]).to_csv(folder / "digits.csv", index=False)
    audited = datasets.load_orand_digits(tmp_path, audited=True)
    mine = audited[audited["file"] == file].sort_values("x")
    assert "".join(map(str, mine["digit"])) == written
    assert list(audited.loc[audited["file"] == "a_car_999999.jpg", "digit"]) == [3]
    assert "".join(map(str, datasets.load_orand_digits(tmp_path).sort_values("x").query("file == @file")["digit"])) == given


@needs_data("orand_car_a", "digits.csv")
def test_the_audited_digit_boxes_spell_the_audited_strings():
    digits = datasets.load_orand_digits(audited=True)
    labels = datasets.load_orand_labels(audited=True).set_index("file")["amount_string"]
    for file in datasets.ORAND_LABEL_AUDIT:
        boxes = digits[digits["file"] == file].sort_values("x", kind="stable")
        assert "".join(map(str, boxes["digit"])) == labels[file], file
