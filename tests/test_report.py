import pandas as pd
import pytest

from cheque_reader.batch import open_sink
from cheque_reader.report import (RESULT_COLUMNS, RESULT_DTYPES, check_outputs, digit_rows, read_results, result_row,
                                  results_frame, write_table)
from cheque_reader.types import BBox, ChequeResult, DigitRead


def _result(**kw):
    base = dict(source="dir/a b,\"c\".png", page=2, status="ok", digits="0072", text="0072", amount="72.00",
                confidence=0.97, needs_review=False, field=BBox(1, 2, 3, 4), n_digits=4, model="m",
                digit_reads=(DigitRead(0, 0.9, 8, 0.05, BBox(0, 0, 5, 9)),))
    base.update(kw)
    return ChequeResult(**base)


#: DESIGN.md's result schema, in its order: other tools parse these columns.
DESIGN_COLUMNS = ("source", "page", "status", "digits", "text", "amount", "confidence", "needs_review",
                  "review_reasons", "field_x", "field_y", "field_w", "field_h", "n_digits", "model",
                  "elapsed_ms", "error")


def test_schema_columns_match_design():
    # every column of the design, in its order; then the layout that found the field
    assert RESULT_COLUMNS == DESIGN_COLUMNS + ("layout",)
    assert list(result_row(_result())) == list(RESULT_COLUMNS)


def test_row_round_trips_through_csv_with_leading_zeros_and_quoting(tmp_path):
    path = tmp_path / "r.csv"
    results_frame([_result(), _result(page=3, status="no_field", digits="", field=None, needs_review=True,
                                      review_reasons=("no_field",))]).to_csv(path, index=False)
    back = read_results(path)
    assert list(back.columns) == list(RESULT_COLUMNS)
    assert back.loc[0, "digits"] == "0072"
    assert back.loc[0, "source"] == 'dir/a b,"c".png'
    assert back.loc[1, "review_reasons"] == "no_field"
    assert pd.isna(back.loc[1, "field_x"])
    assert back.loc[0, "field_w"] == 3


def test_extra_columns_follow_schema():
    row = result_row(_result(extra={"item_sequence": "17"}))
    assert list(row)[: len(RESULT_COLUMNS)] == list(RESULT_COLUMNS)
    assert row["item_sequence"] == "17"


def test_digit_rows():
    rows = digit_rows(_result())
    assert rows == [{"source": 'dir/a b,"c".png', "page": 2, "index": 0, "label": 0, "confidence": 0.9,
                     "alt_label": 8, "alt_confidence": 0.05, "x": 0, "y": 0, "w": 5, "h": 9}]


@pytest.mark.parametrize("name", ["r.csv", "r.parquet", "r.jsonl", "R.PQ", "r.ndjson"])
def test_read_results_reads_every_format_read_writes(tmp_path, name):
    results = [_result(), _result(page=3, status="error", digits="", field=None, needs_review=True,
                                  review_reasons=("error",), error="bad file", extra={"item_sequence": "0017"})]
    sink = open_sink(tmp_path / name, list(RESULT_COLUMNS) + ["item_sequence"])  # what read -o writes
    for r in results:
        sink.write(result_row(r))
    sink.close()
    back = read_results(tmp_path / name)
    assert list(back.columns) == list(RESULT_COLUMNS) + ["item_sequence"]
    assert {c: str(t) for c, t in back.dtypes.items()} == {c: RESULT_DTYPES.get(c, "string") for c in back.columns}
    assert back.loc[0, "digits"] == "0072" and back.loc[1, "item_sequence"] == "0017"
    assert back.loc[1, "error"] == "bad file" and back.loc[0, "error"] == "" and pd.isna(back.loc[1, "field_x"])
    assert back.loc[0, "confidence"] == 0.97 and back.loc[0, "field_w"] == 3


def test_check_outputs_refuses_results_and_digits_in_one_file(tmp_path, monkeypatch):
    from cheque_reader.errors import UsageError

    monkeypatch.chdir(tmp_path)
    check_outputs("r.csv", "d.csv")
    check_outputs("r.csv", None)
    for digits in ("r.csv", "./r.csv", str(tmp_path / "r.csv")):
        with pytest.raises(UsageError, match="same file"):
            check_outputs("r.csv", digits)
    (tmp_path / "r.csv").write_text("")
    (tmp_path / "link.csv").symlink_to(tmp_path / "r.csv")
    with pytest.raises(UsageError, match="same file"):
        check_outputs("r.csv", "link.csv")


