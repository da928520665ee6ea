"""The command line on the shipped samples and on real data (when present)."""

import re
from pathlib import Path

import cv2
import pandas as pd
import pytest
from click.testing import CliRunner

from cheque_reader.cli import main
from cheque_reader.datasets import load_orand_labels, orand_dir
from cheque_reader.evaluate import evaluate_results, load_truth
from cheque_reader.report import RESULT_COLUMNS, read_results

from conftest import needs_data

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def samples_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "results.csv"
    digits = out.with_name("digits.csv")
    result = CliRunner().invoke(main, ["read", str(SAMPLES), "-o", str(out), "--digits-out", str(digits),
                                       "--workers", "2", "--no-progress"])
    return result, out, digits


def test_read_samples_writes_one_row_per_page(samples_run):
    result, out, digits = samples_run
    assert result.exit_code in (0, 1), result.output
    df = read_results(out)
    truth = pd.read_csv(SAMPLES / "truth.csv", dtype=str)
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert sorted(zip(df["source"], df["page"].astype(int))) == sorted(zip(truth["source"], truth["page"].astype(int)))
    assert (df["status"] != "error").all()
    assert "pages read into" in result.output
    # the summary counts each review reason of the rows
    reasons = df["review_reasons"].fillna("").str.split(";").explode()
    for code, n in reasons[reasons != ""].value_counts().items():
        assert f"{code} {n}" in result.output
    # what auto chose, page by page: the layout each sample was drawn in
    drawn = dict(zip(zip(truth["source"], truth["page"].astype(int)), truth["layout"]))
    assert [drawn[(s, int(p))] for s, p in zip(df["source"], df["page"])] == df["layout"].tolist()
    d = pd.read_csv(digits, dtype={"source": str})
    assert len(d) == df["n_digits"].sum()


#: Issue 2 asks for 90% on the samples (15/15 read right at 54efcc9, with the two readers).
SAMPLES_ACCURACY_FLOOR = 0.90


def test_samples_digit_string_accuracy_floor(samples_run):
    _, out, _ = samples_run
    report = evaluate_results(read_results(out), load_truth(SAMPLES / "truth.csv"))
    assert report.n == 15
    assert report.string_accuracy >= SAMPLES_ACCURACY_FLOOR



def test_the_readme_quotes_what_the_quickstart_prints(samples_run):
    """The README said the quickstart ends with "13 accepted, 2 need review" long after the samples read
    14 and 1: a user comparing the two would think the install broken."""
    import re

    result, out, _ = samples_run
    readme = (SAMPLES.parent / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"The first ends with `(\d+) pages read into results\.csv(: [^`]*?\(\d+ errors?\))", readme)
    assert quoted, "the README's quickstart no longer quotes the summary line"
    pages, counts = quoted.groups()
    assert f"{pages} pages read into {out}{counts}" in result.output, result.output

