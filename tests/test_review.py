"""The review page (static HTML + crops) and corrections import."""

from __future__ import annotations

import html
import json
import re

import cv2
import numpy as np
import pandas as pd
import pytest

from cheque_reader.review import load_corrections, review_items, write_review_page

XSS = "<img src=x onerror=alert(1)>.png"


def make_scans(folder, names):
    """A page per name: white 200x400 with a dark block inside the field box (50,60,120,40)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(names):
        img = np.full((200, 400), 255, np.uint8)
        img[70:90, 60 + 10 * k : 80 + 10 * k] = 0
        assert cv2.imencode(".png", img)[0]
        (folder / name).write_bytes(cv2.imencode(".png", img)[1].tobytes())


def results_of(rows):
    cols = ["source", "page", "status", "digits", "text", "confidence", "needs_review", "review_reasons",
            "field_x", "field_y", "field_w", "field_h", "error"]
    return pd.DataFrame(rows, columns=cols)


@pytest.fixture
def run(tmp_path):
    scans = tmp_path / "scans"
    names = ["a.png", XSS, "c d,\"q\".png"]
    make_scans(scans, names)
    results = results_of(
        [
            ["a.png", 1, "ok", "1234", "12.34", 0.97, "false", "", 50, 60, 120, 40, ""],
            [XSS, 1, "ok", "070", "0.70", 0.30, "true", "low_confidence;grammar", 50, 60, 120, 40, ""],
            ["c d,\"q\".png", 1, "ok", "55", "55", 0.60, "true", "low_confidence", 50, 60, 120, 40, ""],
            ["gone.png", 1, "error", "", "", 0.0, "true", "error", None, None, None, None, "<b>bad</b> file"],
        ]
    )
    digits = pd.DataFrame(
        {"source": [XSS, XSS], "page": [1, 1], "index": [0, 1], "label": [0, 7], "confidence": [0.95, 0.3],
         "x": [10, 60], "y": [5, 5], "w": [30, 30], "h": [20, 20]}
    )
    return tmp_path, scans, results, digits


def test_items_worst_first_and_only_flagged(run):
    _, _, results, digits = run
    items = review_items(results, digits=digits)
    assert [i["source"] for i in items] == ["gone.png", XSS, "c d,\"q\".png"]
    assert items[1]["reasons"] == ["low_confidence", "grammar"]
    assert [b["label"] for b in items[1]["boxes"]] == ["0", "7"]
    assert items[0]["field"] is None and items[1]["field"] == [50, 60, 120, 40]
    assert len(review_items(results, everything=True)) == 4


def test_page_escapes_untrusted_text(run):
    tmp, scans, results, digits = run
    page = write_review_page(results, tmp / "review", digits=digits, image_root=scans)
    text = page.read_text(encoding="utf-8")
    assert "<img src=x" not in text
    assert "<b>bad</b>" not in text
    assert html.escape(XSS, quote=False) in text
    assert "&lt;b&gt;bad&lt;/b&gt; file" in text
    # the JSON block carries the raw names, with < and > escaped so it cannot close the script
    block = re.search(r'<script id="review-data" type="application/json">(.*?)</script>', text, re.DOTALL).group(1)
    assert "<" not in block
    assert [d["source"] for d in json.loads(block)] == ["gone.png", XSS, "c d,\"q\".png"]
    # reviewed reads are there, the accepted one is not
    assert text.count('class="item"') == 3
    assert "a.png" not in block


def test_crops_only_under_out_dir_with_generated_names(run):
    tmp, scans, results, digits = run
    before = {p for p in tmp.rglob("*")}
    out = tmp / "review"
    page = write_review_page(results, out, digits=digits, image_root=scans)
    written = {p for p in tmp.rglob("*")} - before
    assert page == out / "index.html"
    assert all(p == out or out in p.parents for p in written)
    crops = sorted(p.name for p in (out / "crops").iterdir())
    assert crops == ["item-00002.png", "item-00003.png"]  # item 1 (gone.png) has no image
    crop = cv2.imread(str(out / "crops" / "item-00002.png"), cv2.IMREAD_GRAYSCALE)
    assert crop.shape == (40, 120)  # the field box, cut from the scan
    # the dark block at page rows 70..90, cols 70..90 lands at field rows 10..30, cols 20..40
    assert crop[10:30, 20:40].max() == 0 and crop[0:10].min() == 255
    # digit boxes are placed in percent of the field crop (x=60 of 120 -> 50%)
    text = page.read_text(encoding="utf-8")
    assert "left: 50.0%" in text and "top: 12.5%" in text


def test_second_run_replaces_old_crops(run):
    tmp, scans, results, digits = run
    out = tmp / "review"
    write_review_page(results, out, digits=digits, image_root=scans)
    write_review_page(results.iloc[:2], out, image_root=scans)
    assert sorted(p.name for p in (out / "crops").iterdir()) == ["item-00001.png"]


def test_no_field_shows_whole_page(tmp_path):
    scans = tmp_path / "s"
    make_scans(scans, ["p.png"])
    results = results_of([["p.png", 1, "no_field", "", "", 0.0, "true", "no_field", None, None, None, None, ""]])
    write_review_page(results, tmp_path / "r", image_root=scans)
    assert cv2.imread(str(tmp_path / "r" / "crops" / "item-00001.png"), cv2.IMREAD_GRAYSCALE).shape == (200, 400)


def test_a_field_read_on_a_page_of_two_cheques_shows_the_whole_page(tmp_path):
    # status ok, reason no_field: the row holds one cheque's amount, a person must see the other
    scans = tmp_path / "s"
    make_scans(scans, ["p.png"])
    results = results_of([["p.png", 1, "ok", "12", "12", 0.99, "true", "no_field", 50, 60, 120, 40, ""]])
    write_review_page(results, tmp_path / "r", image_root=scans)
    assert cv2.imread(str(tmp_path / "r" / "crops" / "item-00001.png"), cv2.IMREAD_GRAYSCALE).shape == (200, 400)


def test_empty_review(tmp_path):
    results = results_of([["a.png", 1, "ok", "1", "1", 0.99, "false", "", 0, 0, 5, 5, ""]])
    text = write_review_page(results, tmp_path / "r").read_text()
    assert "No read needs review." in text


def test_load_corrections_round_trip(tmp_path):
    df = pd.DataFrame({"source": [XSS, "dir/a,b.png", 'q"uote.tif', "línea\nnueva.png"], "page": [1, 2, 3, 1],
                       "digits": ["0070", "1,234.56", "", "5"]})
    p = tmp_path / "corrections.csv"
    df.to_csv(p, index=False)
    got = load_corrections(p)
    assert got.columns.tolist() == ["source", "page", "digits"]
    assert got["source"].tolist() == df["source"].tolist()
    assert got["page"].tolist() == [1, 2, 3, 1]
    assert got["digits"].tolist() == ["0070", "123456", "", "5"]


def test_load_corrections_rejects_bad_digits(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("source,page,digits\na.png,1,12x4\n")
    with pytest.raises(ValueError, match="12x4"):
        load_corrections(p)
    p.write_text("file,digits\na.png,1\n")
    with pytest.raises(ValueError, match="source"):
        load_corrections(p)


def test_load_corrections_names_a_page_that_is_no_whole_number(tmp_path):
    # pandas' own message named neither the file nor the column: "Failed to parse string: 'abc' ..."
    p = tmp_path / "c.csv"
    p.write_text("source,page,digits\na.png,abc,12\n")
    with pytest.raises(ValueError, match=r"c\.csv: page must be a whole number, got 'abc' for 'a\.png'"):
        load_corrections(p)
    p.write_text("source,page,digits\na.png,2.0,12\nb.png, 3 ,4\nc.png,,5\n")  # a page column saved as floats
    assert load_corrections(p)["page"].tolist() == [2, 3, 1]


def test_cli_review(run):
    from click.testing import CliRunner

    from cheque_reader.cli import main

    tmp, scans, results, digits = run
    results.to_csv(tmp / "results.csv", index=False)
    digits.to_csv(tmp / "digits.csv", index=False)
    res = CliRunner().invoke(main, ["review", str(tmp / "results.csv"), "--out", str(tmp / "rv"),
                                    "--digits", str(tmp / "digits.csv"), "--images", str(scans)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(tmp / "rv" / "index.html")
    assert sorted(p.name for p in (tmp / "rv" / "crops").iterdir()) == ["item-00002.png", "item-00003.png"]
    assert (tmp / "rv" / "index.html").read_text().count('class="box"') == 2


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_cli_review_reads_every_results_format_read_writes(run, suffix):
    from click.testing import CliRunner

    from cheque_reader.cli import main

    tmp, scans, results, _ = run
    path = tmp / f"results{suffix}"
    results.to_parquet(path) if suffix == ".parquet" else results.to_json(path, orient="records", lines=True)
    res = CliRunner().invoke(main, ["review", str(path), "--out", str(tmp / "rv"), "--images", str(scans)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp / "rv" / "crops").iterdir()) == ["item-00002.png", "item-00003.png"]


def test_no_loadable_scan_is_a_usage_error_naming_images(run):
    from click.testing import CliRunner

    from cheque_reader.cli import main
    from cheque_reader.errors import UsageError

    tmp, scans, results, _ = run
    empty = tmp / "elsewhere"
    empty.mkdir()
    with pytest.raises(UsageError, match="--images"):
        write_review_page(results, tmp / "rv", image_root=empty)
    assert not (tmp / "rv" / "index.html").exists()
    results.to_csv(tmp / "results.csv", index=False)
    res = CliRunner().invoke(main, ["review", str(tmp / "results.csv"), "--out", str(tmp / "rv"), "--images", str(empty)])
    assert res.exit_code == 2 and "--images DIR" in res.output, res.output
    # a scan that read could not open either (an error row) is no sign of a wrong folder
    assert write_review_page(results[results["status"] == "error"], tmp / "rv", image_root=scans).is_file()


def test_a_digits_file_without_its_columns_is_a_usage_error(run):
    from click.testing import CliRunner

    from cheque_reader.cli import main
    from cheque_reader.errors import UsageError
    from cheque_reader.review import load_digits

    tmp, scans, results, digits = run
    results.to_csv(tmp / "results.csv", index=False)
    digits.to_csv(tmp / "digits.csv", index=False)
    assert len(load_digits(tmp / "digits.csv")) == 2
    with pytest.raises(UsageError, match="not a digits file .*missing columns label, x, y, w, h"):
        load_digits(tmp / "results.csv")
    res = CliRunner().invoke(main, ["review", str(tmp / "results.csv"), "--digits", str(tmp / "results.csv"),
                                    "--images", str(scans), "--out", str(tmp / "rv")])
    assert res.exit_code == 2 and "not a digits file" in res.output, res.output


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_digits_file_is_read_in_the_format_read_writes_it(run, suffix):
    """``read --digits-out d.jsonl`` (or ``.parquet``) writes that format, as ``-o`` does; ``review
    --digits`` read only CSV (JSONL: "missing columns"; Parquet: a traceback, exit 1)."""
    from click.testing import CliRunner

    from cheque_reader.cli import main
    from cheque_reader.errors import UsageError
    from cheque_reader.review import load_digits

    tmp, scans, results, digits = run
    results.to_csv(tmp / "results.csv", index=False)
    path = tmp / f"digits{suffix}"
    digits.to_parquet(path) if suffix == ".parquet" else digits.to_json(path, orient="records", lines=True)
    pd.testing.assert_frame_equal(load_digits(path)[list(digits.columns)], digits, check_dtype=False)
    res = CliRunner().invoke(main, ["review", str(tmp / "results.csv"), "--out", str(tmp / "rv"),
                                    "--digits", str(path), "--images", str(scans)])
    assert res.exit_code == 0, res.output
    assert (tmp / "rv" / "index.html").read_text().count('class="box"') == 2
    path.write_bytes(b"not a digits file\n")
    with pytest.raises(UsageError, match="not a digits file"):
        load_digits(path)
    empty = tmp / "none.jsonl"  # a run that read no digit
    empty.write_bytes(b"")
    assert len(load_digits(empty)) == 0


@pytest.mark.parametrize("name, content", [("r.parquet", b"not parquet"), ("r.jsonl", b'{"source":\n'),
                                           ("r.csv", b"a,b\n1,2\n")])
def test_a_results_file_that_is_no_results_file_is_a_usage_error(tmp_path, name, content):
    """A corrupt .parquet or .jsonl ended ``review`` in a traceback (exit 1, the code of pages to
    review); a CSV without a source column wrote a page of nameless items."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    (tmp_path / name).write_bytes(content)
    res = CliRunner().invoke(main, ["review", str(tmp_path / name), "--out", str(tmp_path / "rv")])
    assert res.exit_code == 2 and "not a results file" in res.output, res.output
    assert not (tmp_path / "rv").exists()