def test_check_outputs_resume_refuses_a_file_that_is_not_a_results_file(tmp_path):
    from cheque_reader.errors import UsageError

    (tmp_path / "truth.csv").write_text("source,page,digits\na.png,1,12\n")
    (tmp_path / "other.jsonl").write_text('{"a": 1}\n')
    (tmp_path / "text.parquet").write_text("source,page\n")
    for name, why in (("truth.csv", "missing columns status, text"), ("other.jsonl", "missing columns source"),
                      ("text.parquet", "not a results file")):
        with pytest.raises(UsageError, match=why):
            check_outputs(tmp_path / name, resume=True)
        check_outputs(tmp_path / name)  # overwritten, not resumed: nothing to check
    for name in ("r.csv", "r.parquet", "r.jsonl"):  # results files, as read -o writes them
        sink = open_sink(tmp_path / name, list(RESULT_COLUMNS))
        sink.write(result_row(_result()))
        sink.close()
        check_outputs(tmp_path / name, resume=True)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "cut.csv").write_text("source,page,sta")  # a run stopped while writing its header
    check_outputs(tmp_path / "empty.csv", resume=True)
    check_outputs(tmp_path / "cut.csv", resume=True)
    check_outputs(tmp_path / "absent.csv", resume=True)


def test_a_truth_or_corrections_csv_that_is_not_utf8_is_named_with_how_to_save_it(tmp_path):
    """Excel's plain "CSV" on Windows writes cp1252: pandas' "'utf-8' codec can't decode byte 0xe8 in
    position 2" named neither the file nor what to do (finetune printed only that)."""
    from cheque_reader.evaluate import load_truth
    from cheque_reader.review import load_corrections

    p = tmp_path / "t.csv"
    p.write_bytes("source,page,digits\nchèque.png,1,120\n".encode("cp1252"))
    for load in (load_truth, load_corrections):
        with pytest.raises(ValueError, match=r"t\.csv: not UTF-8 text \(byte 0xe8\): save it as UTF-8"):
            load(p)
    p.write_bytes("source,page,digits\nchèque.png,1,120\n".encode())
    assert load_truth(p)["source"].tolist() == load_corrections(p)["source"].tolist() == ["chèque.png"]


def test_an_error_message_of_several_lines_is_one_line_in_the_row(tmp_path):
    """OpenCV's errors end in a newline: 'internal error: error: OpenCV(5.0.0) ... in function
    'resize'\\n' split the row of a 1 x 10,000 pixel scan over two lines of results.csv."""
    message = "internal error: error: OpenCV(5.0.0) resize.cpp:4217: error: (-215:Assertion failed)\n in 'resize'\n"
    row = result_row(ChequeResult("thin.png", 1, "error", error=message))
    assert row["error"] == "internal error: error: OpenCV(5.0.0) resize.cpp:4217: error: (-215:Assertion failed) in 'resize'"
    sink = open_sink(tmp_path / "r.csv", list(RESULT_COLUMNS))
    sink.write(row)
    sink.close()
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 2  # the header and one row
    assert result_row(ChequeResult("a.png", 1, "ok"))["error"] == ""


@pytest.mark.parametrize("value, kind", [("abc", "a whole number"), ("2.5", "a whole number")])
def test_a_results_csv_with_a_value_that_is_no_number_is_named_by_column_and_line(tmp_path, value, kind):
    """pandas said 'Unable to parse string 'abc' at position 1' (no column, no line), and a 2.5 in an integer
    column raised TypeError: a traceback from evaluate."""
    path = tmp_path / "r.csv"
    rows = [",".join(RESULT_COLUMNS)] + [",".join(["a.png", "1", "ok"] + [""] * (len(RESULT_COLUMNS) - 3))] * 2
    cells = rows[2].split(",")
    cells[RESULT_COLUMNS.index("field_y")] = value
    rows[2] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=rf"r\.csv: field_y '{value}' on line 3 is not {kind}"):
        read_results(path)
    cells[RESULT_COLUMNS.index("field_y")] = ""
    cells[RESULT_COLUMNS.index("confidence")] = "high"
    path.write_text("\n".join(rows[:2] + [",".join(cells)]) + "\n")
    with pytest.raises(ValueError, match=r"confidence 'high' on line 3 is not a number"):
        read_results(path)