def test_evaluate_command_prints_accuracy(samples_run, tmp_path):
    _, out, _ = samples_run
    plot = tmp_path / "risk.png"
    result = CliRunner().invoke(main, ["evaluate", str(out), "--truth", str(SAMPLES / "truth.csv"), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "string accuracy" in result.output.lower()
    assert plot.stat().st_size > 1000


def test_help_explains_with_examples():
    result = CliRunner().invoke(main, ["read", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--layout" in result.output and "--resume" in result.output
    # -v is the group's option, given before the command
    assert "-v, given before read, names the files left out" in " ".join(result.output.split())
    assert "cheque-reader -v read scans/" in result.output
    assert CliRunner().invoke(main, ["-v", "read", "--help"]).exit_code == 0


def test_every_option_of_every_command_says_what_it_does():
    """finetune's --epochs and --seed had no help, only their defaults; its -o did not name the field
    reader's files written beside the weights, which read --model needs."""
    for name, command in main.commands.items():
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{name} {param.opts[0]} has no help"
    out = " ".join(CliRunner().invoke(main, ["finetune", "--help"]).output.split())
    assert "NAME_sdnn.pt and NAME_sdnn.json" in out


def test_the_typical_use_in_the_main_help_runs_as_written(tmp_path, monkeypatch):
    """Each command of ``cheque-reader --help``'s "Typical use", run in order in one folder, works (its
    review line lacked ``--images scans/``: the scans it names are not in the folder it runs in, exit 2)."""
    import shlex
    import shutil

    from PIL import Image

    help_text = CliRunner().invoke(main, ["--help"]).output
    lines = help_text.split("Typical use:")[1].split("Options:")[0].strip().splitlines()
    commands = [shlex.split(line.split("#")[0])[1:] for line in lines if line.strip().startswith("cheque-reader")]
    assert [c[0] for c in commands] == ["read", "evaluate", "review"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scans").mkdir()
    shutil.copy(SAMPLES / "cheque_01.png", tmp_path / "scans")
    Image.new("L", (1200, 550), 255).save(tmp_path / "scans" / "blank.png")  # no digits: it goes to review
    truth = pd.read_csv(SAMPLES / "truth.csv", dtype=str)
    truth[truth["source"] == "cheque_01.png"].to_csv(tmp_path / "truth.csv", index=False)
    for command in commands:
        extra = ["--workers", "1", "--no-progress"] if command[0] == "read" else []
        result = CliRunner().invoke(main, command + extra)
        assert result.exit_code in ((0, 1) if command[0] == "read" else (0,)), (command, result.output)
    assert (tmp_path / "review" / "index.html").is_file()


def test_no_input_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["read", "-o", str(tmp_path / "r.csv")])
    assert result.exit_code == 2
    assert "no INPUT" in result.output


@pytest.mark.parametrize("layout", ["US", "missing.toml", "bad.toml", "tiny.toml", "outside.toml"])
def test_bad_layout_is_a_usage_error_before_any_page_is_read(tmp_path, monkeypatch, layout):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text("[field]\nx = 'left'\n")
    (tmp_path / "tiny.toml").write_text("[field]\nx = 0.7\ny = 0.3\nw = 0.0001\nh = 0.0001\n")
    (tmp_path / "outside.toml").write_text("[field]\nx = 0.9\ny = 0.9\nw = 0.5\nh = 0.5\n")
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "--layout", layout, "-o", str(out),
                                       "--workers", "1", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "layout" in result.output and layout in result.output
    assert not out.exists()  # no error rows that a corrected --resume run would skip


def test_ctrl_c_exits_130_not_the_code_of_pages_that_need_review(tmp_path, monkeypatch):
    import cheque_reader.batch

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cheque_reader.batch, "read_folder", interrupted)
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", str(tmp_path / "r.csv"),
                                       "--workers", "1", "--no-progress"])
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.output and "Aborted" not in result.output
    help_text = CliRunner().invoke(main, ["read", "--help"]).output
    assert "130 interrupted" in " ".join(help_text.split())


@pytest.mark.parametrize("target", ["0", "-1", "5", "1"])
def test_target_error_outside_0_1_is_a_usage_error(tmp_path, target):
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), f"--target-error={target}",
                                       "-o", str(out), "--workers", "1", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "between 0 and 1" in result.output
    assert not out.exists()