def test_a_digits_file_given_as_the_results_is_a_usage_error(run):
    """It has a source column: its page showed one item a digit, every one 'to review'."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    tmp, scans, results, digits = run
    digits.to_csv(tmp / "digits.csv", index=False)
    res = CliRunner().invoke(main, ["review", str(tmp / "digits.csv"), "--images", str(scans), "--out", str(tmp / "rv")])
    assert res.exit_code == 2, res.output
    assert "not a results file of `read` (it has no status, needs_review column): a digits file? give it as --digits" in res.output
    assert not (tmp / "rv").exists()


def test_refuses_crops_folder_leading_outside(run):
    tmp, scans, results, _ = run
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    out = tmp / "rv"
    out.mkdir()
    (out / "crops").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OSError, match="outside"):
        write_review_page(results, out, image_root=scans)
    assert list(elsewhere.iterdir()) == []


def test_resolve_threshold_policy(caplog):
    from cheque_reader.config import DEFAULT_REVIEW_THRESHOLD, ReadOptions
    from cheque_reader.review import resolve_threshold

    meta = {"name": "m1", "thresholds": {"0.001": 0.99, "0.005": 0.97, "0.01": 0.9, "0.02": 0.8}}
    assert resolve_threshold(ReadOptions(target_error=0.01), meta) == 0.9
    assert resolve_threshold(ReadOptions(target_error=0.015), meta) == 0.9  # strictest entry within target
    assert resolve_threshold(ReadOptions(target_error=0.05), meta) == 0.8
    assert resolve_threshold(ReadOptions(target_error=0.0001), meta) == 0.99  # below every entry: strictest
    assert resolve_threshold(ReadOptions(target_error=0.01, review_threshold=0.5), meta) == 0.5
    # a black-and-white page: the bitonal table where the model has one, else the same table
    assert resolve_threshold(ReadOptions(target_error=0.01), meta, bitonal=True) == 0.9
    bitonal = {**meta, "thresholds_bitonal": {"0.01": 0.95, "0.02": 0.93}}
    assert resolve_threshold(ReadOptions(target_error=0.01), bitonal, bitonal=True) == 0.95
    assert resolve_threshold(ReadOptions(target_error=0.01), bitonal) == 0.9
    assert resolve_threshold(ReadOptions(target_error=0.01, review_threshold=0.5), bitonal, bitonal=True) == 0.5
    with caplog.at_level("WARNING", logger="cheque_reader"):
        assert resolve_threshold(ReadOptions(target_error=0.01), {"name": "no-table"}) == DEFAULT_REVIEW_THRESHOLD
    assert "ships no thresholds table" in caplog.text


def test_resolve_threshold_rejects_a_target_error_outside_0_1_and_warns_below_the_table(caplog):
    from cheque_reader.config import ReadOptions
    from cheque_reader.errors import UsageError
    from cheque_reader.review import resolve_threshold

    meta = {"name": "m-strict", "thresholds": {"0.001": 0.99, "0.01": 0.9}}
    for bad in (0, -1, 1, 5, float("nan")):
        with pytest.raises(UsageError, match="between 0 and 1"):
            resolve_threshold(ReadOptions(target_error=bad), meta)
    with caplog.at_level("WARNING", logger="cheque_reader"):
        assert resolve_threshold(ReadOptions(target_error=0.001), meta) == 0.99
        assert "stricter" not in caplog.text  # the table's own strictest entry
        assert resolve_threshold(ReadOptions(target_error=0.0001), meta) == 0.99
    assert "target error 0.0001 is stricter than the thresholds table of model 'm-strict'" in caplog.text


def test_a_review_threshold_outside_0_1_is_refused():
    """``review_threshold=95`` (a percentage) sent every read to review, and -1 none, without a word."""
    from cheque_reader.config import ReadOptions
    from cheque_reader.errors import UsageError
    from cheque_reader.review import resolve_threshold

    for bad in (95, 1.5, -1, float("nan")):
        with pytest.raises(UsageError, match="review threshold .* is not a confidence between 0 and 1"):
            resolve_threshold(ReadOptions(review_threshold=bad))
    assert [resolve_threshold(ReadOptions(review_threshold=t)) for t in (0, 0.95, 1)] == [0.0, 0.95, 1.0]


def test_review_reasons_codes():
    from cheque_reader.review import review_reasons

    assert review_reasons("error") == ("error",)
    assert review_reasons("no_field") == ("no_field",)
    assert review_reasons("no_digits") == ("segmentation",)
    assert review_reasons("ok", confidence=0.9, threshold=0.9) == ()
    assert review_reasons("ok", confidence=0.89, threshold=0.9, segmentation_ok=False) == ("low_confidence", "segmentation")


def _ink_in_boxes(page_html: str, crop: np.ndarray, item: int) -> list[float]:
    """The share of dark pixels inside each digit box the page draws on item ``item``'s crop."""
    section = re.search(rf'<section class="item" id="item-{item}".*?</section>', page_html, re.DOTALL).group(0)
    shares = []
    for left, top, width, height in re.findall(
            r'class="box" style="left: ([\d.]+)%; top: ([\d.]+)%; width: ([\d.]+)%; height: ([\d.]+)%', section):
        ch, cw = crop.shape
        x0, y0 = int(float(left) * cw / 100), int(float(top) * ch / 100)
        x1, y1 = int((float(left) + float(width)) * cw / 100), int((float(top) + float(height)) * ch / 100)
        shares.append(float((crop[y0:y1, x0:x1] < 128).mean()))
    return shares


