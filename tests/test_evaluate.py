"""Evaluation metrics on small hand-made tables whose answers were worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cheque_reader.config import data_dir
from cheque_reader.evaluate import (
    REJECT_ALL,
    apply_string_calibration,
    ece_noise_floor,
    edit_distance,
    evaluate_results,
    expected_calibration_error,
    fit_string_calibration,
    load_truth,
    match_truth,
    plot_evaluation,
    read_rates,
    risk_coverage,
    threshold_table,
)


def results_frame(rows):
    cols = ["source", "page", "digits", "confidence", "needs_review", "field_x", "field_y", "field_w", "field_h"]
    return pd.DataFrame(rows, columns=cols).astype({"digits": "string", "source": "string"})


@pytest.fixture
def four():
    # 3 of 4 exact; the wrong one has one substituted digit of 4.
    res = results_frame(
        [
            ["scans/a.png", 1, "1234", 0.99, "false", 0, 0, 10, 10],
            ["scans/b.png", 1, "0500", 0.95, "false", 0, 0, 10, 10],
            ["scans/c.png", 1, "77", 0.60, "true", 5, 0, 10, 10],
            ["scans/d.png", 1, "1299", 0.90, "false", 0, 0, 20, 10],
        ]
    )
    truth = pd.DataFrame(
        {
            "file": ["a.png", "b.png", "c.png", "d.png"],
            "amount_string": ["1234", "0500", "77", "1200"],
            "field_x": [0, 0, 0, 0],
            "field_y": [0, 0, 0, 0],
            "field_w": [10, 10, 10, 10],
            "field_h": [10, 10, 10, 10],
        }
    )
    return res, truth


def test_three_of_four(four):
    res, truth = four
    rep = evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    assert rep.n == 4 and rep.n_matched == 4 and rep.n_missing == 0
    assert rep.string_accuracy == 0.75
    # edit distances 0,0,0,2 over 4+4+2+4 = 14 truth digits
    assert rep.digit_accuracy == pytest.approx(1 - 2 / 14)
    # IoU: 1, 1, 5*10/(100+100-50)=1/3, 100/200=0.5
    assert rep.n_field == 4
    assert rep.field_iou_mean == pytest.approx((1 + 1 + 1 / 3 + 0.5) / 4)
    assert rep.field_iou_share_050 == 0.75
    # sorted by confidence: .99 ok, .95 ok, .90 wrong, .60 ok -> 0.5% error: 2 of 4 read
    assert rep.read_rate["0.005"] == 0.5
    assert rep.read_rate["0.02"] == 0.5
    assert rep.thresholds["0.01"] == 0.95
    # not flagged: a, b, d; d is wrong -> 1/3
    assert rep.auto_rate == 0.75
    assert rep.auto_error == pytest.approx(1 / 3)
    assert "string accuracy     75.00%" in rep.format()


def test_layout_accuracy_where_truth_and_results_name_layouts(four):
    res, truth = four
    assert evaluate_results(res, truth, truth_source="file", truth_digits="amount_string").n_layout == 0
    res = res.assign(layout=["us", "in-cts", "us", "top-right"])
    truth = truth.assign(layout=["us", "us", "us", ""])           # d's layout unknown: not counted
    rep = evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    assert rep.n_layout == 3 and rep.layout_accuracy == pytest.approx(2 / 3)
    assert "layout right        66.67% of 3" in rep.format()
    # a truth row without a result has its layout wrong
    rep = evaluate_results(res.iloc[1:], truth, truth_source="file", truth_digits="amount_string")
    assert rep.n_layout == 3 and rep.layout_accuracy == pytest.approx(1 / 3)


def test_missing_results_count_as_wrong(four):
    res, truth = four
    rep = evaluate_results(res.iloc[:2], truth, truth_source="file", truth_digits="amount_string")
    assert rep.n == 4 and rep.n_missing == 2
    assert rep.string_accuracy == 0.5
    # missing reads are never accepted: coverage counts them in the denominator
    assert rep.read_rate["0.001"] == 0.5
    assert math.isnan(rep.confidence[2]) and rep.correct[2] is False


def test_matching_exact_path_before_file_name():
    res = results_frame(
        [
            ["x/a.png", 1, "1", 0.5, "true", None, None, None, None],
            ["y/a.png", 1, "2", 0.5, "true", None, None, None, None],
            ["y/a.png", 2, "3", 0.5, "true", None, None, None, None],
        ]
    )
    truth = pd.DataFrame({"source": ["y/a.png", "y/a.png", "a.png"], "page": [1, 2, 1], "digits": ["2", "3", "1"]})
    m = match_truth(res, truth)
    assert m["digits"].tolist() == ["2", "3", ""]  # bare "a.png" is ambiguous between x/ and y/
    assert m["matched"].tolist() == [True, True, False]
    assert m.attrs["n_extra_results"] == 1


def test_page_defaults_to_one_and_suffix_match():
    res = results_frame([["in/scans/b.tif", 2, "9", 0.9, "false", None, None, None, None],
                         ["in/scans/b.tif", 1, "8", 0.9, "false", None, None, None, None]])
    truth = pd.DataFrame({"source": ["scans/b.tif"], "digits": ["8"]})
    rep = evaluate_results(res, truth)
    assert rep.string_accuracy == 1.0 and rep.n_extra_results == 1
    assert rep.n_field == 0 and rep.field_iou_mean is None


def test_a_truth_page_column_named_must_exist(tmp_path):
    res = results_frame([["b.tif", 2, "9", 0.9, "false", None, None, None, None]])
    truth = pd.DataFrame({"source": ["b.tif"], "sheet": [2], "digits": ["9"]})
    with pytest.raises(KeyError, match="no column 'nope'"):
        match_truth(res, truth, truth_page="nope")
    assert evaluate_results(res, truth, truth_page="sheet").string_accuracy == 1.0
    assert evaluate_results(res, truth).string_accuracy == 0.0  # no page column: page 1
    from click.testing import CliRunner

    from cheque_reader.cli import main

    res.to_csv(tmp_path / "r.csv", index=False)
    truth.to_csv(tmp_path / "t.csv", index=False)
    args = ["evaluate", str(tmp_path / "r.csv"), "--truth", str(tmp_path / "t.csv"), "--truth-page"]
    result = CliRunner().invoke(main, [*args, "nope"])
    assert result.exit_code == 2 and "no column 'nope'" in result.output, result.output
    assert CliRunner().invoke(main, [*args, "sheet"]).exit_code == 0


@pytest.mark.parametrize("option", ["--plot", "--json", "--details"])
def test_cli_output_that_cannot_be_written_exits_3_after_the_report(tmp_path, option):
    from click.testing import CliRunner

    from cheque_reader.cli import main

    results_frame([["a.png", 1, "12", 0.9, "false", None, None, None, None]]).to_csv(tmp_path / "r.csv", index=False)
    pd.DataFrame({"source": ["a.png"], "digits": ["12"]}).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "file").write_text("a file, not a folder")
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "r.csv"), "--truth", str(tmp_path / "t.csv"),
                                       option, str(tmp_path / "file" / "out")])
    assert result.exit_code == 3, result.output
    assert f"cannot write {tmp_path / 'file' / 'out'}" in result.output
    assert "string accuracy" in result.output.lower()  # the figures were printed first


def test_load_truth_keeps_leading_zeros(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text("file,amount_string\na.jpg,0050\nb.jpg,007\n")
    truth = load_truth(p, truth_source="file", truth_digits="amount_string")
    assert truth["amount_string"].tolist() == ["0050", "007"]
    res = results_frame([["a.jpg", 1, "50", 0.9, "false", None, None, None, None],
                         ["b.jpg", 1, "007", 0.9, "false", None, None, None, None]])
    rep = evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    assert rep.string_accuracy == 0.5
    assert rep.digit_accuracy == pytest.approx(1 - 2 / 7)


def test_edit_distance():
    assert edit_distance("", "") == 0
    assert edit_distance("12345", "1245") == 1
    assert edit_distance("123", "321") == 2
    assert edit_distance("1", "") == 1


def test_threshold_table_known_sorted_example():
    conf = [0.99, 0.97, 0.95, 0.93, 0.91, 0.85, 0.80, 0.75, 0.70, 0.50]
    ok = [True, True, True, True, True, True, True, False, True, False]
    # risk at each cut: 0,0,0,0,0,0,0, 1/8=.125, 1/9=.111, 2/10=.2
    table = threshold_table(conf, ok, targets=(0.001, 0.12, 0.2))
    assert table == {"0.001": 0.80, "0.12": 0.70, "0.2": 0.50}
    assert read_rates(conf, ok, targets=(0.001, 0.12)) == {"0.001": 0.7, "0.12": 0.9}


def test_threshold_table_ties_and_impossible():
    # the two 0.9 reads are accepted together: risk 1/3 at 0.9, never 0 with 2 accepted
    table = threshold_table([0.95, 0.9, 0.9], [True, True, False], targets=(0.0, 0.3, 0.34))
    assert table == {"0": 0.95, "0.3": 0.95, "0.34": 0.9}
    assert threshold_table([0.9, 0.5], [False, True], targets=(0.01,)) == {"0.01": REJECT_ALL}
    assert REJECT_ALL > 1.0


def test_risk_coverage_ignores_nan_confidence_but_counts_it():
    curve = risk_coverage([0.8, np.nan], [True, False])
    assert curve["coverage"].tolist() == [0.5]
    assert curve["risk"].tolist() == [0.0]


def test_ece_by_hand():
    # bin [0.9,1.0): conf 0.95 x2, 1 right -> gap 0.45; bin [0.2,0.3): conf 0.25 x2, 0 right -> 0.25
    ece = expected_calibration_error([0.95, 0.95, 0.25, 0.25], [True, False, False, False], n_bins=10)
    assert ece == pytest.approx((2 * 0.45 + 2 * 0.25) / 4)
    assert expected_calibration_error([1.0, 0.0], [True, False], n_bins=10) == 0.0


def test_string_calibration_fixes_overconfidence():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.3, 1.0, 5000)
    ok = rng.uniform(size=5000) < p**2
    params = fit_string_calibration(p, ok)
    assert params["method"] == "platt_logit" and params["n"] == 5000
    cal = apply_string_calibration(p, params)
    assert np.all(np.diff(cal[np.argsort(p)]) >= 0)  # monotone: the ranking is kept
    assert expected_calibration_error(cal, ok) < 0.02 < expected_calibration_error(p, ok)
    assert np.array_equal(apply_string_calibration(p, None), p)


def test_plot_evaluation_writes_png(four, tmp_path):
    res, truth = four
    rep = evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    out = plot_evaluation(rep, tmp_path / "sub" / "risk.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 5000


def test_plot_evaluation_writes_the_format_its_suffix_names(four, tmp_path):
    """--plot risk.svg and risk.pdf held PNG bytes, which no viewer opened; risk.txt was a PNG too."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    res, truth = four
    rep = evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    assert plot_evaluation(rep, tmp_path / "risk.pdf").read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in plot_evaluation(rep, tmp_path / "risk.SVG").read_bytes()[:1000]
    assert plot_evaluation(rep, tmp_path / "risk").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"cannot write a plot as \.txt"):
        plot_evaluation(rep, tmp_path / "risk.txt")
    res.to_csv(tmp_path / "r.csv", index=False)
    truth.to_csv(tmp_path / "t.csv", index=False)
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "r.csv"), "--truth", str(tmp_path / "t.csv"),
                                       "--truth-source", "file", "--truth-digits", "amount_string",
                                       "--plot", str(tmp_path / "risk.txt")])
    assert result.exit_code == 2 and "cannot write a plot as .txt" in result.output
    assert not (tmp_path / "risk.txt").exists()