def test_target_error_below_the_table_warns_and_uses_its_strictest_threshold(tmp_path, caplog):
    out = tmp_path / "r.csv"
    args = ["read", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--workers", "1", "--no-progress"]
    with caplog.at_level("WARNING", logger="cheque_reader"):
        result = CliRunner().invoke(main, [*args, "--target-error", "0.00001"])
    assert result.exit_code in (0, 1), result.output
    assert "target error 1e-05 is stricter than the thresholds table" in caplog.text
    strict = read_results(out).loc[0, "needs_review"]
    CliRunner().invoke(main, [*args, "--target-error", "0.001"])  # the table's strictest entry
    assert read_results(out).loc[0, "needs_review"] == strict


def test_an_input_list_that_cannot_be_read_is_a_usage_error(tmp_path, monkeypatch):
    import cheque_reader.io
    from cheque_reader.errors import InputError

    def unreadable(path):  # as io.read_from_list says a list it cannot read (permission denied, ...)
        raise InputError(f"{path}: cannot read the input list: permission denied")

    monkeypatch.setattr(cheque_reader.io, "read_from_list", unreadable)
    listing = tmp_path / "list.txt"
    listing.write_text("a.png\n")
    result = CliRunner().invoke(main, ["read", "--from-list", str(listing), "-o", str(tmp_path / "r.csv")])
    assert result.exit_code == 2, result.output
    assert "cannot read the input list: permission denied" in result.output


def test_an_input_list_that_lists_nothing_says_so(tmp_path):
    """An empty list (a find that matched nothing) said 'no INPUT given', though --from-list was given."""
    listing = tmp_path / "list.txt"
    listing.write_text("\n  \n")
    result = CliRunner().invoke(main, ["read", "--from-list", str(listing), "-o", str(tmp_path / "r.csv")])
    assert result.exit_code == 2, result.output
    assert f"{listing} lists no input path" in result.output and "no INPUT given" not in result.output
    assert not (tmp_path / "r.csv").exists()


def test_an_input_list_is_read_from_standard_input_with_a_dash(tmp_path):
    """find ... | cheque-reader read --from-list - : the '-' was 'Path '-' does not exist' (exit 2)."""
    names = ["cheque_02.png", "cheque_01.png"]
    listing = "\ufeff" + "".join(f"{SAMPLES / n}\r\n" for n in names) + "\n"  # a BOM, CRLF, a blank line
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["read", "--from-list", "-", "-o", str(out), "--workers", "1", "--no-progress"],
                                input=listing.encode("utf-8"))
    assert result.exit_code in (0, 1), result.output
    assert read_results(out)["source"].tolist() == [str(SAMPLES / n) for n in names]
    empty = CliRunner().invoke(main, ["read", "--from-list", "-", "-o", str(tmp_path / "e.csv")], input=b"\n \n")
    assert empty.exit_code == 2 and "standard input lists no input path" in empty.output


def test_results_and_digits_to_one_file_is_a_usage_error(tmp_path):
    out = tmp_path / "same.csv"
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--digits-out",
                                       str(out), "--workers", "1", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "the same file" in result.output
    assert not out.exists()


def test_no_input_pages_found_is_a_usage_error(tmp_path):
    empty, notes = tmp_path / "empty", tmp_path / "notes"
    empty.mkdir()
    notes.mkdir()
    (notes / "readme.txt").write_text("not a scan")
    for folder in (empty, notes):
        result = CliRunner().invoke(main, ["read", str(folder), "-o", str(tmp_path / "r.csv"), "--no-progress"])
        assert result.exit_code == 2, result.output
        assert "no input pages found" in result.output and "0 pages read" not in result.output


def test_no_input_pages_found_leaves_an_earlier_runs_results_as_they_were(tmp_path):
    """read empty_folder/ -o results.csv was a usage error, but had emptied results.csv first."""
    out = tmp_path / "results.csv"
    first = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--no-progress"])
    assert first.exit_code in (0, 1), first.output
    before = out.read_bytes()
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["read", str(tmp_path / "empty"), "-o", str(out), "--no-progress"])
    assert result.exit_code == 2 and "no input pages found" in result.output
    assert out.read_bytes() == before


def test_a_junk_model_fails_before_the_output_is_emptied(tmp_path):
    out = tmp_path / "keep.csv"
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--workers", "1",
                                       "--no-progress"])
    assert result.exit_code in (0, 1), result.output
    before = out.read_bytes()
    junk = tmp_path / "bad.pt"
    junk.write_bytes(b"not weights")
    for workers in ("1", "2"):
        result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--model", str(junk),
                                           "--workers", workers, "--no-progress"])
        assert result.exit_code == 2, result.output
        assert "model sidecar not found" in result.output
        assert out.read_bytes() == before