def test_upside_down_and_turned_pages_show_the_field_upright_with_its_boxes_on_the_digits(turned_reads):
    tmp, scans, results, digits = turned_reads
    assert results["status"].tolist() == ["ok"] * 3
    assert len(set(results["digits"])) == 1  # the same amount read from all three
    page = write_review_page(results, tmp / "review", digits=digits, image_root=scans, everything=True)
    text = page.read_text(encoding="utf-8")
    ids = {s: int(i) for i, s in re.findall(r'id="item-(\d+)".*?<span class="src">([^<]+)</span>', text, re.DOTALL)}
    crops = {s: cv2.imread(str(tmp / "review" / "crops" / f"item-{i:05d}.png"), cv2.IMREAD_GRAYSCALE)
             for s, i in ids.items()}
    upright = crops["a_upright.png"]
    # the upside-down page's crop is the upright field, not that field turned over
    flipped = crops["b_upside_down.png"]
    assert flipped.shape == upright.shape
    ink_by_column = [(c < 128).sum(axis=0) for c in (upright, flipped)]
    assert np.corrcoef(*ink_by_column)[0, 1] > 0.5 > np.corrcoef(ink_by_column[0], ink_by_column[1][::-1])[0, 1]
    # every digit box lies on ink, on every page, as on the upright page
    n = len(results["digits"].iloc[0])
    for source, i in ids.items():
        shares = _ink_in_boxes(text, crops[source], i)
        assert len(shares) == n, source
        assert min(shares) > 0.08, (source, shares)