@pytest.mark.real_data
@pytest.mark.skipif(not (data_dir() / "orand_car_a" / "labels.csv").exists(), reason="needs ../shared/data (ORAND CAR-A)")
def test_orand_labels_evaluate_against_themselves():
    from cheque_reader.datasets import load_orand_labels

    truth = load_orand_labels()
    assert (truth["amount_string"].str.len() == truth["n_digits"]).all()  # read as text
    res = pd.DataFrame({"source": "images/" + truth["file"], "page": 1, "digits": truth["amount_string"],
                        "confidence": 0.9, "needs_review": "false"})
    res.loc[0, "digits"] = res.loc[0, "digits"] + "1"
    rep = evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    assert rep.n == len(truth) == rep.n_matched
    assert rep.string_accuracy == pytest.approx(1 - 1 / len(truth))


def test_cli_evaluate(tmp_path):
    from click.testing import CliRunner

    from cheque_reader.cli import main

    (tmp_path / "r.csv").write_text(
        "source,page,status,digits,text,amount,confidence,needs_review,review_reasons,field_x,field_y,field_w,"
        "field_h,n_digits,model,elapsed_ms,error\n"
        "in/a.jpg,1,ok,0120,1.20,1.20,0.99,false,,,,,,4,m,1,\n"
        "in/b.jpg,1,ok,55,55,55,0.40,true,low_confidence,,,,,2,m,1,\n"
    )
    (tmp_path / "t.csv").write_text("file,amount_string\na.jpg,0120\nb.jpg,56\n")
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path / "r.csv"), "--truth", str(tmp_path / "t.csv"),
                                    "--truth-source", "file", "--truth-digits", "amount_string",
                                    "--plot", str(tmp_path / "p.png"), "--json", str(tmp_path / "e.json"),
                                    "--details", str(tmp_path / "d.csv")])
    assert res.exit_code == 0, res.output
    assert "string accuracy     50.00%" in res.output
    assert "digit accuracy      83.33%" in res.output  # 1 - 1/6
    assert (tmp_path / "p.png").stat().st_size > 0
    import json

    assert json.loads((tmp_path / "e.json").read_text())["read_rate"]["0.01"] == 0.5
    d = pd.read_csv(tmp_path / "d.csv", dtype={"truth": str, "digits": str})
    assert d["truth"].tolist() == ["0120", "56"] and d["correct"].tolist() == [True, False]
    bad = CliRunner().invoke(main, ["evaluate", str(tmp_path / "r.csv"), "--truth", str(tmp_path / "t.csv")])
    assert bad.exit_code == 2 and "no column 'source'" in bad.output
    assert f'{tmp_path / "t.csv"}: truth has no column' in bad.output  # the message, not a KeyError's repr ("...")