def test_resume_onto_a_file_that_is_not_a_results_file_is_a_usage_error(tmp_path):
    out = tmp_path / "truth.csv"
    out.write_bytes((SAMPLES / "truth.csv").read_bytes())
    result = CliRunner().invoke(main, ["read", str(SAMPLES), "--resume", "-o", str(out), "--workers", "1",
                                       "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "not a results file (missing columns status" in result.output
    assert out.read_bytes() == (SAMPLES / "truth.csv").read_bytes()


def test_bad_file_gives_error_row_and_exit_code_1(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_text("this is not a png")
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["read", str(bad), "-o", str(out), "--workers", "1", "--no-progress"])
    assert result.exit_code == 1
    df = read_results(out)
    assert len(df) == 1 and df.loc[0, "status"] == "error" and df.loc[0, "error"]


@needs_data("orand_car_a", "images")
def test_orand_validation_fold_reads_real_fields(tmp_path):
    """Real amount fields (ORAND CAR-A val fold, never trained on): no error rows, and at least 75% of
    strings right on these 60 (80% measured; issue 4's target is 90% on the fold: the gap is reported there)."""
    labels = load_orand_labels()
    val = labels[labels["fold"] == "val"].head(60)
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(str(orand_dir() / "images" / f) for f in val["file"]))
    out = tmp_path / "orand.csv"
    result = CliRunner().invoke(main, ["read", "--layout", "field", "--from-list", str(listing), "-o", str(out),
                                       "--workers", "2", "--no-progress"])
    assert result.exit_code in (0, 1), result.output
    df = read_results(out)
    assert len(df) == len(val) and (df["status"] != "error").all()
    report = evaluate_results(df, val.rename(columns={"file": "source", "amount_string": "digits"}))
    assert report.string_accuracy >= 0.75


def test_the_summary_of_one_page_says_page_and_error_in_the_singular(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["read", str(tmp_path / "broken.png"), "-o", str(out), "--workers", "1",
                                       "--no-progress"])
    assert result.exit_code == 1, result.output
    assert f"1 page read into {out}: 0 accepted, 1 needs review (1 error); reasons: error 1" in result.output


def test_no_field_reader_reads_with_the_segmenting_reader_alone(tmp_path):
    out = tmp_path / "r.csv"
    args = ["read", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--workers", "1", "--no-progress"]
    both = CliRunner().invoke(main, args)
    models_both = read_results(out)["model"].tolist()
    alone = CliRunner().invoke(main, [*args, "--no-field-reader"])
    models_alone = read_results(out)["model"].tolist()
    assert both.exit_code in (0, 1) and alone.exit_code in (0, 1), alone.output
    assert all("+sdnn" in m for m in models_both) or not sdnn_weights_shipped()
    assert not any("+sdnn" in m for m in models_alone)


def sdnn_weights_shipped() -> bool:
    from cheque_reader import sdnn

    return sdnn.default_sdnn_path().is_file()


def test_resume_says_how_many_pages_it_read_and_warns_of_rows_kept_from_another_model(tmp_path, caplog):
    import cv2

    from conftest import printed_field

    folder = tmp_path / "fields"
    folder.mkdir()
    for i, text in enumerate(["305", "72", "418"]):
        cv2.imwrite(str(folder / f"f{i}.png"), printed_field(text))
    out = tmp_path / "r.csv"
    args = ["read", str(folder), "--layout", "field", "-o", str(out), "--workers", "1", "--no-progress"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code in (0, 1), first.output
    assert "3 pages read into" in first.output
    # an earlier run, stopped after its first page, read with another model (before a fine-tuning)
    df = read_results(out)
    df.loc[:0, "model"] = "lenet5-v0-old"
    df.iloc[:1].to_csv(out, index=False)
    again = CliRunner().invoke(main, args + ["--resume"])
    assert again.exit_code in (0, 1), again.output
    assert "3 pages in" in again.output and "(2 read now, 1 kept from the earlier run by --resume)" in again.output
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("kept 1 rows" in m and "lenet5-v0-old" in m and "without --resume" in m for m in warned), warned
    # resumed again, with every page done by this model: no warning, nothing read
    caplog.clear()
    df = read_results(out)
    df["model"] = df["model"].iloc[-1]
    df.to_csv(out, index=False)
    done = CliRunner().invoke(main, args + ["--resume"])
    assert "(0 read now, 3 kept from the earlier run by --resume)" in done.output
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_python_dash_m_runs_the_command():
    """``python -m cheque_reader`` said "No module named cheque_reader.__main__"."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "cheque_reader", "read", "--help"], capture_output=True, text=True,
                          env=env, cwd=root, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: cheque-reader read [OPTIONS] [INPUTS]...")


def test_options_that_another_option_overrides_are_warned_about_or_refused(tmp_path, caplog, monkeypatch):
    """--target-error beside --review-threshold, --dask-workers beside --scheduler and --workers beside
    either were dropped without a word."""
    out = tmp_path / "r.csv"
    args = ["read", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--workers", "1", "--no-progress"]
    with caplog.at_level("WARNING", logger="cheque_reader"):
        result = CliRunner().invoke(main, [*args, "--review-threshold", "0.5", "--target-error", "0.02"])
    assert result.exit_code in (0, 1), result.output
    assert "--target-error 0.02 is not used: --review-threshold 0.5 sets the threshold" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="cheque_reader"):
        CliRunner().invoke(main, [*args, "--review-threshold", "0.5"])  # the default target error: no word
    assert "is not used" not in caplog.text

    result = CliRunner().invoke(main, [*args, "--scheduler", "tcp://127.0.0.1:1", "--dask-workers", "2"])
    assert result.exit_code == 2 and "--scheduler and --dask-workers" in result.output

    import cheque_reader.distributed

    seen = {}

    def fake_dask(items, options, **kwargs):  # no cluster started: what the command passed on
        seen.update(workers=options.workers)
        return pd.DataFrame({"needs_review": ["false"], "status": ["ok"], "review_reasons": [""]})

    monkeypatch.setattr(cheque_reader.distributed, "read_folder_dask", fake_dask)
    with caplog.at_level("WARNING", logger="cheque_reader"):
        result = CliRunner().invoke(main, [*args, "--dask-workers", "2"])
    assert result.exit_code == 0, result.output
    assert seen and "--workers 1 is not used: the Dask cluster's workers run the page stages" in caplog.text


# ------------------------------------------------------------------------------ -o - (standard output)


def test_read_to_stdout_holds_nothing_but_the_csv_of_a_file_run(samples_run, tmp_path, monkeypatch):
    """``read samples/ -o -``: stdout parses as the results CSV, a row per page equal (but elapsed_ms) to
    the rows of ``-o results.csv``; the summary goes to stderr; no file named ``-`` is made."""
    from io import StringIO

    _, out, _ = samples_run
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["read", str(SAMPLES), "-o", "-", "--workers", "2", "--no-progress"])
    assert result.exit_code in (0, 1), result.stderr
    assert result.stdout.startswith(",".join(RESULT_COLUMNS) + "\n")
    streamed = read_results(StringIO(result.stdout))
    assert list(streamed.columns) == list(RESULT_COLUMNS)
    pd.testing.assert_frame_equal(streamed.drop(columns="elapsed_ms"), read_results(out).drop(columns="elapsed_ms"))
    assert "15 pages read into standard output:" in result.stderr and "pages read" not in result.stdout
    assert not (tmp_path / "-").exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("extra, why", [
    (["--resume"], r"standard output \(-\) holds no earlier rows to resume from"),
    (["--digits-out", "-"], r"would both go to standard output \(-\)"),
])
def test_read_to_stdout_with_resume_or_the_digits_on_stdout_too_is_a_usage_error(tmp_path, monkeypatch, extra, why):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", "-", *extra, "--no-progress"])
    assert result.exit_code == 2
    assert result.stdout == "" and re.search(why, result.stderr)
    assert not list(tmp_path.iterdir())


def _read_to_stdout(args, cwd, **kw):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "cheque_reader", "read", *args, "-o", "-", "--no-progress"],
                            env=env, cwd=cwd, stderr=subprocess.PIPE, **kw)


def test_read_to_a_pipe_that_closes_early_ends_quietly(tmp_path):
    """``read samples/ -o - | head -1``: the run ends when the reader has gone, with no traceback (nor
    Python's "Exception ignored" at exit) on stderr, exit code 141 (128 + SIGPIPE, as shells give)."""
    import subprocess

    from cheque_reader.errors import EXIT_BROKEN_PIPE

    proc = _read_to_stdout([str(SAMPLES), "--workers", "2"], tmp_path, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().decode() == ",".join(RESULT_COLUMNS) + "\n"
        proc.stdout.close()  # before the first page's row (pages take tens of ms each)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_BROKEN_PIPE == 141
    assert err.decode() == ""
    assert not list(tmp_path.iterdir())


def test_read_to_stdout_piped_into_pandas(tmp_path):
    """The README's example: ``read samples/ -o - | python -c "import pandas, sys; pandas.read_csv(sys.stdin)"``."""
    import subprocess
    import sys

    proc = _read_to_stdout([str(SAMPLES / "cheque_01.png"), str(SAMPLES / "cheque_05.jpg"), "--workers", "1"],
                           tmp_path, stdout=subprocess.PIPE)
    reader = subprocess.run([sys.executable, "-c", "import pandas, sys; print(pandas.read_csv(sys.stdin).shape)"],
                            stdin=proc.stdout, capture_output=True, text=True, timeout=120, check=True)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert reader.stdout.strip() == f"(2, {len(RESULT_COLUMNS)})"
    assert proc.returncode in (0, 1) and "2 pages read into standard output" in err.decode()


def test_read_of_an_x937_file_counts_the_items_whose_amount_read_is_another_than_encoded(tmp_path):
    from cheque_reader.x937 import X937Item, write_x937

    fronts = [cv2.imread(str(SAMPLES / f"cheque_0{i}.png"), cv2.IMREAD_GRAYSCALE) for i in (1, 2)]
    write_x937(tmp_path / "cash.x937", [X937Item(fronts[0], 123456, "1"), X937Item(fronts[1], 720, "2")])  # 72.00 encoded 7.20
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["read", str(tmp_path / "cash.x937"), "-o", str(out), "--no-progress"])
    assert result.exit_code in (0, 1), result.output
    assert read_results(out)["micr_match"].tolist() == ["true", "false"]
    assert "; X9.37 items: amount read = MICR amount on 1, another on 1" in result.output


def test_finetune_with_an_empty_corrections_file_names_it(samples_run, tmp_path):
    _, out, _ = samples_run
    empty = tmp_path / "corrections.csv"
    empty.write_bytes(b"")
    result = CliRunner().invoke(main, ["finetune", "--corrections", str(empty), "--results", str(out),
                                       "-o", str(tmp_path / "m.pt")])
    assert result.exit_code == 2 and f"{empty}: empty file (0 bytes)" in result.output


@pytest.mark.parametrize("option", ["--details", "--json", "--plot"])
def test_evaluate_outputs_under_a_file_or_a_new_folder(samples_run, tmp_path, option):
    """--plot under a file said "File exists", --details "Cannot save file into a non-existent directory"
    (it exists: a file); and --details into a folder not made yet failed so, where read makes it."""
    _, out, _ = samples_run
    (tmp_path / "notafolder").write_text("")
    name = {"--details": "d.csv", "--json": "e.json", "--plot": "p.png"}[option]
    bad = tmp_path / "notafolder" / name
    result = CliRunner().invoke(main, ["evaluate", str(out), "--truth", str(SAMPLES / "truth.csv"), option, str(bad)])
    assert result.exit_code == 3 and f"cannot write {bad}: a part of its path is a file, not a folder" in result.output
    new = tmp_path / "new" / name
    result = CliRunner().invoke(main, ["evaluate", str(out), "--truth", str(SAMPLES / "truth.csv"), option, str(new)])
    assert result.exit_code == 0 and new.stat().st_size > 0, result.output


def test_read_into_a_device_such_as_dev_null_and_evaluate_json_to_dev_stdout(tmp_path):
    """read -o /dev/null (only the summary and the exit code wanted) ended in a traceback: the rows were
    read back from the output ("No columns to parse from file"); -o /dev/stdout was "not seekable"."""
    import os

    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null here")
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", "/dev/null", "--no-progress"])
    assert result.exit_code == 0 and "1 page read into /dev/null: 1 accepted" in result.output, result.output
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", "/dev/null", "--resume"])
    assert result.exit_code == 2 and "/dev/null is no file (a device or a pipe)" in result.output
    out = tmp_path / "r.csv"
    assert CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--no-progress"]).exit_code == 0
    result = CliRunner().invoke(main, ["evaluate", str(out), "--truth", str(SAMPLES / "truth.csv"), "--json", "/dev/null"])
    assert result.exit_code == 0, result.output


def test_a_named_pipe_takes_the_rows_as_standard_output_does(tmp_path):
    import os
    import threading

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    fifo = tmp_path / "rows"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    result = CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_01.png"), "-o", str(fifo), "--no-progress"])
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert got and got[0].splitlines()[0] == ",".join(RESULT_COLUMNS) and len(got[0].splitlines()) == 2


def test_read_dash_reads_one_scan_piped_into_standard_input(tmp_path, monkeypatch):
    """``cheque-reader read -`` said "-: no such file": ``-`` is one scan's bytes on standard input
    (``curl ... | cheque-reader read - -o -``), its rows named ``-``, read as the file itself is."""
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the piped scan is kept for the run
    blob = (SAMPLES / "cheque_02.png").read_bytes()
    out = tmp_path / "r.csv"
    result = CliRunner().invoke(main, ["read", "-", str(SAMPLES / "cheque_01.png"), "-o", str(out), "--no-progress"],
                                input=blob)
    assert result.exit_code in (0, 1), result.output
    got = read_results(out)
    assert got["source"].tolist() == ["-", str(SAMPLES / "cheque_01.png")]
    direct = tmp_path / "d.csv"
    CliRunner().invoke(main, ["read", str(SAMPLES / "cheque_02.png"), "-o", str(direct), "--no-progress"])
    want = read_results(direct)
    cols = [c for c in RESULT_COLUMNS if c not in ("source", "elapsed_ms")]
    assert got.iloc[[0]][cols].reset_index(drop=True).equals(want[cols].reset_index(drop=True))
    assert got.loc[0, "status"] == "ok"
    assert not list(scratch.iterdir())  # the piped scan's file removed after the run


@pytest.mark.parametrize("args, says", [(["--from-list", "-"], "standard input"), (["--resume"], "--resume")])
def test_read_dash_with_another_use_of_standard_input_or_resume_is_a_usage_error(tmp_path, args, says):
    blob = (SAMPLES / "cheque_02.png").read_bytes()
    result = CliRunner().invoke(main, ["read", "-", *args, "-o", str(tmp_path / "r.csv"), "--no-progress"], input=blob)
    assert result.exit_code == 2, result.output
    assert says in result.output and not (tmp_path / "r.csv").exists()


def test_help_says_what_the_loop_options_give():
    """read --model said only 'weights file to use instead of the shipped model', nothing of the thresholds
    a fine-tuned model reads with; evaluate --help did not say how its printed thresholds stand to
    read --review-threshold (a run accepts fewer: its other review reasons), nor what its 'auto-accepted'
    line is."""
    from click.testing import CliRunner

    from cheque_reader.cli import main

    read_help = " ".join(CliRunner().invoke(main, ["read", "--help"]).output.split())
    assert "reads with its base model's review thresholds and amount calibration, not measured for it" in read_help
    evaluate_help = " ".join(CliRunner().invoke(main, ["evaluate", "--help"]).output.split())
    assert "`read --review-threshold` takes such a threshold, but a read also goes to review for its other" in evaluate_help
    assert "the share the run itself accepted (needs_review false) with their error" in evaluate_help
    finetune_help = " ".join(CliRunner().invoke(main, ["finetune", "--help"]).output.split())
    assert "keeps its base model's review thresholds (--target-error) and amount calibration" in finetune_help