def test_page_explains_the_box_colours_when_it_draws_boxes(run):
    from cheque_reader.review import BOX_COLOURS

    tmp, scans, results, digits = run
    text = write_review_page(results, tmp / "review", digits=digits, image_root=scans).read_text(encoding="utf-8")
    legend = re.search(r'<span class="keys legend">(.*?)</span>\s*</header>', text, re.DOTALL)
    assert legend, "no legend of the box colours"
    for lo, colour in BOX_COLOURS:  # each colour drawn is named, with its confidence range
        assert f"border-color: {colour}" in legend.group(1)
    assert "0.90 or more" in legend.group(1) and "below 0.50" in legend.group(1)
    without = write_review_page(results, tmp / "review2", image_root=scans).read_text(encoding="utf-8")
    assert 'class="keys legend"' not in without  # no boxes drawn, nothing to explain


@pytest.mark.parametrize("where", ["scans", "."])
def test_a_review_folder_that_holds_the_scans_is_a_usage_error_before_it_is_written(run, monkeypatch, where):
    """review --out scans (or --out . above them) marked the scans' folder as cheque-reader's own, so
    that a later read of the folder above left every scan out, and read scans read the crops as cheques."""
    from cheque_reader import io as cio
    from cheque_reader.errors import UsageError

    tmp, scans, results, _ = run
    monkeypatch.chdir(tmp)
    with pytest.raises(UsageError, match=f"the review folder {re.escape(where)} holds the scan a.png"):
        write_review_page(results, where, image_root="scans")
    assert not (scans / cio.OUTPUT_MARKER).exists() and not (scans / "crops").exists()
    assert not (tmp / cio.OUTPUT_MARKER).exists()
    assert write_review_page(results, "review", image_root="scans").is_file()  # a folder of its own