def test_a_digits_file_given_as_the_results_is_a_usage_error(tmp_path):
    """It has source and page columns: every truth row matched a digit's row and counted wrong (0%
    right, an ECE of 98%, exit 0)."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    (tmp_path / "d.csv").write_text("source,page,index,label,confidence,alt_label,alt_confidence,x,y,w,h\n"
                                    "a.jpg,1,0,1,0.99,7,0.01,3,4,20,30\n")
    (tmp_path / "t.csv").write_text("source,digits\na.jpg,1\n")
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path / "d.csv"), "--truth", str(tmp_path / "t.csv")])
    assert res.exit_code == 2, res.output
    assert "results have no column 'digits': not a results file of `read`" in res.output


def test_ignore_missing(four):
    res, truth = four
    rep = evaluate_results(res.iloc[:2], truth, truth_source="file", truth_digits="amount_string",
                           ignore_missing=True)
    assert rep.n == 2 and rep.n_missing == 2 and rep.string_accuracy == 1.0


def test_compose_string_calibration_equals_applying_twice():
    from cheque_reader.evaluate import compose_string_calibration

    p = np.linspace(0.01, 0.99, 50)
    inner = {"method": "platt_logit", "a": 1.7, "b": -0.4}
    outer = {"method": "platt_logit", "a": 0.6, "b": 0.3}
    twice = apply_string_calibration(apply_string_calibration(p, inner), outer)
    once = apply_string_calibration(p, compose_string_calibration(inner, outer))
    assert np.allclose(twice, once, atol=1e-6)
    assert compose_string_calibration(None, outer) == outer


def test_the_report_gives_the_ece_noise_floor_beside_the_ece():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 300)
    ok = rng.uniform(size=300) < conf                         # calibrated by construction
    res = pd.DataFrame({"source": [f"d/{i}.png" for i in range(300)], "page": 1, "confidence": conf,
                        "digits": ["12" if o else "13" for o in ok]})
    truth = pd.DataFrame({"source": [f"{i}.png" for i in range(300)], "digits": "12"})
    rep = evaluate_results(res, truth)
    assert rep.ece_noise_floor == pytest.approx(ece_noise_floor(conf))
    assert 0.02 < rep.ece_noise_floor < 0.08 and abs(rep.ece - rep.ece_noise_floor) < 0.03
    assert "would show about" in rep.format() and "ece_noise_floor" in rep.summary()


def test_ece_noise_floor_shrinks_with_n():
    small = ece_noise_floor(np.linspace(0.05, 0.95, 40))
    large = ece_noise_floor(np.linspace(0.05, 0.95, 4000), n_sim=50)
    assert large < 0.03 < small


def test_amount_values_are_compared_as_decimals_where_the_truth_has_them():
    res = pd.DataFrame({"source": ["a.png", "b.png", "c.png", "d.png"], "page": 1,
                        "digits": ["123456", "5380", "12", "99"], "amount": ["1234.56", "5380.00", "12.00", ""],
                        "confidence": [0.99, 0.98, 0.5, 0.4], "needs_review": ["false", "false", "true", "true"]})
    truth = pd.DataFrame({"source": ["a.png", "b.png", "c.png", "d.png"], "digits": ["123456", "5380", "12", "99"],
                          "amount": ["1234.560", "53.80", "", "99.00"]})
    rep = evaluate_results(res, truth)
    assert rep.string_accuracy == 1.0                   # every digit right ...
    assert rep.n_amount == 3                            # c.png's truth has no amount
    assert rep.amount_accuracy == pytest.approx(1 / 3)  # ... but b.png lost its point, d.png has no amount
    assert rep.auto_amount_error == pytest.approx(1 / 2)   # a and b went through; b's value is wrong
    assert "amount value right  33.33% of 3" in rep.format()
    assert evaluate_results(res, truth.drop(columns="amount")).n_amount == 0   # no amounts, no figure
    assert "amount value" not in evaluate_results(res, truth.drop(columns="amount")).format()


def test_truth_amounts_with_thousands_separators_are_read_and_others_refused_not_left_out():
    # a bank's truth export writes 1,234.56 (or Indian 25,00,000.00): those rows were left out of the
    # amount figures silently ("100.00% of 7" for 15 rows with amounts)
    res = pd.DataFrame({"source": ["a.png", "b.png", "c.png"], "page": 1, "digits": ["123456", "250000000", "7200"],
                        "amount": ["1234.56", "2500000.00", "72.00"], "confidence": 0.99, "needs_review": "false"})
    truth = pd.DataFrame({"source": ["a.png", "b.png", "c.png"], "digits": ["123456", "250000000", "7200"],
                          "amount": ["1,234.56", "25,00,000.00", "72.00"]})
    rep = evaluate_results(res, truth)
    assert rep.n_amount == 3 and rep.amount_accuracy == 1.0
    truth.loc[0, "amount"] = "1.234,56"  # European: no decimal value to compare, said so
    with pytest.raises(ValueError, match=r"truth amount '1\.234,56' is not a decimal value.*a\.png page 1"):
        evaluate_results(res, truth)


def test_results_holding_a_page_twice_are_evaluated_on_its_first_row_with_a_warning(caplog):
    """Two runs put together (or a file given twice): a truth row matched by file name found two results
    and was 'not matched' (counted wrong), and the other rows were counted as extra without a word."""
    res = pd.DataFrame({"source": ["d/a.png", "d/b.png", "d/a.png"], "page": 1, "digits": ["12", "70", "99"],
                        "confidence": [0.9, 0.4, 0.5], "needs_review": ["false", "true", "true"]})
    truth = pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["12", "70"]})
    with caplog.at_level("WARNING", logger="cheque_reader"):
        rep = evaluate_results(res, truth)
    assert rep.n_matched == 2 and rep.string_accuracy == 1.0
    assert "the results hold 1 row of pages already in them" in caplog.text and "not matched" not in caplog.text


def test_truth_that_matches_few_or_no_results_is_warned_about(four, caplog):
    res, truth = four
    with caplog.at_level("WARNING", logger="cheque_reader"):
        rep = evaluate_results(res, truth, truth_source="amount_string", truth_digits="amount_string")
    assert rep.n_matched == 0 and "only 0 of 4 truth rows match a result" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="cheque_reader"):
        evaluate_results(res.iloc[:3], truth, truth_source="file", truth_digits="amount_string")
    assert "only 3 of 4 truth rows match a result" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="cheque_reader"):
        evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    assert caplog.text == ""


def test_ignore_missing_with_every_row_missing_says_so_not_that_the_truth_is_empty(four):
    res, truth = four
    with pytest.raises(ValueError, match="none of the 4 truth rows matches a result"):
        evaluate_results(res.iloc[:0], truth, truth_source="file", truth_digits="amount_string", ignore_missing=True)
    with pytest.raises(ValueError, match="the truth table has no rows"):
        evaluate_results(res, truth.iloc[:0], truth_source="file", truth_digits="amount_string")


def test_two_truth_rows_for_one_page_are_refused(four):
    res, truth = four
    twice = pd.concat([truth, truth.iloc[[1]].assign(amount_string="0600")], ignore_index=True)
    with pytest.raises(ValueError, match="more than one row for b.png page 1"):
        evaluate_results(res, twice, truth_source="file", truth_digits="amount_string")


def test_plot_legend_and_read_shares_cover_no_data():
    """Reads right at low confidence make tall bars at the left of the reliability diagram, where its
    legend used to sit (hiding a bar and its count); the shares read at each error target sat in a
    box over the risk-coverage curve's top left."""
    from cheque_reader.evaluate import evaluation_figure

    conf = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95, 0.97, 0.99]
    right = [True, True, True, True, False, True, True, False, True, True, True, False]
    res = results_frame([[f"p{i}.png", 1, "12", c, "false", 0, 0, 10, 10] for i, c in enumerate(conf)])
    truth = pd.DataFrame({"file": [f"p{i}.png" for i in range(len(conf))],
                          "amount_string": ["12" if ok else "13" for ok in right]})
    rep = evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    fig = evaluation_figure(rep)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax1, ax2 = fig.axes
    legend = ax2.get_legend().get_window_extent(renderer)
    data = [b.get_window_extent(renderer) for b in ax2.patches] + \
           [t.get_window_extent(renderer) for t in ax2.texts]
    assert len(ax2.patches) >= 8 and ax2.texts
    assert not any(legend.overlaps(d) for d in data)
    # the shares are written, and outside the risk-coverage axes
    notes = [t for t in ax1.texts if "read automatically" in t.get_text()]
    assert notes and "at 1%" in notes[0].get_text()
    assert not notes[0].get_window_extent(renderer).overlaps(ax1.get_window_extent(renderer))