@pytest.mark.parametrize("value", ['"abc"', "2.5"])
def test_a_results_jsonl_with_a_value_that_is_no_number_is_named_by_column_and_row(tmp_path, value):
    """A 2.5 in an integer column of a .jsonl raised TypeError (a traceback from evaluate); 'abc' said only
    'invalid literal for int() with base 10'."""
    path = tmp_path / "r.jsonl"
    path.write_text('{"source":"a.png","page":1,"field_x":3}\n{"source":"b.png","page":1,"field_x":' + value + "}\n")
    with pytest.raises(ValueError, match=r"r\.jsonl: field_x .* in row 2 is not a whole number"):
        read_results(path)


@pytest.mark.parametrize(("sep", "said"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_persons_csv_separated_by_semicolons_says_so(tmp_path, sep, said):
    """A truth table saved by a German or French Excel ('source;page;digits') was refused as having no
    'source' column, with the header shown whole as one column's name."""
    from cheque_reader.report import read_text_csv

    path = tmp_path / "truth.csv"
    path.write_text(sep.join(["source", "page", "digits"]) + "\n" + sep.join(["a.png", "1", "123"]) + "\n")
    with pytest.raises(ValueError, match=f"truth.csv: its columns are separated by {said}, not commas"):
        read_text_csv(path)
    path.write_text("source,page,digits\na.png,1,123\n")
    assert read_text_csv(path, dtype=str).values.tolist() == [["a.png", "1", "123"]]


def test_a_semicolon_csv_whose_amounts_hold_commas_says_it_is_separated_by_semicolons(tmp_path):
    """Excel's semicolon CSV (a comma decimal mark) whose amount cells hold commas ('"1,234.56"') does not
    parse at all: the message was pandas' "Error tokenizing data. C error: Expected 1 fields in line 3, saw 2",
    naming neither the file nor the cause (the test above covers files that parse as one column)."""
    from click.testing import CliRunner

    from cheque_reader.cli import main
    from cheque_reader.report import read_text_csv

    path = tmp_path / "truth.csv"
    path.write_bytes(b'\xef\xbb\xbfsource;page;digits;amount\r\na.png;1;123;1,23\r\nb.png;1;"1,234.56";"1,234.56"\r\n')
    with pytest.raises(ValueError, match="truth.csv: its columns are separated by semicolons, not commas"):
        read_text_csv(path, dtype=str)
    (tmp_path / "r.csv").write_text("source,page,digits\na.png,1,123\n")
    res = CliRunner().invoke(main, ["evaluate", str(tmp_path / "r.csv"), "--truth", str(path)])
    assert res.exit_code == 2 and "separated by semicolons" in res.output and "C error" not in res.output
    path.write_text('source,page,digits\na.png,1,123\nb.png,1,"12\n')  # a comma CSV broken otherwise: named
    with pytest.raises(ValueError, match="truth.csv: not a CSV table"):
        read_text_csv(path, dtype=str)


def test_a_results_file_saved_again_with_semicolons_says_so(tmp_path):
    """A results.csv opened and saved again by a spreadsheet whose decimal mark is a comma has semicolons
    between its columns: evaluate and finetune said pandas' "Error tokenizing data. C error: Expected 1
    fields in line 3, saw 2", and review that it was "not a results file of `read`"."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    df = results_frame([ChequeResult("a.png", 1, "ok", digits="125", text="1,25", amount="1.25", confidence=0.9),
                        ChequeResult("b.png", 1, "ok", digits="70", text="70", amount="70", confidence=0.5)])
    path = tmp_path / "results.csv"
    df.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n", decimal=",")
    with pytest.raises(ValueError, match="results.csv: its columns are separated by semicolons, not commas"):
        read_results(path)
    (tmp_path / "truth.csv").write_text("source,digits\na.png,125\n")
    (tmp_path / "corrections.csv").write_text("source,page,digits\na.png,1,125\n")
    for args in (["evaluate", str(path), "--truth", str(tmp_path / "truth.csv")],
                 ["review", str(path), "--out", str(tmp_path / "review")],
                 ["finetune", "--corrections", str(tmp_path / "corrections.csv"), "--results", str(path),
                  "-o", str(tmp_path / "m.pt")]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2 and "separated by semicolons" in res.output, (args[0], res.output)
        assert "not a results file" not in res.output, (args[0], res.output)


def test_rows_a_spreadsheet_left_empty_are_no_rows(tmp_path):
    """Excel saves the rows a person emptied as ',,,' lines: a truth table held them as pages named ''
    (evaluate: "the truth has more than one row for  page 1"), corrections as a page with no result
    (finetune: "not used: no result row 1"). They are left out, in the truth and in the corrections."""
    from cheque_reader.evaluate import evaluate_results, load_truth
    from cheque_reader.review import load_corrections

    path = tmp_path / "truth.csv"
    path.write_text("source,page,digits,amount\r\na.png,1,0125,1.25\r\n,,,\r\n , ,,\r\nb.png,,70,70.00\r\n,,,\r\n")
    truth = load_truth(path)
    assert truth[["source", "digits"]].values.tolist() == [["a.png", "0125"], ["b.png", "70"]]
    res = pd.DataFrame({"source": ["a.png", "b.png"], "page": [1, 1], "digits": ["0125", "71"],
                        "confidence": [0.9, 0.8], "needs_review": ["false", "false"]})
    assert evaluate_results(res, truth).string_accuracy == 0.5
    path.write_text("source,page,digits\r\na.png,1,125\r\n,,\r\n,,\r\n")
    assert load_corrections(path).values.tolist() == [["a.png", 1, "125"]]


def test_a_csv_written_by_hand_with_a_space_after_each_comma_is_read(tmp_path):
    """'source, page, digits' (a space after each comma, as people type a CSV) made columns named ' page'
    and ' digits': corrections were refused as 'missing digits' and a truth as having no column 'digits'
    (columns: source,  digits). Spaces after a comma are skipped; a quoted name keeps its own."""
    from cheque_reader.evaluate import evaluate_results, load_truth
    from cheque_reader.review import load_corrections

    path = tmp_path / "corrections.csv"
    path.write_text('source, page, digits\na.png, 2, 0125\n" b.png", 1, 70\n')
    assert load_corrections(path).values.tolist() == [["a.png", 2, "0125"], [" b.png", 1, "70"]]
    path = tmp_path / "truth.csv"
    path.write_text("source, page, digits, amount\na.png, 1, 0125, 1.25\n")
    truth = load_truth(path)
    assert truth[["source", "digits"]].values.tolist() == [["a.png", "0125"]]
    res = pd.DataFrame({"source": ["a.png"], "page": [1], "digits": ["0125"], "amount": ["1.25"],
                        "confidence": [0.9], "needs_review": ["false"]})
    rep = evaluate_results(res, truth)
    assert rep.string_accuracy == 1.0 and rep.amount_accuracy == 1.0


def test_an_empty_csv_given_as_a_table_says_which_file_is_empty(tmp_path):
    """A zero-byte corrections, truth or results file gave pandas' "No columns to parse from file",
    naming no file (`finetune --corrections empty.csv` said only that)."""
    from cheque_reader.report import read_text_csv

    path = tmp_path / "corrections.csv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"corrections\.csv: empty file \(0 bytes\): no header line"):
        read_text_csv(path, dtype=str)
    with pytest.raises(ValueError, match=r"corrections\.csv: empty file \(0 bytes\): no header line"):
        read_results(path)


@pytest.mark.parametrize(("written", "named", "said"), [(".jsonl", ".csv", "JSON lines"), (".parquet", ".csv", "Parquet"),
                                                       (".csv", ".jsonl", "CSV text"), (".parquet", ".jsonl", "Parquet")])
def test_resume_onto_results_of_another_format_than_its_suffix_says_which(tmp_path, written, named, said):
    """A results.parquet renamed .csv was "not a results file (missing columns source, page, ...)",
    and one renamed .jsonl "(Expecting value: line 1 column 1 (char 0))"."""
    from cheque_reader.errors import UsageError
    from cheque_reader.report import write_table

    pytest.importorskip("pyarrow")
    frame = pd.DataFrame([{c: "" for c in RESULT_COLUMNS} | {"source": "a.png", "page": 1, "status": "ok"}])
    write_table(frame, tmp_path / f"r{written}")
    (tmp_path / f"r{written}").rename(tmp_path / f"r{named}")
    with pytest.raises(UsageError, match=f"not a results file \\(it holds {said}, as a .* results file does: give it"):
        check_outputs(str(tmp_path / f"r{named}"), None, resume=True)


@pytest.mark.parametrize("cut", ["a.png,1,ok,1", 'a.png,1,ok,12,"1', ""])
def test_read_results_leaves_out_a_last_row_cut_off(tmp_path, caplog, cut):
    """A run stopped while writing a row (or a copy taken while it ran) leaves a last line without a line
    end: it was read as a row (digits ``1``, evaluated as a wrong read), and a cut ``.jsonl`` line made the
    whole file unreadable ("not a results file of `read`"). It is left out, with a warning naming the file;
    a complete last row saved without a final newline is kept."""
    full = results_frame([ChequeResult("z.png", 1, "ok", digits="0125", text="1.25", confidence=0.9),
                          ChequeResult("a.png", 1, "ok", digits="1250", text="12.50", confidence=0.8)])
    csv_text = full.to_csv(index=False, lineterminator="\n")
    first = csv_text[: csv_text.index("\na.png") + 1]
    (tmp_path / "r.csv").write_text(first + cut)
    write_table(full, tmp_path / "w.jsonl")
    jsonl = (tmp_path / "w.jsonl").read_text()
    (tmp_path / "r.jsonl").write_text(jsonl[: jsonl.index('{"source":"a.png"')] + '{"source":"a.png","pa'[: len(cut)])
    for name in ("r.csv", "r.jsonl"):
        caplog.clear()
        df = read_results(tmp_path / name)
        assert df["source"].tolist() == ["z.png"] and df["digits"].tolist() == ["0125"], name
        assert ("cut off" in caplog.text and name in caplog.text) == bool(cut), name
    (tmp_path / "whole.csv").write_text(csv_text.rstrip("\n"))  # complete, no final newline: kept
    caplog.clear()
    assert read_results(tmp_path / "whole.csv")["digits"].tolist() == ["0125", "1250"] and "cut off" not in caplog.text


def test_results_written_again_by_a_tool_that_took_digits_for_numbers(tmp_path, caplog):
    """A results.csv filtered or sorted with pandas' default read_csv and written back holds its digits as
    decimals ('5890.0': the column has blanks, so pandas made it float): evaluate counted every read wrong
    ('58900' against '5890', 0% right) and the review page put '5890.0' in its boxes, where Enter exported
    '58900'. They are read as the digits, with a warning."""
    from cheque_reader.evaluate import evaluate_results
    from cheque_reader.review import review_items

    df = results_frame([ChequeResult("a.png", 1, "ok", digits="5890", text="58.90", amount="58.90", confidence=0.5,
                                     needs_review=True),
                        ChequeResult("b.png", 1, "error", error="bad file", needs_review=True)])
    df.to_csv(tmp_path / "r.csv", index=False)
    pd.read_csv(tmp_path / "r.csv").to_csv(tmp_path / "again.csv", index=False)  # a tool's default round trip
    assert "5890.0" in (tmp_path / "again.csv").read_text()
    back = read_results(tmp_path / "again.csv")
    assert back["digits"].tolist() == ["5890", ""] and "5890.0" in caplog.text
    truth = pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["5890", "12"]})
    assert evaluate_results(back, truth).string_accuracy == 0.5
    assert review_items(back)[-1]["digits"] == "5890"


def test_a_results_file_opened_for_bytes_is_read_as_its_path_is(tmp_path):
    """A results file from object storage or an upload (a binary stream: ``open(p, "rb")``, ``io.BytesIO``,
    an S3 body) raised ``TypeError: a bytes-like object is required, not 'str'`` from inside read_results."""
    import io

    rows = [result_row(ChequeResult("a.png", 1, "ok", digits="0072", text="0072", confidence=0.9, needs_review=False)),
            result_row(ChequeResult("chèque b.png", 2, "error", error="chèque b.png: no such file"))]
    path = tmp_path / "results.csv"
    pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).to_csv(path, index=False)
    expected = read_results(path)
    with open(path, "rb") as f:
        pd.testing.assert_frame_equal(read_results(f), expected)
    pd.testing.assert_frame_equal(read_results(io.BytesIO(path.read_bytes())), expected)
    assert read_results(io.BytesIO(path.read_bytes()))["digits"].tolist() == ["0072", ""]