def test_the_good_pages_of_a_multipage_tiff_cut_short_get_their_crops(tmp_path):
    """A TIFF cut short after page 2 (read gave pages 1-2 and an error row for page 3): the whole file was
    loaded for one page, so none loaded, and review ended 'none of the 2 scans to review could be loaded'."""
    from pathlib import Path

    (tmp_path / "scans").mkdir()
    data = (Path(__file__).resolve().parent.parent / "samples" / "batch_13.tif").read_bytes()  # 3 pages
    (tmp_path / "scans" / "cut.tif").write_bytes(data[: int(len(data) * 0.85)])
    results = results_of([
        ["cut.tif", 1, "ok", "5890", "58.90", 0.5, "true", "low_confidence", 924, 177, 231, 114, ""],
        ["cut.tif", 2, "ok", "627500", "6,275.00", 0.5, "true", "low_confidence", 1378, 290, 274, 140, ""],
        ["cut.tif", 3, "error", "", "", 0.0, "true", "error", None, None, None, None, "cut.tif: truncated"],
    ])
    page = write_review_page(results, tmp_path / "review", image_root=tmp_path / "scans")
    assert sorted(p.name for p in (tmp_path / "review" / "crops").glob("*.png")) == ["item-00002.png", "item-00003.png"]
    assert page.read_text().count('src="crops/') == 2


def test_a_scan_whose_name_is_not_utf8_gets_its_crop(tmp_path):
    """read writes such a name's bytes as \\xNN escapes (ch\\xe8que.png); review looked for a file of that
    name: 'none of the 1 scans to review could be loaded'."""
    import os

    from cheque_reader.io import iter_inputs

    scans = tmp_path / "scans"
    make_scans(scans, ["a.png"])
    name = os.path.join(os.fsencode(scans), b"ch\xe8que.png")
    os.rename(scans / "a.png", name)
    [found] = iter_inputs([str(scans)])
    assert found.source == "ch\\xe8que.png"  # as read writes it
    results = results_of([[found.source, 1, "ok", "70", "70", 0.3, "true", "low_confidence", 50, 60, 120, 40, ""]])
    write_review_page(results, tmp_path / "review", image_root=scans)
    assert [p.name for p in (tmp_path / "review" / "crops").glob("*.png")] == ["item-00001.png"]