@pytest.mark.parametrize("suffix", ["parquet", "jsonl", "csv"])
def test_cli_details_are_written_in_the_format_their_suffix_names(four, tmp_path, suffix):
    """--details d.parquet wrote CSV text under that name (pandas could not read it back)."""
    from click.testing import CliRunner

    from cheque_reader.cli import main
    from cheque_reader.report import read_results

    res, truth = four
    res.to_csv(tmp_path / "r.csv", index=False)
    truth.to_csv(tmp_path / "t.csv", index=False)
    args = ["evaluate", str(tmp_path / "r.csv"), "--truth", str(tmp_path / "t.csv"), "--truth-source", "file",
            "--truth-digits", "amount_string"]
    out = tmp_path / f"d.{suffix}"
    result = CliRunner().invoke(main, [*args, "--details", str(out)])
    assert result.exit_code == 0, result.output
    back = (pd.read_parquet(out) if suffix == "parquet" else pd.read_json(out, lines=True, dtype={"truth": str})
            if suffix == "jsonl" else pd.read_csv(out, dtype={"truth": str}))
    assert back["truth"].tolist() == ["1234", "0500", "77", "1200"] and back["correct"].tolist() == [True] * 3 + [False]
    assert read_results(tmp_path / "r.csv")["digits"].tolist() == res["digits"].tolist()


