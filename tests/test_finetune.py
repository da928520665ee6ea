"""Fine-tuning on corrections: the corrected labels are learnt and the model loads through the usual API."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from cheque_reader.classify import DigitClassifier, load_metadata
from cheque_reader.finetune import collect_digits, finetune


def field_image(digits: str) -> np.ndarray:
    """A clean amount field with well separated printed digits."""
    img = np.full((70, 60 * len(digits) + 20), 255, np.uint8)
    for k, d in enumerate(digits):
        cv2.putText(img, d, (15 + 60 * k, 55), cv2.FONT_HERSHEY_SIMPLEX, 1.7, 0, 4, cv2.LINE_AA)
    return img


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("fields")
    rng = np.random.default_rng(3)
    rows, corr = [], []
    for k in range(8):
        digits = "".join(str(d) for d in rng.integers(0, 10, 4))
        name = f"f{k:02d}.png"
        img = field_image(digits)
        cv2.imwrite(str(tmp_path / name), img)
        rows.append(dict(source=name, page=1, status="ok", digits=digits, confidence=0.5, needs_review="true",
                         field_x=0, field_y=0, field_w=img.shape[1], field_h=img.shape[0]))
        # the "reviewer" relabels every digit d as (d + 1) % 10: a mapping the base model cannot know
        corr.append(dict(source=name, page=1, digits="".join(str((int(c) + 1) % 10) for c in digits)))
    corr.append(dict(source="missing.png", page=1, digits="12"))
    return tmp_path, pd.DataFrame(rows), pd.DataFrame(corr)


def test_collect_digits_labels_the_chosen_digits(corrected, caplog):
    tmp, results, corrections = corrected
    data = collect_digits(corrections, results, image_root=tmp)
    assert data.skipped.get("no result row") == 1
    # which page had none is said (the count alone named none: another run's results given?)
    assert "1 corrected page has no row in the results (the first: missing.png page 1)" in caplog.text
    assert data.n_pages >= 6, data.skipped  # clean printed fields segment into 4 digits
    assert data.x.shape == (len(data.y), 1, 32, 32) and len(data.y) == 4 * data.n_pages
    truth = np.concatenate([[(int(c) + 1) % 10 for c in d] for d in corrections["digits"][:-1]])
    assert set(np.unique(data.y)) <= set(np.unique(truth))


def test_collect_digits_from_low_fields_read_enlarged(tmp_path):
    """Fields lower than locate.MIN_CROP_HEIGHT are read enlarged; their digits are still matched."""
    from cheque_reader import locate

    rows, corr = [], []
    for k, digits in enumerate(["4072", "1385", "9026"]):
        img = cv2.resize(field_image(digits), None, fx=0.45, fy=0.45, interpolation=cv2.INTER_AREA)
        assert img.shape[0] < locate.MIN_CROP_HEIGHT
        cv2.imwrite(str(tmp_path / f"s{k}.png"), img)
        rows.append(dict(source=f"s{k}.png", page=1, status="ok", digits=digits, confidence=0.5, needs_review="true",
                         field_x=0, field_y=0, field_w=img.shape[1], field_h=img.shape[0]))
        corr.append(dict(source=f"s{k}.png", page=1, digits=digits))
    data = collect_digits(pd.DataFrame(corr), pd.DataFrame(rows), image_root=tmp_path)
    assert data.n_pages >= 2, data.skipped
    assert len(data.y) == 4 * data.n_pages


def test_finetune_learns_corrections_and_loads(corrected, tmp_path):
    tmp, results, corrections = corrected
    data = collect_digits(corrections, results, image_root=tmp)
    base = DigitClassifier()
    before = float((base.predict_tensors(data.x).labels == data.y).mean())
    out = finetune(corrections, results, out_path=tmp_path / "models" / "ft.pt", image_root=tmp, epochs=25, seed=0,
                   lr=2e-3)
    assert out == tmp_path / "models" / "ft.pt"
    meta, _ = load_metadata(out)  # sha256 checked against the sidecar
    assert meta["base_model"] == base.model_id
    assert meta["finetune"]["digits"] == len(data.y) and meta["finetune"]["pages_skipped"]["no result row"] == 1
    tuned = DigitClassifier(model_path=str(out))
    assert tuned.model_id != base.model_id
    after = float((tuned.predict_tensors(data.x).labels == data.y).mean())
    assert before < 0.3 and after > 0.8, (before, after)
    assert json.loads(out.with_suffix(".json").read_text())["name"] == "ft"
    # the field reader was fine-tuned on the same corrections and is what read --model uses
    from cheque_reader import pipeline, sdnn
    from cheque_reader.config import ReadOptions

    if sdnn.default_sdnn_path().is_file():
        reader_path = pipeline.field_reader_path(ReadOptions(model_path=str(out)))
        assert reader_path == out.with_name("ft_sdnn.pt")
        reader_meta, _ = load_metadata(reader_path)
        assert reader_meta["finetune"]["fields"] == len(data.field_digits) == 8
        fields = list(data.fields)
        base_right = sum(r.digits == d for r, d in zip(sdnn.FieldReader().read(fields), data.field_digits))
        tuned_right = sum(r.digits == d for r, d in zip(sdnn.FieldReader(reader_path).read(fields), data.field_digits))
        assert tuned_right > base_right, (base_right, tuned_right)


def test_finetune_without_usable_pages_raises(corrected, tmp_path):
    tmp, results, corrections = corrected
    with pytest.raises(ValueError, match=r"no usable corrected digits \(pages not used: no result row 1\)$"):
        finetune(corrections.iloc[-1:], results, out_path=tmp_path / "x.pt", image_root=tmp)
    assert not (tmp_path / "x.pt").exists()


def test_finetune_refuses_a_digits_file_given_as_the_results(corrected, tmp_path):
    """It has a source column: every corrected page was skipped as 'no field or no digits', and the
    message showed a Python dict ({'no field or no digits': 2})."""
    tmp, results, corrections = corrected
    digits = results[["source", "page"]].assign(index=0, label=1, confidence=0.9, x=0, y=0, w=5, h=9)
    with pytest.raises(ValueError, match="the results have no field_x, field_y, field_w, field_h column"):
        finetune(corrections, digits, out_path=tmp_path / "x.pt", image_root=tmp)


@pytest.mark.parametrize("name", ["model.json", "model.onnx", "model"])
def test_finetune_refuses_weights_named_other_than_pt_before_training(corrected, tmp_path, name):
    """-o model.json: the weights were overwritten by their own sidecar; model.onnx held torch weights."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    tmp, results, corrections = corrected
    results.to_csv(tmp_path / "results.csv", index=False)
    corrections.to_csv(tmp_path / "corrections.csv", index=False)
    res = CliRunner().invoke(main, ["finetune", "--corrections", str(tmp_path / "corrections.csv"), "--results",
                                    str(tmp_path / "results.csv"), "--images", str(tmp), "-o", str(tmp_path / name)])
    assert res.exit_code == 2 and "the fine-tuned weights are a .pt file" in res.output, res.output
    assert not (tmp_path / name).exists() and not (tmp_path / "model.json").exists()