def test_load_corrections_refuses_two_different_corrections_of_one_page(tmp_path):
    """Two reviewers' exports put together: both digit strings of a page were learnt, one of them wrong."""
    p = tmp_path / "c.csv"
    p.write_text("source,page,digits\na.png,1,120\nb.png,1,7\na.png,1,120\n")
    assert load_corrections(p)[["source", "digits"]].values.tolist() == [["a.png", "120"], ["b.png", "7"]]
    p.write_text("source,page,digits\na.png,1,120\nb.png,1,7\na.png,1,1,20\n".replace("1,20\n", "\"1,20\"\n"))
    assert load_corrections(p)["digits"].tolist() == ["120", "7"]  # the same digits, typed with a separator
    p.write_text("source,page,digits\na.png,1,120\nb.png,1,7\na.png,1,126\n")
    with pytest.raises(ValueError, match=r"c\.csv: 'a\.png' page 1 is corrected to '120' and '126': keep one"):
        load_corrections(p)


def test_a_digits_file_of_another_run_is_warned_about(run, caplog):
    """Its pages match no result: no box was drawn, and nothing said why."""
    _, _, results, digits = run
    with caplog.at_level("WARNING", logger="cheque_reader"):
        review_items(results, digits=digits)
    assert "digits file" not in caplog.text
    other = digits.assign(source="elsewhere/" + digits["source"])
    with caplog.at_level("WARNING", logger="cheque_reader"):
        items = review_items(results, digits=other)
    assert not any(it["boxes"] for it in items)
    assert "no page of the digits file (1 read) is a page of the results" in caplog.text


def test_a_page_of_two_cheques_boxes_the_amount_read_and_says_why_it_is_shown(tmp_path):
    """The whole page was shown with 'read 12' under it and the reason no_field: nothing said which
    cheque's amount was read, nor that the page holds two."""
    scans = tmp_path / "s"
    make_scans(scans, ["p.png", "q.png"])
    results = results_of([["p.png", 1, "ok", "12", "12", 0.99, "true", "no_field", 50, 60, 120, 40, ""],
                          ["q.png", 1, "no_field", "", "", 0.0, "true", "no_field", None, None, None, None, ""]])
    text = write_review_page(results, tmp_path / "r", image_root=scans).read_text(encoding="utf-8")
    sections = {sec.split('class="src">')[1].split("<")[0]: sec for sec in text.split("<section")[1:]}
    two, none = sections["p.png"], sections["q.png"]
    assert "more than one cheque on this page" in two and "amount read" in two
    # the box where the field lies on the 400 x 200 page: 50/400, 60/200, 120/400, 40/200
    assert 'left: 12.5%; top: 30.0%; width: 30.0%; height: 20.0%' in two
    assert "more than one cheque" not in none and 'class="box"' not in none


def test_a_failed_review_keeps_the_earlier_page_whole_and_leaves_no_new_folder(run):
    """A review into a folder holding an earlier page, given the wrong --images, deleted that page's
    crops before it found no scan (its index.html left without pictures); into a new folder it left
    the folder, its marker and an empty crops folder behind."""
    from cheque_reader.errors import UsageError

    tmp, scans, results, _ = run
    page = write_review_page(results, tmp / "rv", image_root=scans)
    before = {p.name: p.read_bytes() for p in (tmp / "rv" / "crops").iterdir()}
    html_before = page.read_text(encoding="utf-8")
    assert len(before) == 2
    empty = tmp / "elsewhere"
    empty.mkdir()
    with pytest.raises(UsageError, match="--images"):
        write_review_page(results, tmp / "rv", image_root=empty, everything=True)
    assert {p.name: p.read_bytes() for p in (tmp / "rv" / "crops").iterdir()} == before
    assert page.read_text(encoding="utf-8") == html_before
    assert sorted(p.name for p in (tmp / "rv").iterdir()) == [".cheque-reader-output", "crops", "index.html"]
    with pytest.raises(UsageError, match="--images"):
        write_review_page(results, tmp / "new" / "rv", image_root=empty)
    assert not (tmp / "new" / "rv").exists()
    # a run that works replaces the crops (3 with --all)
    write_review_page(results, tmp / "rv", image_root=scans, everything=True)
    assert len(list((tmp / "rv" / "crops").iterdir())) == 3


@pytest.mark.parametrize("page", ["0", "-1", "00"])
def test_load_corrections_refuses_a_page_below_one(tmp_path, page):
    """Page 0 was taken (pages count from 1: the correction matched no result, said only as 'no result
    row' by finetune); -1 was refused as 'no whole number'."""
    p = tmp_path / "c.csv"
    p.write_text(f"source,page,digits\na.png,{page},12\n")
    with pytest.raises(ValueError, match=rf"got '{page}' for 'a\.png' \(pages count from 1\)"):
        load_corrections(p)
    p.write_text("source,page,digits\na.png,010,12\n")
    assert load_corrections(p)["page"].tolist() == [10]