@pytest.mark.parametrize("option, name", [("--plot", "out/"), ("--details", "out/"), ("--json", "out/"),
                                          ("--details", "d.xlsx")])
def test_cli_outputs_named_as_a_folder_or_in_no_format_are_usage_errors_before_evaluating(four, tmp_path, option,
                                                                                          name):
    """--plot out/ wrote a file named 'out' (pathlib drops the slash); --details d.xlsx wrote CSV."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    res, truth = four
    res.to_csv(tmp_path / "r.csv", index=False)
    truth.to_csv(tmp_path / "t.csv", index=False)
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "r.csv"), "--truth", str(tmp_path / "t.csv"),
                                       "--truth-source", "file", "--truth-digits", "amount_string",
                                       option, f"{tmp_path}/{name}"])
    assert result.exit_code == 2, result.output
    assert "string accuracy" not in result.output.lower() and option in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "t.csv"]  # nothing written


def test_ignore_missing_warns_about_results_without_truth_not_about_the_truth_rows_left_out(four, caplog):
    """The README's ORAND command (193 fields read, 1,080 truth rows, --ignore-missing) warned "only 193 of
    1080 truth rows match a result: check the truth's source and page columns", though each result had
    its truth row: the option says the truth rows without a result are expected."""
    res, truth = four
    with caplog.at_level("WARNING", logger="cheque_reader"):
        rep = evaluate_results(res.iloc[:1], truth, truth_source="file", truth_digits="amount_string",
                               ignore_missing=True)
    assert rep.n == 1 and rep.n_missing == 3 and caplog.text == ""
    other = res.copy()
    other["source"] = ["scans/x.png", "scans/y.png", "scans/z.png", "scans/a.png"]  # 3 of 4 results unmatched
    with caplog.at_level("WARNING", logger="cheque_reader"):
        rep = evaluate_results(other, truth, truth_source="file", truth_digits="amount_string", ignore_missing=True)
    assert rep.n == 1 and "only 1 of 4 results match a truth row" in caplog.text


def test_results_without_a_column_leave_its_figures_out_not_at_zero(four, caplog):
    """A results file cut down to source, page and digits reported 'field IoU mean 0.000', 'read @ 1%
    error 0.00%' and 'amount value right 0.00%': figures it held nothing to measure."""
    res, truth = four
    truth = truth.assign(amount=["12.34", "5.00", "0.77", "12.00"])
    full = evaluate_results(res.assign(amount=["12.34", "5.00", "0.77", "12.99"]), truth,
                            truth_source="file", truth_digits="amount_string")
    assert full.n_field == 4 and full.n_amount == 4 and full.read_rate["0.01"] == 0.5
    with caplog.at_level("WARNING", logger="cheque_reader"):
        rep = evaluate_results(res[["source", "page", "digits"]], truth, truth_source="file",
                               truth_digits="amount_string")
    assert rep.string_accuracy == 0.75
    assert rep.n_field == 0 and rep.field_iou_mean is None
    assert rep.n_amount == 0 and rep.amount_accuracy is None
    assert rep.read_rate == {} and rep.thresholds == {} and rep.auto_rate is None
    text = rep.format()
    assert "field IoU" not in text and "read @" not in text and "amount value" not in text
    assert "no confidence, needs_review, amount, field_x, field_y, field_w, field_h columns" in caplog.text