def test_finetune_refuses_weights_it_cannot_write_before_training(corrected, tmp_path, monkeypatch):
    """-o where the weights cannot go (a file where its folder should be, a read-only folder): the
    corrected pages were cut and the networks trained, minutes on a big review, before the weights
    were written and the run failed, saying "[Errno 17] File exists"."""
    from click.testing import CliRunner

    from cheque_reader import finetune as ft
    from cheque_reader.cli import main

    tmp, results, corrections = corrected
    results.to_csv(tmp_path / "results.csv", index=False)
    corrections.to_csv(tmp_path / "corrections.csv", index=False)
    (tmp_path / "notafolder").write_text("")

    def trained(*args, **kwargs):
        raise AssertionError("the corrected pages were read before the output was checked")

    monkeypatch.setattr(ft, "collect_digits", trained)
    res = CliRunner().invoke(main, ["finetune", "--corrections", str(tmp_path / "corrections.csv"), "--results",
                                    str(tmp_path / "results.csv"), "--images", str(tmp),
                                    "-o", str(tmp_path / "notafolder" / "m.pt")])
    assert res.exit_code == 3, res.output
    assert f"cannot write {tmp_path / 'notafolder' / 'm.pt'}: a part of its path is a file, not a folder" in res.output


def test_cli_finetune(corrected, tmp_path):
    from click.testing import CliRunner

    from cheque_reader.cli import main

    tmp, results, corrections = corrected
    results.to_csv(tmp_path / "results.csv", index=False)
    corrections.to_csv(tmp_path / "corrections.csv", index=False)
    args = ["finetune", "--corrections", str(tmp_path / "corrections.csv"), "--results", str(tmp_path / "results.csv"),
            "--images", str(tmp), "-o", str(tmp_path / "m.pt"), "--epochs", "1"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    meta = DigitClassifier(model_path=str(tmp_path / "m.pt")).metadata["finetune"]
    assert meta["epochs"] == 1
    # the path on stdout; on stderr, how many of the corrected pages it learnt from, and why not the rest
    assert res.stdout.strip() == str(tmp_path / "m.pt")
    assert (f"fine-tuned on {meta['digits']} digits from {meta['pages_used']} of {len(corrections)} corrected pages"
            in res.stderr)
    assert "not used: no result row 1" in res.stderr
    assert f"the field reader on {meta['field_reader_fields']} fields" in res.stderr
    # the thresholds and calibration it reads with were measured for the base model, and it says so
    assert "review thresholds (--target-error) and amount confidence are the base model's" in res.stderr
    corrections.iloc[-1:].to_csv(tmp_path / "none.csv", index=False)
    res = CliRunner().invoke(main, args[:2] + [str(tmp_path / "none.csv")] + args[3:])
    assert res.exit_code == 2 and "no usable corrected digits" in res.output


def test_cli_finetune_reads_jsonl_and_parquet_results(corrected, tmp_path):
    from click.testing import CliRunner

    from cheque_reader.cli import main

    tmp, results, corrections = corrected
    corrections.to_csv(tmp_path / "corrections.csv", index=False)
    results.to_json(tmp_path / "results.jsonl", orient="records", lines=True)
    results.to_parquet(tmp_path / "results.parquet")
    for name in ("results.jsonl", "results.parquet"):
        res = CliRunner().invoke(main, ["finetune", "--corrections", str(tmp_path / "corrections.csv"),
                                        "--results", str(tmp_path / name), "--images", str(tmp),
                                        "-o", str(tmp_path / f"{name}.pt"), "--epochs", "1"])
        assert res.exit_code == 0, res.output
        assert DigitClassifier(model_path=str(tmp_path / f"{name}.pt")).metadata["finetune"]["digits"] > 0


def test_collect_digits_cuts_upside_down_and_turned_pages_upright(turned_reads):
    """The digits of an upside-down or turned page are cut from the field as read, upright, so that
    each gets its own corrected label (the raw page box held them upside down: a '6' labelled '1')."""
    _, scans, results, _ = turned_reads
    corrections = pd.DataFrame({"source": results["source"], "page": 1, "digits": results["digits"]})
    clf = DigitClassifier()
    cut = {s: collect_digits(corrections[corrections["source"] == s], results, image_root=scans, classifier=clf)
           for s in results["source"]}
    upright = cut["a_upright.png"]
    assert upright.n_pages == 1 and len(upright.y) == len(results["digits"].iloc[0])
    for source in ("b_upside_down.png", "c_turned.png"):
        data = cut[source]
        assert data.y.tolist() == upright.y.tolist(), source
        # the same digits, in the same order, as the base model sees them on the upright page
        assert clf.predict_tensors(data.x).labels.tolist() == clf.predict_tensors(upright.x).labels.tolist(), source
    flipped = cut["b_upside_down.png"].x
    assert np.abs(flipped - upright.x).mean() < np.abs(flipped[::-1, :, ::-1, ::-1] - upright.x).mean()


def test_summary_says_one_digit_page_and_field_in_the_singular():
    """finetune said 'the field reader on 1 fields' after one corrected page."""
    from cheque_reader.finetune import summary

    line = summary({"finetune": {"corrected_pages": 1, "pages_used": 1, "digits": 6, "field_reader_fields": 1}})
    assert line == "fine-tuned on 6 digits from 1 of 1 corrected page; the field reader on 1 field"


def test_collect_digits_uses_the_good_pages_of_a_multipage_tiff_cut_short(tmp_path):
    """The whole file was loaded for one page: a TIFF cut short after page 2 had every correction of it
    skipped as 'scan not readable', its good pages 1 and 2 included."""
    from PIL import Image

    frames = [Image.fromarray(field_image(d)) for d in ("4072", "1385", "9026")]
    frames[0].save(tmp_path / "whole.tif", save_all=True, append_images=frames[1:])
    data = (tmp_path / "whole.tif").read_bytes()
    # cut inside the last page's data: pages 1 and 2 decode, page 3 does not
    (tmp_path / "cut.tif").write_bytes(data[: len(data) - frames[2].width * frames[2].height // 2])
    h, w = field_image("4072").shape
    results = pd.DataFrame({"source": "cut.tif", "page": [1, 2], "status": "ok", "digits": ["4072", "1385"],
                            "confidence": 0.5, "needs_review": "true", "field_x": 0, "field_y": 0, "field_w": w,
                            "field_h": h})
    corrections = pd.DataFrame({"source": "cut.tif", "page": [1, 2], "digits": ["4072", "1385"]})
    got = collect_digits(corrections, results, image_root=tmp_path)
    assert "scan not readable" not in got.skipped and got.n_pages == 2, got.skipped


def test_collect_digits_opens_a_scan_whose_name_is_not_utf8(tmp_path):
    """Its source holds \\xNN escapes, as read writes it: the correction was skipped as 'scan not readable'."""
    import os

    img = field_image("4072")
    with open(os.path.join(os.fsencode(tmp_path), b"ch\xe8que.png"), "wb") as f:  # cv2.imwrite crashes on the name
        f.write(cv2.imencode(".png", img)[1].tobytes())
    h, w = img.shape
    results = pd.DataFrame({"source": ["ch\\xe8que.png"], "page": [1], "status": "ok", "digits": ["4072"],
                            "confidence": 0.5, "needs_review": "true", "field_x": 0, "field_y": 0, "field_w": w,
                            "field_h": h})
    corrections = pd.DataFrame({"source": ["ch\\xe8que.png"], "page": [1], "digits": ["4072"]})
    got = collect_digits(corrections, results, image_root=tmp_path)
    assert "scan not readable" not in got.skipped and got.n_pages == 1, got.skipped


def test_finetune_whose_scans_are_not_found_names_the_folder_and_images(corrected, tmp_path):
    """Without --images (the scans not in the current folder) it ended 'no usable corrected digits
    (pages not used: scan not readable 8, ...)', no word of where it looked or of --images."""
    _, results, corrections = corrected
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(ValueError, match=r"scan not readable 8.*looked for in .*elsewhere: give the folder they "
                                         r"were read from \(--images DIR\)"):
        finetune(corrections, results, out_path=tmp_path / "x.pt", image_root=tmp_path / "elsewhere")
    assert not (tmp_path / "x.pt").exists()


def test_collect_digits_skips_a_corrected_page_without_a_field(corrected, tmp_path):
    """A no_field row read back from results.csv has <NA> in its field box: a correction of it (typed on
    the review page, which shows such pages whole) ended finetune in 'TypeError: boolean value of NA
    is ambiguous'."""
    from cheque_reader.report import read_results

    tmp, results, corrections = corrected
    blank = {"source": "blank.png", "page": 1, "status": "no_field", "digits": "", "confidence": 0.0,
             "needs_review": "true"}
    path = tmp_path / "results.csv"
    pd.concat([results, pd.DataFrame([blank])]).to_csv(path, index=False)
    corr = pd.concat([corrections.iloc[:1], pd.DataFrame([{"source": "blank.png", "page": 1, "digits": "500"}])])
    data = collect_digits(corr, read_results(path), image_root=tmp)
    assert data.skipped == {"no field or no digits": 1}


def test_collect_digits_finds_corrections_whose_paths_are_written_otherwise(corrected):
    """Corrections made by hand, or from a spreadsheet, name the pages otherwise than the results' source:
    ``./f00.png``, the scan's absolute path, ``scans\\f01.png``. evaluate matched such names to the results
    (by path, path suffix, then unique file name); finetune took only the exact text, and every such page
    was 'no result row'. They are found as evaluate finds them, and the scan is opened by the results' name."""
    tmp, results, corrections = corrected
    written = corrections.iloc[:4].copy()
    written["source"] = ["./f00.png", str(tmp / "f01.png"), "scans\\f02.png", "other/f03.png"]
    exact = collect_digits(corrections.iloc[:4], results, image_root=tmp)
    data = collect_digits(written, results, image_root=tmp)
    assert "no result row" not in data.skipped and data.n_pages == exact.n_pages >= 3, data.skipped
    assert data.y.tolist() == exact.y.tolist()
    # one page named two ways is one page: learnt once (the first), not as two amounts
    twice = pd.concat([corrections.iloc[:1], written.iloc[:1].assign(digits="9999")], ignore_index=True)
    once = collect_digits(twice, results, image_root=tmp)
    assert once.skipped == {"page corrected twice": 1} and once.y.tolist() == exact.y[:4].tolist()