def test_an_x937_item_shows_its_micr_amount_beside_the_read_and_says_when_it_is_another(tmp_path):
    """The reviewer of a cash letter's item did not see the amount its MICR record encodes, the
    quickest check of a doubtful read."""
    scans = tmp_path / "s"
    make_scans(scans, ["p.png", "q.png", "r.png"])
    results = results_of([["p.png", 1, "ok", "7200", "72.00", 0.5, "true", "low_confidence", 50, 60, 120, 40, ""],
                          ["q.png", 1, "ok", "305", "305", 0.6, "true", "low_confidence", 50, 60, 120, 40, ""],
                          ["r.png", 1, "ok", "12", "12", 0.7, "true", "low_confidence", 50, 60, 120, 40, ""]])
    results["micr_amount"] = ["7.20", "305.00", "<i>1</i>"]
    results["micr_match"] = ["false", "true", ""]
    items = review_items(results)
    assert [(i["micr_amount"], i["micr_match"]) for i in items] == [("7.20", "false"), ("305.00", "true"), ("<i>1</i>", "")]
    text = write_review_page(results, tmp_path / "r", image_root=scans).read_text()
    shown = re.findall(r'<span class="micr( differs)?"[^>]*>MICR amount <b>([^<]*)</b>([^<]*)</span>', text)
    assert shown == [(" differs", "7.20", " (not the amount read)"), ("", "305.00", ""), ("", "&lt;i&gt;1&lt;/i&gt;", "")]
    assert '<option value=":micr">' in text  # the filter, where an item's MICR amount is another
    plain = results_of([["p.png", 1, "ok", "7200", "72.00", 0.5, "true", "low_confidence", 50, 60, 120, 40, ""]])
    text = write_review_page(plain, tmp_path / "r2", image_root=scans).read_text()
    assert 'class="micr' not in text and ':micr' not in text.split("<main>")[0]


def test_a_read_from_a_guessed_field_is_not_said_to_be_one_of_two_cheques(tmp_path):
    """A field cut where the layout's printed box usually lies, no box being found (a blank page, a
    cheque cut through its box: reason no_field on a row with a field, ``pipeline.guessed_field``), was
    shown as 'more than one cheque on this page: the amount read is one cheque's', on a page of one
    cheque, or of none; the results cannot tell the two apart, and the note now names both."""
    scans = tmp_path / "s"
    make_scans(scans, ["blank.png", "p.png"])
    results = results_of([["blank.png", 1, "no_digits", "", "", 0.0, "true", "no_field;segmentation", 250, 60, 120, 40, ""],
                          ["p.png", 1, "ok", "12", "12", 0.99, "true", "no_field", 50, 60, 120, 40, ""]])
    text = write_review_page(results, tmp_path / "r", image_root=scans).read_text(encoding="utf-8")
    sections = {sec.split('class="src">')[1].split("<")[0]: sec for sec in text.split("<section")[1:]}
    blank, read = sections["blank.png"], sections["p.png"]
    note = blank.split('class="note">')[1].split("<")[0]
    assert "amount read is one cheque" not in note and "no digit was found" in note
    assert "no printed amount box" in note and "more than one cheque" in note
    note = read.split('class="note">')[1].split("<")[0]
    assert "no printed amount box" in note and "more than one cheque on this page" in note


def test_a_page_of_every_read_marks_the_reads_that_need_no_review(tmp_path):
    """With ``--all`` an accepted read's card looked like a doubtful one's (the same red 'not done'
    bar, no word), worst first among them: a reviewer could not tell which reads the run had sent to
    review. Now such a card says 'accepted', and a card to review does not."""
    scans = tmp_path / "s"
    make_scans(scans, ["ok.png", "doubt.png"])
    results = results_of([["ok.png", 1, "ok", "12", "12", 0.97, "false", "", 50, 60, 120, 40, ""],
                          ["doubt.png", 1, "ok", "13", "13", 0.98, "true", "segmentation", 50, 60, 120, 40, ""]])
    text = write_review_page(results, tmp_path / "r", image_root=scans, everything=True).read_text(encoding="utf-8")
    sections = {sec.split('class="src">')[1].split("<")[0]: sec for sec in text.split("<section")[1:]}
    meta = {name: sec.split('class="meta">')[1].split("</div>")[0] for name, sec in sections.items()}
    assert 'class="accepted"' in meta["ok.png"] and ">accepted<" in meta["ok.png"]
    assert "accepted" not in meta["doubt.png"]
    only_review = write_review_page(results, tmp_path / "r2", image_root=scans).read_text(encoding="utf-8")
    assert 'class="accepted"' not in only_review