def test_a_page_that_is_no_number_is_named_with_its_row(four):
    """It ended 'cannot evaluate r.csv against t.csv: invalid literal for int() with base 10: 'one''."""
    res, truth = four
    truth = truth.assign(page=["1", "one", "1", "1"])
    with pytest.raises(ValueError, match=r"the truth's page 'one' for b.png is not a page number"):
        evaluate_results(res, truth, truth_source="file", truth_digits="amount_string")
    res = res.astype({"page": object})
    res.loc[2, "page"] = "p3"
    with pytest.raises(ValueError, match=r"the results' page 'p3' for scans/c.png is not a page number"):
        evaluate_results(res, truth.assign(page="1"), truth_source="file", truth_digits="amount_string")


def test_a_result_without_a_field_box_counts_iou_zero_against_a_truth_with_boxes(tmp_path):
    """A ``no_field`` or ``error`` row read back by ``read_results`` has ``<NA>`` field cells: evaluating it
    against a truth with field boxes raised "boolean value of NA is ambiguous" (a traceback from
    ``cheque-reader evaluate``); it is a field missed, IoU 0."""
    from cheque_reader.report import read_results

    (tmp_path / "r.csv").write_text(
        "source,page,status,digits,text,amount,confidence,needs_review,review_reasons,field_x,field_y,field_w,"
        "field_h,n_digits,model,elapsed_ms,error\n"
        "a.png,1,ok,12,12,12,0.99,false,,0,0,10,10,2,m,1,\n"
        "b.png,1,no_field,,,,0.0,true,no_field,,,,,0,m,1,\n"
    )
    truth = pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["12", "34"], "field_x": [0, 0],
                          "field_y": [0, 0], "field_w": [10, 10], "field_h": [10, 10]})
    rep = evaluate_results(read_results(tmp_path / "r.csv"), truth)
    assert rep.n_field == 2 and rep.field_iou_mean == 0.5 and rep.field_iou_share_050 == 0.5
    assert rep.string_accuracy == 0.5