def test_a_page_of_read_cheque_results_shows_their_digit_boxes_and_other_lists_are_refused(tmp_path):
    """A bank's code calling ``read_cheque`` page by page had to build a results frame and a digits
    file to make a review page; a list of dicts raised ``AttributeError: 'list' object has no attribute
    'columns'``. The results of ``read_cheque`` are taken as they are (their own digit reads give the
    boxes: one box a digit read), the same page as the frame and digits of ``read_folder`` give."""
    from pathlib import Path

    from cheque_reader import read_cheque
    from cheque_reader.batch import read_folder
    from cheque_reader.report import digit_rows

    samples = Path(__file__).resolve().parent.parent / "samples"
    results = [read_cheque(samples / name, source=name) for name in ("cheque_03.png", "cheque_06.jpg")]
    n_boxes = sum(len(r.digit_reads) for r in results)
    assert n_boxes >= 6 and all(r.field is not None for r in results)
    page = write_review_page(results, tmp_path / "rv", image_root=samples, everything=True).read_text(encoding="utf-8")
    assert page.count('class="box"') == n_boxes and page.count("crops/item-") >= 2
    df = read_folder([samples / "cheque_03.png", samples / "cheque_06.jpg"])
    df["source"] = ["cheque_03.png", "cheque_06.jpg"]
    digits = pd.DataFrame([d for r in results for d in digit_rows(r)])
    framed = write_review_page(df, tmp_path / "rv2", digits=digits, image_root=samples, everything=True)
    assert framed.read_text(encoding="utf-8").count('class="box"') == n_boxes
    with pytest.raises(TypeError, match=r"a list of ChequeResult \(read_cheque's\), not a list of dict"):
        write_review_page([{"source": "a.png", "digits": "12"}], tmp_path / "rv3")
    assert not (tmp_path / "rv3").exists()


def test_a_digits_file_cut_off_by_a_stopped_run_draws_its_whole_rows(tmp_path, caplog):
    """The digits file of a run stopped while writing a row ends in a cut row: `review --digits` raised
    "ValueError: could not convert string to float: ''" (a traceback). The cut row is left out with a
    warning; a box that is no number is a usage error naming its row."""
    from cheque_reader.errors import UsageError
    from cheque_reader.review import load_digits

    head = "source,page,index,label,confidence,alt_label,alt_confidence,x,y,w,h\n"
    path = tmp_path / "digits.csv"
    path.write_text(head + "a.png,1,0,7,0.9,1,0.05,3,4,10,20\na.png,1,1,2,0.8,7,0.1,15,4,")
    df = load_digits(path)
    assert df[["label", "x", "w"]].values.tolist() == [[7, 3, 10]] and "cut off" in caplog.text
    results = pd.DataFrame({"source": ["a.png"], "page": [1], "digits": ["72"], "confidence": [0.5],
                            "needs_review": ["true"]})
    assert [b["x"] for b in review_items(results, digits=df)[0]["boxes"]] == [3.0]
    path.write_text(head + "a.png,1,0,7,0.9,1,0.05,3,4,,20\n")
    with pytest.raises(UsageError, match="digits.csv: w '' of the digit on row 1 is not a number"):
        load_digits(path)


def test_a_results_file_given_as_the_corrections_is_refused(tmp_path):
    """A results file has source, page and digits columns: `finetune --corrections results.csv` learnt
    every read as a correction, the wrong ones and those no person saw ('fine-tuned on 14 digits from 2
    of 40 corrected pages' on IDRBT, 7 of whose 40 reads are wrong). It is refused, saying what to give."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    path = tmp_path / "results.csv"
    path.write_text("source,page,status,digits,text,confidence,needs_review\na.png,1,ok,12,12,0.9,false\n")
    with pytest.raises(ValueError, match="results.csv: a results file of `read` .*, not corrections"):
        load_corrections(path)
    res = CliRunner().invoke(main, ["finetune", "--corrections", str(path), "--results", str(path),
                                    "-o", str(tmp_path / "m.pt")])
    assert res.exit_code == 2 and "not corrections" in res.output and not (tmp_path / "m.pt").exists()
    path.write_text("source,page,digits,note\na.png,1,12,checked by J.\n")  # other columns of a person's own
    assert load_corrections(path).values.tolist() == [["a.png", 1, "12"]]


def test_the_readme_library_example_runs_as_written(tmp_path, monkeypatch):
    """The README's Library section, run in a folder holding the samples (``blob`` and ``digit_crop`` are
    the reader's own): its review page of ``read_folder(["samples/"])`` was given ``image_root="."``, where
    the frame's sources are relative to the folder read, and raised 'none of the 1 scans to review could
    be loaded'."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Library\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    shutil.copytree(root / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    crop = np.full((40, 30), 255, np.uint8)
    cv2.line(crop, (15, 5), (15, 34), 0, 3)  # a one
    namespace = {"blob": (tmp_path / "samples" / "cheque_05.jpg").read_bytes(), "digit_crop": crop}
    exec(compile(code, "README.md (Library)", "exec"), namespace)  # noqa: S102 (the README's own code)
    page = (tmp_path / "review" / "index.html").read_text(encoding="utf-8")
    assert "cheque_10.tif" in page  # the sample that needs review, its crop loaded
    assert list((tmp_path / "review" / "crops").glob("item-*.png"))
    assert namespace["pred"].labels.tolist() == [1]