def test_a_truth_without_pages_for_a_file_of_several_says_why_its_rows_are_one_page():
    """A truth made without a page column (or with its page cells left blank) for a multi-page TIFF holds
    every row as page 1: it was refused as "more than one row for batch.tif page 1: keep one per page",
    as if the rows were duplicates; the message now says that the page column is missing, or blank."""
    res = pd.DataFrame({"source": ["batch.tif"] * 2, "page": [1, 2], "digits": ["12", "34"],
                        "confidence": [0.9, 0.9], "needs_review": ["false", "false"]})
    with pytest.raises(ValueError, match="batch.tif page 1: the truth has no page column, so each of its rows is page 1"):
        evaluate_results(res, pd.DataFrame({"source": ["batch.tif"] * 2, "digits": ["12", "34"]}))
    with pytest.raises(ValueError, match="batch.tif page 1: a blank page cell is page 1: fill in the pages"):
        evaluate_results(res, pd.DataFrame({"source": ["batch.tif"] * 2, "page": ["", ""], "digits": ["12", "34"]}))
    truth = pd.DataFrame({"source": ["batch.tif"] * 2, "page": pd.array([pd.NA, 2], dtype="Int64"), "digits": ["12", "34"]})
    assert evaluate_results(res, truth).string_accuracy == 1.0  # an <NA> page is page 1 (it raised on NA's truth)


def test_the_results_of_read_cheque_calls_are_evaluated_as_their_frame():
    """A developer who read cheques one by one (``read_cheque``) and passed the results to ``evaluate_results``,
    as ``write_review_page`` takes them, got ``AttributeError: 'list' object has no attribute 'columns'``."""
    from cheque_reader.report import results_frame
    from cheque_reader.types import ChequeResult

    results = [ChequeResult("scans/a.png", 1, "ok", digits="125", text="125", amount="125", confidence=0.99,
                            needs_review=False),
               ChequeResult("scans/b.png", 1, "ok", digits="30", text="30", amount="30", confidence=0.6,
                            needs_review=True, review_reasons=("low_confidence",))]
    truth = pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["125", "300"]})
    report = evaluate_results(results, truth)
    assert report == evaluate_results(results_frame(results), truth)
    assert (report.n, report.string_accuracy, report.auto_rate, report.auto_error) == (2, 0.5, 0.5, 0.0)
    with pytest.raises(TypeError, match="a list of ChequeResult .read_cheque's., not a list of dict"):
        evaluate_results([{"source": "a.png", "digits": "125"}], truth)
