"""batch: ordered rows, worker processes = in-process, chunked multi-page files, formats, resume.

Inputs are amount fields drawn here with OpenCV (``layout="field"``); the checks are about
the engine (order, completeness, equality across modes), not about reading accuracy.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cheque_reader import batch, io
from cheque_reader.config import ReadOptions
from cheque_reader.report import DIGIT_COLUMNS, RESULT_COLUMNS, read_results
from cheque_reader.x937 import X937Item, write_x937

FIELD = ReadOptions(layout="field")


def field_image(text: str, seed: int = 0, h: int = 64, w: int = 260) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = np.full((h, w), 255, np.uint8)
    x = 8
    for ch in text:
        cv2.putText(g, ch, (x, h - 16 + int(rng.integers(-3, 4))), cv2.FONT_HERSHEY_SIMPLEX,
                    1.3 + 0.2 * rng.random(), 0, 2 + int(rng.integers(0, 2)))
        x += 26 + int(rng.integers(0, 6))
    return g


def make_folder(root, n_png=6, tiff_pages=11, x937_items=10, bad=True):
    """A small mixed folder: PNGs, a multi-page TIFF (more pages than a chunk), an X9.37 file, bad files."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n_png):
        cv2.imwrite(str(root / f"p{i:02d}.png"), field_image(f"{123 + 37 * i}", i))
    if tiff_pages:
        frames = [Image.fromarray(field_image(f"{i}{i + 1}", 50 + i)).convert("1") for i in range(tiff_pages)]
        frames[0].save(root / "multi.tif", save_all=True, append_images=frames[1:], compression="group4")
    if x937_items:
        write_x937(root / "cash.x937", [X937Item(field_image(f"{i}05", 80 + i), 100 * i + 5) for i in range(x937_items)])
    if bad:
        (root / "empty.png").write_bytes(b"")
        (root / "notes.png").write_text("not an image")
    return root


def no_elapsed(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["elapsed_ms"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = make_folder(tmp_path_factory.mktemp("mixed") / "in")
    ref = batch.read_folder([root], options=FIELD)
    return root, ref


def test_rows_complete_and_in_input_order(mixed):
    root, ref = mixed
    assert list(ref.columns) == list(RESULT_COLUMNS) + ["item_sequence", "micr_amount", "micr_match"]
    keys = list(zip(ref["source"], ref["page"]))
    assert keys == ([("cash.x937", p) for p in range(1, 11)] + [("empty.png", 1)]
                    + [("multi.tif", p) for p in range(1, 12)] + [("notes.png", 1)]
                    + [(f"p{i:02d}.png", 1) for i in range(6)])
    errors = ref[ref["status"] == "error"]
    assert set(errors["source"]) == {"empty.png", "notes.png"}
    assert (ref.loc[ref["source"] == "cash.x937", "micr_amount"].tolist()
            == [f"{i}.05" for i in range(10)])
    assert ref.loc[ref["source"] != "cash.x937", "micr_amount"].fillna("").eq("").all()
    assert ref.loc[ref["source"] != "cash.x937", "micr_match"].fillna("").eq("").all()
    assert ref["model"].str.len().gt(0).all()


def test_worker_processes_equal_in_process(mixed):
    root, ref = mixed
    seen = []
    df = batch.read_folder([root], options=FIELD.replace(workers=2), progress=lambda d, t: seen.append((d, t)))
    pd.testing.assert_frame_equal(no_elapsed(df), no_elapsed(ref))
    assert [d for d, _ in seen] == list(range(1, len(ref) + 1))
    assert seen[-1][1] == len(ref)


def test_first_tasks_of_files_go_to_a_worker_in_groups(mixed, monkeypatch, tmp_path):
    root, ref = mixed
    groups = []
    submit = batch._Engine._submit

    def recording(self, tasks):
        groups.append([(t.file.source, t.start) for t in tasks])
        return submit(self, tasks)

    monkeypatch.setattr(batch._Engine, "_submit", recording)
    df = batch.read_folder([root], options=FIELD.replace(workers=2))
    pd.testing.assert_frame_equal(no_elapsed(df), no_elapsed(ref))
    # the 10 files' first tasks in groups of up to GROUP_TASKS; the rest of multi.tif and of cash.x937 alone
    assert max(len(g) for g in groups) == batch.GROUP_TASKS
    assert all(len(g) == 1 or all(start == 0 for _, start in g) for g in groups)
    assert sorted(t for g in groups for t in g) == sorted(
        [(s, 0) for s in set(ref["source"])] + [("cash.x937", batch.CHUNK_PAGES), ("multi.tif", batch.CHUNK_PAGES)])
    assert len(groups) < len(set(ref["source"]))
    # with annotations every page's image comes back with its task: one task at a time, as before
    groups.clear()
    batch.read_folder([root], options=FIELD.replace(workers=2), annotate_dir=tmp_path / "ann")
    assert groups and all(len(g) == 1 for g in groups)


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_output_formats_hold_the_frame(mixed, tmp_path, suffix):
    root, ref = mixed
    out = tmp_path / f"results.{suffix}"
    df = batch.read_folder([root], options=FIELD, output=out)
    if suffix == "csv":
        back = read_results(out).astype({"item_sequence": "string", "micr_amount": "string", "micr_match": "string"})
        pd.testing.assert_frame_equal(back, df, check_dtype=False)
    elif suffix == "parquet":
        raw = pd.read_parquet(out)
        assert raw["needs_review"].tolist() == (df["needs_review"] == "true").tolist()  # booleans, not text
        pd.testing.assert_frame_equal(raw.drop(columns="needs_review"), df.drop(columns="needs_review"),
                                      check_dtype=False)
        pd.testing.assert_frame_equal(read_results(out), df, check_dtype=False)
    else:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        assert [(r["source"], r["page"]) for r in rows] == list(zip(df["source"], df["page"]))
        # a JSON consumer's `if row["needs_review"]:` works: booleans, not "false" (always true)
        assert [r["needs_review"] for r in rows] == (df["needs_review"] == "true").tolist()
        assert all(isinstance(r["confidence"], float) and isinstance(r["n_digits"], int) for r in rows)
        pd.testing.assert_frame_equal(read_results(out).astype({"item_sequence": "string", "micr_amount": "string", "micr_match": "string"}),
                                      df, check_dtype=False)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    pd.testing.assert_frame_equal(no_elapsed(df), no_elapsed(ref))


def test_csv_output_keeps_no_rows_in_memory_and_reads_them_back(tmp_path):
    sink = batch.open_sink(tmp_path / "r.csv", list(RESULT_COLUMNS))
    for i in range(3):
        sink.write({"source": f"s{i}.png", "page": 1, "status": "ok", "digits": "007", "confidence": 0.5})
    sink.close()
    assert sink.rows == []  # a run of any length holds no rows: the frame comes from the file
    df = sink.frame()
    assert list(df["source"]) == ["s0.png", "s1.png", "s2.png"] and list(df["digits"]) == ["007"] * 3
    assert df["confidence"].dtype == "float64" and list(df.columns) == list(RESULT_COLUMNS)


def test_no_x937_columns_without_x937(tmp_path):
    root = make_folder(tmp_path / "in", n_png=2, tiff_pages=0, x937_items=0, bad=False)
    df = batch.read_folder([root], options=FIELD)
    assert list(df.columns) == list(RESULT_COLUMNS)


def test_digits_output_matches_results(mixed, tmp_path):
    root, _ = mixed
    df = batch.read_folder([root], options=FIELD, output=tmp_path / "r.csv", digits_output=tmp_path / "d.csv")
    digits = pd.read_csv(tmp_path / "d.csv", keep_default_na=False)
    assert list(digits.columns) == list(DIGIT_COLUMNS)
    per_page = digits.groupby(["source", "page"]).size()
    for row in df.itertuples():
        assert per_page.get((row.source, row.page), 0) == row.n_digits


UGLY_NAMES = ["a b.png", "ünï €.png", "comma,name.png", 'quote"d.png', "new\nline.png", "x.png"]


@pytest.fixture()
def ugly(tmp_path):
    root = tmp_path / "ugly"
    root.mkdir()
    for i, name in enumerate(UGLY_NAMES):
        cv2.imwrite(str(tmp_path / "tmp.png"), field_image(f"{i + 1}0{i}", i))
        (tmp_path / "tmp.png").rename(root / name)
    (root / "z.png").write_text("broken")
    return root


def test_csv_quoting_of_hostile_names(ugly, tmp_path):
    out = tmp_path / "r.csv"
    df = batch.read_folder([ugly], options=FIELD, output=out)
    back = read_results(out)
    assert sorted(back["source"].tolist()) == sorted(UGLY_NAMES + ["z.png"])
    assert back["source"].tolist() == df["source"].tolist()


def test_resume_after_a_cut_at_any_byte(ugly, tmp_path):
    """Cut the CSV at many points (mid-line, mid-quoted-newline, right after a row): resume repairs it
    and the result equals an uninterrupted run, every page exactly once."""
    full_path = tmp_path / "full.csv"
    full = batch.read_folder([ugly], options=FIELD, output=full_path)
    data = full_path.read_bytes()
    cuts = sorted({len(data) // 3, data.index(b"new\nline") + 4, data.index(b"new\nline") - 1,
                   data.rindex(b"\n", 0, len(data) - 1) + 1, len(data) - 1, data.index(b"\n") + 1, 5})
    for cut in cuts:
        out = tmp_path / f"cut{cut}.csv"
        out.write_bytes(data[:cut])
        df = batch.read_folder([ugly], options=FIELD, output=out, resume=True)
        back = read_results(out)
        pd.testing.assert_frame_equal(no_elapsed(back), no_elapsed(read_results(full_path)), obj=f"cut at {cut}")
        pd.testing.assert_frame_equal(no_elapsed(df), no_elapsed(back), check_dtype=False)
    assert len(full) == len(UGLY_NAMES) + 1


def test_resume_of_a_complete_run_does_no_work(ugly, tmp_path):
    out = tmp_path / "r.csv"
    batch.read_folder([ugly], options=FIELD, output=out)
    before = out.read_bytes()
    seen = []
    df = batch.read_folder([ugly], options=FIELD.replace(workers=2), output=out, resume=True,
                           progress=lambda d, t: seen.append(d))
    assert out.read_bytes() == before and seen == [] and len(df) == len(UGLY_NAMES) + 1


def test_jsonl_is_streamed_an_interrupted_run_keeps_its_rows_and_resume_after_any_cut_completes_it(ugly, tmp_path):
    full_path = tmp_path / "full.jsonl"
    full = batch.read_folder([ugly], options=FIELD, output=full_path)
    assert full_path.read_bytes().count(b"\n") == len(full) == len(UGLY_NAMES) + 1

    def stop_after_3(done, total):
        if done == 3:
            raise KeyboardInterrupt  # Ctrl-C (or SIGTERM, through the CLI) after the 3rd row

    out = tmp_path / "r.jsonl"
    with pytest.raises(KeyboardInterrupt):
        batch.read_folder([ugly], options=FIELD, output=out, progress=stop_after_3)
    kept = [json.loads(line) for line in out.read_bytes().split(b"\n")[:-1]]  # complete, flushed lines
    assert out.read_bytes().endswith(b"\n")
    assert [(r["source"], r["digits"]) for r in kept] == list(zip(full["source"], full["digits"]))[:3]
    data = full_path.read_bytes()
    ends = [i + 1 for i, b in enumerate(data) if b == ord("\n")]  # where each line ends
    for cut in sorted({3, ends[0], ends[0] + 1, ends[2] - 1, len(data) // 2, len(data) - 1, len(data)}):
        out.write_bytes(data[:cut])
        seen: list[int] = []
        df = batch.read_folder([ugly], options=FIELD, output=out, resume=True,
                               progress=lambda d, t, seen=seen: seen.append(d))
        assert out.read_bytes().count(b"\n") == len(full), f"cut at {cut}"
        back = [json.loads(line) for line in out.read_text().splitlines()]
        assert [(r["source"], r["page"]) for r in back] == list(zip(full["source"], full["page"])), f"cut at {cut}"
        pd.testing.assert_frame_equal(no_elapsed(df), no_elapsed(full), obj=f"cut at {cut}")
        assert len(seen) == len(full) - sum(1 for e in ends if e <= cut)  # only the rows not complete are read
    with pytest.raises(batch.UsageError, match="not a results file"):  # checked before reading
        (tmp_path / "other.jsonl").write_text('{"a": 1}\n')
        batch.read_folder([ugly], options=FIELD, output=tmp_path / "other.jsonl", resume=True)


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_resume_atomic_formats(mixed, tmp_path, suffix):
    root, ref = mixed
    out = tmp_path / f"r.{suffix}"
    part = tmp_path / "part"
    part.mkdir()
    for name in ["p00.png", "p01.png", "multi.tif"]:
        (part / name).write_bytes((root / name).read_bytes())
    batch.read_folder([part], options=FIELD, output=out)
    # the same sources, now read from the full folder: the first run's pages are skipped
    for name in ["p00.png", "p01.png", "multi.tif"]:
        (part / name).unlink()
    seen = []
    df = batch.read_folder([root], options=FIELD, output=out, resume=True, progress=lambda d, t: seen.append(d))
    assert len(seen) == len(ref) - 13
    assert sorted(zip(df["source"], df["page"])) == sorted(zip(ref["source"], ref["page"]))
    assert not df.duplicated(["source", "page"]).any()
    assert set(df["needs_review"]) <= {"true", "false"}  # the frame has the CSV's text
    raw = (pd.read_parquet(out)["needs_review"].tolist() if suffix == "parquet"
           else [json.loads(line)["needs_review"] for line in out.read_text().splitlines()])
    assert raw == (df["needs_review"] == "true").tolist()  # the kept rows and the new ones booleans in the file


def test_annotations_one_safe_png_per_decoded_page(ugly, tmp_path):
    out = tmp_path / "ann"
    df = batch.read_folder([ugly], options=FIELD.replace(workers=2), annotate_dir=out)
    names = sorted(p.name for p in out.glob("*.png"))
    assert len(names) == (df["status"] != "error").sum() == len(UGLY_NAMES)
    assert all(re.fullmatch(r"\d{6}_[A-Za-z0-9_-]+_p1\.png", n) for n in names), names
    assert all(cv2.imread(str(out / n)) is not None for n in names)


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_a_file_name_that_is_not_utf8_gets_its_row_in_every_output_and_resume_skips_it(tmp_path, suffix):
    root = tmp_path / "lat"
    root.mkdir()
    with open(os.path.join(os.fsencode(root), b"ch\xe8que.png"), "wb") as f:  # Latin-1 e-grave
        f.write(cv2.imencode(".png", field_image("305", 1))[1].tobytes())
    cv2.imwrite(str(root / "ok.png"), field_image("72", 2))
    out, digits, ann = tmp_path / f"r.{suffix}", tmp_path / "d.csv", tmp_path / "ann"
    df = batch.read_folder([root], options=FIELD.replace(workers=2), output=out, digits_output=digits,
                           annotate_dir=ann)
    assert df["source"].tolist() == ["ch\\xe8que.png", "ok.png"] and (df["status"] != "error").all()
    assert set(pd.read_csv(digits, keep_default_na=False)["source"]) == {"ch\\xe8que.png", "ok.png"}
    assert sorted(p.name for p in ann.glob("*.png")) == ["000001_ch_xe8que_p1.png", "000002_ok_p1.png"]
    # --resume: the escaped name is the skip key; only the other page is read again
    if suffix == "csv":
        out.write_text("".join(out.read_text().splitlines(keepends=True)[:2]))
    seen = []
    again = batch.read_folder([root], options=FIELD, output=out, resume=True, progress=lambda d, t: seen.append(d))
    assert len(seen) == (1 if suffix == "csv" else 0)
    pd.testing.assert_frame_equal(no_elapsed(again), no_elapsed(df), check_dtype=False)


def test_the_same_name_in_two_folders_is_two_rows_and_resume_reads_the_second(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder, text in (("b1", "305"), ("b2", "72")):
        os.mkdir(folder)
        cv2.imwrite(f"{folder}/scan.png", field_image(text, len(text)))
    df = batch.read_folder(["b1", "b2"], options=FIELD)
    assert df["source"].tolist() == ["b1/scan.png", "b2/scan.png"] and df["digits"].tolist() == ["305", "72"]
    batch.read_folder(["b1"], options=FIELD, output="c.csv")
    resumed = batch.read_folder(["b1", "b2"], options=FIELD, output="c.csv", resume=True)
    assert resumed["digits"].tolist() == ["305", "305", "72"]  # b1's scan under both names; b2's read
    assert resumed["source"].tolist() == ["scan.png", "b1/scan.png", "b2/scan.png"]


def test_a_long_file_is_not_opened_again_for_each_of_its_tasks(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "in", n_png=2, tiff_pages=40, x937_items=33, bad=False)
    opened = []
    real_open = batch.cio.open_document
    monkeypatch.setattr(batch.cio, "open_document", lambda path, *a: opened.append(Path(path).name) or real_open(path, *a))
    df = batch.read_folder([root], options=FIELD)  # in this process, tasks of CHUNK_PAGES pages
    assert len(df) == 2 + 40 + 33 and (df["status"] != "error").all()
    # 5 tasks of each long file: the first task opens it, the rest (queued once the first is back,
    # after the other files' first tasks) at most once more; nothing is left open after the run
    assert sorted(set(opened)) == ["cash.x937", "multi.tif", "p00.png", "p01.png"]
    assert opened.count("cash.x937") <= 2 and opened.count("multi.tif") <= 2 and len(opened) <= 6, opened
    assert batch._OPEN == {}
    # a file changed between tasks is opened again
    opened.clear()
    tasks = [batch._Task(0, batch.cio.InputFile(str(root / "multi.tif"), "multi.tif"), s, batch.CHUNK_PAGES, frozenset())
             for s in (0, batch.CHUNK_PAGES)]
    first = batch.prepare_chunk(tasks[0], FIELD)
    os.utime(root / "multi.tif", ns=(1, 1))
    second = batch.prepare_chunk(tasks[1], FIELD)
    batch.close_open_documents()
    assert opened == ["multi.tif", "multi.tif"] and batch._OPEN == {}
    assert [p.page for p in first.items + second.items] == list(range(1, 2 * batch.CHUNK_PAGES + 1))


def test_a_run_ending_on_another_thread_leaves_the_file_this_run_reads_open(tmp_path, monkeypatch):
    """Two read_folder calls at once on two threads (a web server's requests): the one that ended
    closed the multi-page file the other was reading, whose next pages became error rows
    ('cannot read TIFF page 3: Operation on closed image')."""
    import threading

    from cheque_reader import pipeline

    root = make_folder(tmp_path / "in", n_png=0, tiff_pages=2 * batch.CHUNK_PAGES, x937_items=0, bad=False)
    other = tmp_path / "other"
    other.mkdir()
    cv2.imwrite(str(other / "a.png"), field_image("12"))
    prepare_page, pages = pipeline.prepare_page, []

    def meanwhile(page, options):
        pages.append(page.page)
        if page.source == "multi.tif" and page.page == 2:  # another thread's run starts and ends
            t = threading.Thread(target=batch.read_folder, args=([other],), kwargs={"options": FIELD})
            t.start()
            t.join()
        return prepare_page(page, options)

    monkeypatch.setattr(pipeline, "prepare_page", meanwhile)
    df = batch.read_folder([root], options=FIELD)
    assert len(df) == 2 * batch.CHUNK_PAGES and pages.count(2) == 1
    assert df.loc[df["status"] == "error", "error"].tolist() == []


def test_worker_processes_yield_the_cpu_to_the_main_process():
    import concurrent.futures as cf
    import os

    if not hasattr(os, "nice"):
        pytest.skip("os.nice is POSIX only")
    with cf.ProcessPoolExecutor(1, mp_context=batch._pool_context(), initializer=batch._worker_init) as pool:
        niceness = pool.submit(os.nice, 0).result()
    assert niceness == min(19, os.nice(0) + batch.WORKER_NICENESS)


def test_keep_freed_memory_stops_the_page_faults_of_freeing_and_allocating_again():
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    # a fresh process allocates, touches and frees sixteen 1 MB arrays twenty times: glibc's default
    # gives the heap's top back to the OS each time (4,000 page faults a round); kept, it is faulted
    # in once. Run as is (0), after keep_freed_memory (1), after the workers' initializer (2).
    code = ("import resource, sys, numpy as np; from cheque_reader import batch\n"
            "if sys.argv[1] == '1': print(batch.keep_freed_memory())\n"
            "if sys.argv[1] == '2': batch._worker_init()\n"
            "f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "for _ in range(20): a = [np.ones(2**17) for _ in range(16)]; del a\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)")
    runs = [subprocess.run([sys.executable, "-c", code, k], capture_output=True, text=True, check=True).stdout.split()
            for k in "012"]
    assert runs[1][0] == "True"
    default, kept, worker = int(runs[0][-1]), int(runs[1][-1]), int(runs[2][-1])
    assert default > 20 * 3000 and kept < default / 5 and worker < default / 5, (default, kept, worker)


def test_onnx_runtime_with_its_exports_cached_reads_without_importing_torch(tmp_path):
    pytest.importorskip("onnxruntime")
    sample = Path(__file__).resolve().parent.parent / "samples" / "cheque_01.png"
    code = ("import sys; from cheque_reader import read_folder; from cheque_reader.config import ReadOptions; "
            f"df = read_folder([{str(sample)!r}], options=ReadOptions(backend='onnx', workers=1)); "
            "print(df['status'][0], df['digits'][0], 'torch' in sys.modules)")
    env = dict(os.environ, CHEQUE_READER_CACHE=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0][-1] == "True" and runs[1][-1] == "False"  # the first run exports the field reader; the second loads it
    assert runs[0][:2] == runs[1][:2] and runs[0][0] == "ok" and runs[0][1].isdigit()
    assert len(list((tmp_path / "cache").glob("sdnn-*.onnx"))) >= 1


def test_read_folder_refuses_a_bad_layout_and_one_file_for_both_outputs_before_reading(tmp_path):
    from cheque_reader.errors import UsageError

    out = tmp_path / "r.csv"
    with pytest.raises(UsageError, match="unknown layout 'US'"):
        batch.read_folder([tmp_path], options=ReadOptions(layout="US"), output=out)
    with pytest.raises(UsageError, match="same file"):
        batch.read_folder([tmp_path], output=out, digits_output=tmp_path / "." / "r.csv")
    assert not out.exists()   # nothing was written: no error row for every page


def _results_with_rows(tmp_path):
    out = tmp_path / "keep.csv"
    lines = [",".join(RESULT_COLUMNS)] + [",".join([f"a{i}.png", "1", "ok"] + [""] * (len(RESULT_COLUMNS) - 3))
                                          for i in range(3)]
    out.write_text("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_a_device_that_is_not_there_fails_before_the_output_is_emptied(tmp_path, workers):
    import torch

    from cheque_reader.errors import UsageError

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: device 'cuda' is usable")
    out = _results_with_rows(tmp_path)
    before = out.read_bytes()
    cv2.imwrite(str(tmp_path / "f.png"), field_image("12"))
    with pytest.raises(UsageError, match="device 'cuda' is not available"):
        batch.read_folder([tmp_path / "f.png"], output=out, options=ReadOptions(device="cuda", workers=workers))
    assert out.read_bytes() == before


@pytest.mark.skipif(batch._pool_context().get_start_method() != "fork", reason="the workers inherit the patches by fork")
def test_the_workers_read_while_the_networks_load_but_not_on_resume(tmp_path, monkeypatch):
    """The first tasks go to the worker processes before the main process loads the networks
    (which took ~0.2 s in which the workers waited); on resume, whose pages to skip are known only
    once the output is read, after them."""
    import time

    from cheque_reader import pipeline

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        cv2.imwrite(str(folder / f"f{i}.png"), field_image(str(100 + i), seed=i))
    marker = tmp_path / "a worker read"
    prepare = batch.prepare_chunk

    def prepare_chunk(task, options):  # in the workers (forked with this patch)
        marker.touch()
        return prepare(task, options)

    seen = []
    get_classifier = pipeline.get_classifier

    def loading(options):  # the networks load: has a worker read a file meanwhile?
        t = time.monotonic()
        while not marker.exists() and time.monotonic() - t < 5:
            time.sleep(0.01)
        seen.append(marker.exists())
        return get_classifier(options)

    monkeypatch.setattr(batch, "prepare_chunk", prepare_chunk)
    monkeypatch.setattr(pipeline, "get_classifier", loading)
    opts = ReadOptions(layout="field", workers=2)
    first = batch.read_folder([folder], options=opts, output=tmp_path / "a.csv")
    assert seen == [True]
    marker.unlink()
    (tmp_path / "b.csv").write_bytes((tmp_path / "a.csv").read_bytes())
    lines = (tmp_path / "b.csv").read_text().splitlines(keepends=True)
    (tmp_path / "b.csv").write_text("".join(lines[:4]))  # header and 3 rows kept
    resumed = batch.read_folder([folder], options=opts, output=tmp_path / "b.csv", resume=True)
    assert seen == [True, False] and resumed.attrs["pages_read_now"] == 3
    same = [c for c in first.columns if not c.endswith("_ms")]  # not the timings
    pd.testing.assert_frame_equal(resumed[same], first[same])


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_an_onnx_backend_on_a_gpu_is_refused_not_run_on_the_cpu(tmp_path, backend):
    from cheque_reader.errors import UsageError

    out = _results_with_rows(tmp_path)
    before = out.read_bytes()
    with pytest.raises(UsageError, match="runs on the CPU only"):
        batch.read_folder([tmp_path], output=out, options=ReadOptions(device="cuda", backend=backend))
    assert out.read_bytes() == before


def test_a_damaged_x937_file_has_a_row_for_the_items_after_the_damage(tmp_path):
    path = tmp_path / "d.x937"
    write_x937(path, [X937Item(field_image(str(i)), 100 + i) for i in range(5)])
    data = bytearray(path.read_bytes())
    pos, image_records = 0, []
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 6] == "52".encode("cp037"):
            image_records.append(pos)
        pos += 4 + n
    data[image_records[1] : image_records[1] + 4] = (0x7FFFFFFF).to_bytes(4, "big")  # item 2's Type 52 length
    path.write_bytes(bytes(data))
    df = batch.read_folder([path], options=ReadOptions(layout="field", workers=1), output=tmp_path / "r.csv")
    assert list(df["page"].astype(int)) == [1, 2, 3]
    assert list(df["status"])[1:] == ["error", "error"]
    assert "walk stopped" in df["error"].iloc[2] and "counts 5 items, 2 found" in df["error"].iloc[2]
    assert len(read_results(tmp_path / "r.csv")) == 3


def test_every_output_format_gives_the_frame_of_a_run_in_memory(ugly, tmp_path):
    memory = no_elapsed(batch.read_folder([ugly], options=FIELD))
    for suffix in ("csv", "jsonl"):
        written = batch.read_folder([ugly], options=FIELD, output=tmp_path / f"r.{suffix}")
        pd.testing.assert_frame_equal(no_elapsed(written), memory, obj=suffix)   # values and dtypes


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_annotations_of_a_resumed_run_are_named_by_their_row_in_the_output(tmp_path, suffix):
    root = tmp_path / "in"
    root.mkdir()
    for i, text in enumerate(["305", "72", "418", "96"]):
        cv2.imwrite(str(root / f"f{i}.png"), field_image(text, i))
    out, ann = tmp_path / f"r.{suffix}", tmp_path / "ann"
    batch.read_folder([root], options=FIELD, output=out)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[: (3 if suffix == "csv" else 2)]))  # a run stopped after two pages
    df = batch.read_folder([root], options=FIELD, output=out, resume=True, annotate_dir=ann)
    names = sorted(p.name for p in ann.glob("*.png"))
    assert len(names) == 2
    for name in names:  # NNNNNN is the picture's row in the output, as read --help says
        row = df.iloc[int(name[:6]) - 1]
        assert name == f"{int(name[:6]):06d}_{Path(row['source']).stem}_p{row['page']}.png"
    assert names == ["000003_f2_p1.png", "000004_f3_p1.png"]


def test_a_new_run_into_an_annotate_folder_replaces_the_earlier_runs_pictures(tmp_path):
    """A second run of two pages into the folder of a run of four left the four beside its two: two
    pictures named 000001_ and 000002_, of different pages, and two of rows its results did not have."""
    root = tmp_path / "in"
    root.mkdir()
    for i, text in enumerate(["305", "72", "418", "96"]):
        cv2.imwrite(str(root / f"f{i}.png"), field_image(text, i))
    ann = tmp_path / "ann"
    batch.read_folder([root], options=FIELD, annotate_dir=ann)
    (ann / "notes.txt").write_text("mine")
    batch.read_folder([root / "f2.png", root / "f3.png"], options=FIELD, annotate_dir=ann)
    assert sorted(p.name for p in ann.iterdir()) == [io.OUTPUT_MARKER, "000001_f2_p1.png", "000002_f3_p1.png",
                                                     "notes.txt"]
    mine = tmp_path / "pictures"  # a folder that is not ours keeps what it holds
    mine.mkdir()
    (mine / "000009_holiday_p1.png").write_bytes(b"x")
    batch.read_folder([root / "f0.png"], options=FIELD, annotate_dir=mine)
    assert (mine / "000009_holiday_p1.png").exists() and (mine / "000001_f0_p1.png").exists()


def test_pictures_of_an_annotate_folder_inside_the_input_folder_are_not_read(tmp_path, caplog):
    root = tmp_path / "scans"
    root.mkdir()
    for i, text in enumerate(["305", "72"]):
        cv2.imwrite(str(root / f"f{i}.png"), field_image(text, i))
    out, ann = tmp_path / "r.csv", root / "annotated"
    first = batch.read_folder([root], options=FIELD, output=out, annotate_dir=ann)
    assert len(list(ann.glob("*.png"))) == 2
    again = batch.read_folder([root], options=FIELD, output=out, annotate_dir=ann)
    assert again["source"].tolist() == first["source"].tolist() == ["f0.png", "f1.png"]
    assert "annotated left out: it holds cheque-reader's own pictures" in caplog.text
    (ann / io.OUTPUT_MARKER).unlink()  # a folder annotated before the marker: --annotate names it
    assert batch.read_folder([root], options=FIELD, annotate_dir=ann)["source"].tolist() == ["f0.png", "f1.png"]
    assert "2 files in the --annotate folder" in caplog.text
    # resumed: nothing left to read, the pictures are no new pages
    resumed = batch.read_folder([root], options=FIELD, output=out, annotate_dir=ann, resume=True)
    assert resumed.attrs["pages_read_now"] == 0 and len(resumed) == 2


@pytest.mark.parametrize("where", ["scans", ".", "scans/f0.png"])
def test_an_annotate_folder_that_holds_an_input_is_a_usage_error_before_it_is_marked(tmp_path, monkeypatch, where):
    """read scans --annotate scans left every scan out as a picture ('no input pages found') and marked
    scans/ as cheque-reader's own folder, so that a later read of the folder above left it out too."""
    from cheque_reader.errors import UsageError

    monkeypatch.chdir(tmp_path)
    root = tmp_path / "scans"
    root.mkdir()
    cv2.imwrite(str(root / "f0.png"), field_image("305", 0))
    given = "scans/f0.png" if where.endswith(".png") else "scans"
    ann = "scans" if where.endswith(".png") else where
    with pytest.raises(UsageError, match=f"the annotation folder {re.escape(ann)} holds the input {given}"):
        batch.read_folder([given], options=FIELD, annotate_dir=ann)
    assert not (root / io.OUTPUT_MARKER).exists() and not (tmp_path / io.OUTPUT_MARKER).exists()
    assert batch.read_folder(["."], options=FIELD)["source"].tolist() == ["scans/f0.png"]


def test_a_review_or_annotate_folder_in_the_folder_being_read_is_left_out(tmp_path, caplog):
    from cheque_reader.review import write_review_page

    root = tmp_path / "scans"
    root.mkdir()
    cv2.imwrite(str(root / "f0.png"), field_image("305", 0))
    first = batch.read_folder([root], options=FIELD, annotate_dir=tmp_path / "ann")
    # the review page written where the scans are (review --out's default, ./review, run there), and
    # pictures annotated there by an earlier run: their PNGs are no cheques
    write_review_page(first, root / "review", image_root=root, everything=True)
    batch.read_folder([tmp_path / "other"], options=FIELD, annotate_dir=root / "annotated")
    assert list((root / "review" / "crops").glob("*.png"))
    df = batch.read_folder([root], options=FIELD)
    assert df["source"].tolist() == ["f0.png"]
    assert "review left out: it holds cheque-reader's own pictures" in caplog.text
    assert "annotated left out" in caplog.text
    # given by name, a folder is read whatever it holds
    assert batch.read_folder([root / "review"], options=FIELD)["source"].tolist() == ["crops/item-00001.png"]


def test_every_row_of_a_run_names_the_same_model(tmp_path):
    root = tmp_path / "scans"
    root.mkdir()
    cv2.imwrite(str(root / "a.png"), field_image("305", 0))
    cv2.imwrite(str(root / "blank.png"), np.full((60, 200), 255, np.uint8))
    (root / "broken.png").write_bytes(b"not a png")
    df = batch.read_folder([root], options=FIELD)
    assert df["status"].tolist() == ["ok", "no_digits", "error"]
    assert df["model"].nunique() == 1 and "+sdnn" in df["model"].iloc[0], df["model"].tolist()


def test_resume_without_an_output_is_a_usage_error(tmp_path):
    from cheque_reader.errors import UsageError

    cv2.imwrite(str(tmp_path / "a.png"), field_image("305", 0))
    # it read every page again and kept nothing: there is no earlier run to continue
    with pytest.raises(UsageError, match="resume continues a run in its output file"):
        batch.read_folder([tmp_path], options=FIELD, resume=True)


@pytest.mark.parametrize("resume", [False, True])
def test_a_digits_output_of_no_known_format_is_refused_before_the_results_file_is_touched(tmp_path, resume):
    """read -o results.csv --digits-out digits.xlsx emptied an earlier run's results.csv (its header
    alone left), then said 'unknown output format'."""
    from cheque_reader.errors import UsageError

    root = tmp_path / "scans"
    root.mkdir()
    cv2.imwrite(str(root / "f0.png"), field_image("305", 0))
    out = tmp_path / "r.csv"
    batch.read_folder([root], options=FIELD, output=out)
    before = out.read_bytes()
    with pytest.raises(UsageError, match="unknown output format '.xlsx' for .*d.xlsx"):
        batch.read_folder([root], options=FIELD, output=out, digits_output=tmp_path / "d.xlsx", resume=resume)
    assert out.read_bytes() == before
    with pytest.raises(UsageError, match="unknown output format '.xls'"):
        batch.read_folder([root], options=FIELD, output=tmp_path / "r.xls")
    assert not (tmp_path / "r.xls").exists()


def test_resume_warns_when_the_digits_file_is_new_and_the_kept_pages_have_no_rows_in_it(tmp_path, caplog):
    """read -o r.csv, then read -o r.csv --digits-out d.csv --resume wrote digits for the new pages only,
    silently: the review page showed no digit boxes on the kept ones."""
    root = tmp_path / "scans"
    root.mkdir()
    cv2.imwrite(str(root / "f0.png"), field_image("305", 0))
    out, digits = tmp_path / "r.csv", tmp_path / "d.csv"
    batch.read_folder([root], options=FIELD, output=out)
    cv2.imwrite(str(root / "f1.png"), field_image("72", 1))
    with caplog.at_level("WARNING", logger="cheque_reader"):
        batch.read_folder([root], options=FIELD, output=out, digits_output=digits, resume=True)
    assert "--resume kept 1 page of" in caplog.text and "that has no rows in the new digits file" in caplog.text
    assert set(pd.read_csv(digits)["source"]) == {"f1.png"}
    caplog.clear()
    with caplog.at_level("WARNING", logger="cheque_reader"):  # resumed with the digits file it had: silent
        batch.read_folder([root], options=FIELD, output=out, digits_output=digits, resume=True)
    assert "digits file" not in caplog.text


@pytest.mark.parametrize("which", ["output", "digits_output"])
def test_an_output_named_as_a_folder_is_a_usage_error(tmp_path, monkeypatch, which):
    """-o out/ wrote a file named 'out' (pathlib drops the slash), and said 'read into out/'."""
    from cheque_reader.errors import UsageError

    monkeypatch.chdir(tmp_path)
    cv2.imwrite(str(tmp_path / "f0.png"), field_image("305", 0))
    outputs = {"output": "r.csv", which: "out/"}
    with pytest.raises(UsageError, match=r"out/ is a folder: give the output a file name \(out/results.csv\)"):
        batch.read_folder(["f0.png"], options=FIELD, **outputs)
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("saved_again", [
    lambda data: data.replace(b"\n", b"\r\n"),   # copied through Windows (CRLF)
    lambda data: b"\xef\xbb\xbf" + data,           # Excel's "CSV UTF-8", Notepad's "UTF-8 with BOM"
], ids=["crlf", "byte-order-mark"])
def test_resume_keeps_the_rows_of_a_csv_saved_again(tmp_path, caplog, saved_again):
    """A results.csv copied through Windows (CRLF) had every row taken for 'an incomplete last row':
    all were dropped from the file and read again; one saved again with a byte-order mark was refused,
    "not a results file (missing columns source)". Either is kept, and rewritten as written."""
    root = tmp_path / "scans"
    root.mkdir()
    for i, text in enumerate(["305", "72"]):
        cv2.imwrite(str(root / f"f{i}.png"), field_image(text, i))
    out = tmp_path / "r.csv"
    batch.read_folder([root], options=FIELD, output=out)
    out.write_bytes(saved_again(out.read_bytes()))
    cv2.imwrite(str(root / "f2.png"), field_image("418", 2))
    with caplog.at_level("WARNING", logger="cheque_reader"):
        df = batch.read_folder([root], options=FIELD, output=out, resume=True)
    assert df.attrs["pages_read_now"] == 1 and df["source"].tolist() == ["f0.png", "f1.png", "f2.png"]
    assert "incomplete" not in caplog.text and out.read_bytes().startswith(b"source,page,")
    assert read_results(out)["source"].tolist() == ["f0.png", "f1.png", "f2.png"]


def test_resume_adds_the_x937_columns_an_earlier_csv_lacked(tmp_path):
    """An X9.37 file added to the folder and read with --resume into a CSV begun without one: its rows
    lost item_sequence, micr_amount and micr_match (the file's header was kept as it was)."""
    from cheque_reader.x937 import X937Item, write_x937

    root = tmp_path / "scans"
    root.mkdir()
    cv2.imwrite(str(root / "f0.png"), field_image("305", 0))
    out = tmp_path / "r.csv"
    batch.read_folder([root], options=FIELD, output=out)
    write_x937(root / "cash.x937", [X937Item(field_image("72", 1), amount_cents=7200, sequence="000000000000017")])
    df = batch.read_folder([root], options=FIELD, output=out, resume=True)
    assert df.attrs["pages_read_now"] == 1
    back = read_results(out)
    assert back.columns.tolist()[-3:] == ["item_sequence", "micr_amount", "micr_match"]
    assert back["item_sequence"].fillna("").tolist() == ["", "000000000000017"]
    assert back["micr_amount"].fillna("").tolist() == ["", "72.00"]


def test_a_path_holding_a_nul_byte_gets_an_error_row_that_says_so(tmp_path):
    """It raised ValueError('embedded null byte') while looking for X9.37 files (no suffix), or gave
    an 'internal error' row (an image suffix)."""
    df = batch.read_folder([str(tmp_path / "a\0b.png"), str(tmp_path / "a\0b")], options=FIELD)
    assert list(df["status"]) == ["error", "error"]
    assert df["error"].str.contains("NUL byte").all() and not df["error"].str.contains("internal").any()


@pytest.mark.parametrize("which", ["annotate_dir", "digits_output", "digits_parquet"])
def test_an_annotation_folder_or_digits_file_that_cannot_be_written_fails_before_the_results_are_emptied(
        tmp_path, which):
    """read -o results.csv --annotate or --digits-out naming a path under a file (or a folder that cannot be
    made) emptied an earlier run's results.csv to its header, then failed (exit 3); a bad --annotate also
    left a worker pool running ('Exception ignored in threading ... Bad file descriptor' at exit)."""
    from cheque_reader.errors import OutputError

    out = _results_with_rows(tmp_path)
    before = out.read_bytes()
    cv2.imwrite(str(tmp_path / "f.png"), field_image("12"))
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    kwargs = {"annotate_dir": {"annotate_dir": blocked / "ann"}, "digits_output": {"digits_output": blocked / "d.csv"},
              "digits_parquet": {"digits_output": blocked / "d.parquet"}}[which]
    with pytest.raises(OutputError, match="a-file"):
        batch.read_folder([tmp_path / "f.png"], output=out, options=FIELD, **kwargs)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a-file", "f.png", out.name])


def test_resume_of_a_folder_run_given_one_of_its_files_warns_that_the_page_is_there_twice(tmp_path, caplog):
    """A run of scans/ named its row f.png; --resume given scans/f.png (named by its path) did not know it
    done, read it again and said nothing: the output held the page twice."""
    (tmp_path / "scans").mkdir()
    for name in ("f.png", "g.png"):
        cv2.imwrite(str(tmp_path / "scans" / name), field_image("12"))
    out = tmp_path / "r.csv"
    batch.read_folder([tmp_path / "scans"], output=out, options=FIELD)
    with caplog.at_level("WARNING", logger="cheque_reader"):
        df = batch.read_folder([tmp_path / "scans"], output=out, options=FIELD, resume=True)
    assert len(df) == 2 and "under" not in caplog.text and "twice" not in caplog.text  # given as before: silent
    with caplog.at_level("WARNING", logger="cheque_reader"):
        df = batch.read_folder([tmp_path / "scans" / "f.png"], output=out, options=FIELD, resume=True)
    assert len(df) == 3
    assert "--resume read 1 page whose name ends as that of a row kept" in caplog.text
    assert f"{tmp_path / 'scans' / 'f.png'} page 1 as f.png" in caplog.text


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_in_a_folder_gets_an_error_row_and_does_not_hang_the_run(tmp_path):
    """A FIFO named like an X9.37 file (scan.dat) in a folder being read: looking for X9.37 files opened
    it, and open() waited for a writer forever (cheque-reader read fifo/ hung)."""
    import threading

    cv2.imwrite(str(tmp_path / "a.png"), field_image("12"))
    for name in ("pipe.dat", "pipe.x937", "pipe.png"):
        os.mkfifo(tmp_path / name)
    got = {}
    run = threading.Thread(target=lambda: got.update(df=batch.read_folder([tmp_path], options=FIELD)), daemon=True)
    run.start()
    run.join(60)
    assert "df" in got, "read_folder hung on a named pipe"
    df = got["df"].set_index("source")
    assert df.loc["a.png", "status"] != "error"
    for name in ("pipe.dat", "pipe.x937", "pipe.png"):
        assert df.loc[name, "status"] == "error" and df.loc[name, "error"].endswith("not a regular file")


def test_resume_onto_a_results_csv_with_a_mistyped_value_is_refused_before_reading(tmp_path):
    """A kept row with 'abc' in field_x: every page was read and appended, then reading the file back
    ended in a traceback (exit 1, the code of pages that need review)."""
    from cheque_reader.errors import UsageError

    for name in ("f.png", "g.png"):
        cv2.imwrite(str(tmp_path / name), field_image("12"))
    out = tmp_path / "r.csv"
    batch.read_folder([tmp_path / "f.png"], output=out, options=FIELD)
    lines = out.read_text().splitlines()
    cells = next(csv.reader([lines[1]]))
    cells[RESULT_COLUMNS.index("field_x")] = "abc"
    out.write_text(lines[0] + "\n" + ",".join(cells) + "\n")  # written as read writes its rows (no quotes needed)
    before = out.read_bytes()
    with pytest.raises(UsageError, match=r"cannot resume .*r\.csv: .*field_x 'abc' on line 2 is not a whole number"):
        batch.read_folder([tmp_path / "f.png", tmp_path / "g.png"], output=out, options=FIELD, resume=True)
    assert out.read_bytes() == before


def test_resume_onto_a_results_jsonl_with_a_mistyped_value_is_refused_before_reading(tmp_path):
    from cheque_reader.errors import UsageError

    cv2.imwrite(str(tmp_path / "f.png"), field_image("12"))
    out = tmp_path / "r.jsonl"
    batch.read_folder([tmp_path / "f.png"], output=out, options=FIELD)
    row = json.loads(out.read_text())
    row["field_w"] = 2.5
    out.write_text(json.dumps(row) + "\n")
    before = out.read_bytes()
    with pytest.raises(UsageError, match=r"cannot resume .*field_w 2\.5 in row 1 is not a whole number"):
        batch.read_folder([tmp_path / "f.png"], output=out, options=FIELD, resume=True)
    assert out.read_bytes() == before


# ------------------------------------------------------------------------------ standard output (-o -)


def _elapsed_blanked(csv_text: str) -> list[list[str]]:
    rows = list(csv.reader(csv_text.splitlines()))
    col = rows[0].index("elapsed_ms")
    return [r[:col] + r[col + 1:] for r in rows]


def test_stdout_output_streams_the_bytes_a_csv_file_holds(ugly, tmp_path, monkeypatch, capsysbinary):
    """``output="-"``: the CSV a file run writes (hostile names quoted alike, UTF-8), line for line but
    elapsed_ms, on standard output; the frame is the file run's; no file named ``-`` is made."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.csv"
    written = batch.read_folder([ugly], options=FIELD, output=out)
    capsysbinary.readouterr()
    streamed = batch.read_folder([ugly], options=FIELD, output="-")
    captured = capsysbinary.readouterr()
    text = captured.out.decode("utf-8")
    assert text.endswith("\n") and _elapsed_blanked(text) == _elapsed_blanked(out.read_text(encoding="utf-8"))
    assert text.splitlines()[0] == ",".join(RESULT_COLUMNS)
    pd.testing.assert_frame_equal(no_elapsed(streamed), no_elapsed(written))
    assert not (tmp_path / "-").exists()


def test_stdout_output_holds_every_page_in_input_order_with_the_x937_columns(mixed, monkeypatch, tmp_path, capsys):
    """A multi-page TIFF over several chunks, X9.37 items, bad files, two workers: the rows of a run in
    memory, in its order, read back from standard output."""
    from io import StringIO

    root, ref = mixed
    monkeypatch.chdir(tmp_path)
    df = batch.read_folder([root], options=FIELD.replace(workers=2), output="-")
    back = read_results(StringIO(capsys.readouterr().out)).astype({"item_sequence": "string", "micr_amount": "string", "micr_match": "string"})
    pd.testing.assert_frame_equal(no_elapsed(back), no_elapsed(ref), check_dtype=False)
    pd.testing.assert_frame_equal(no_elapsed(df), no_elapsed(ref))


def test_stdout_output_refuses_resume_and_the_digits_beside_the_results_before_reading(tmp_path, capsys):
    from cheque_reader.errors import UsageError

    cv2.imwrite(str(tmp_path / "a.png"), field_image("305", 0))
    with pytest.raises(UsageError, match=r"standard output \(-\) holds no earlier rows to resume from"):
        batch.read_folder([tmp_path], options=FIELD, output="-", resume=True)
    with pytest.raises(UsageError, match=r"standard output \(-\) holds no earlier rows"):
        batch.read_folder([tmp_path], options=FIELD, output=tmp_path / "r.csv", digits_output="-", resume=True)
    with pytest.raises(UsageError, match=r"would both go to standard output \(-\)"):
        batch.read_folder([tmp_path], options=FIELD, output="-", digits_output="-")
    assert capsys.readouterr().out == ""   # not even a header
    assert not (tmp_path / "r.csv").exists()


def test_digits_to_stdout_beside_a_results_file(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "a.png"), field_image("305", 0))
    from io import StringIO

    df = batch.read_folder([tmp_path / "a.png"], options=FIELD, output=tmp_path / "r.csv", digits_output="-")
    digits = pd.read_csv(StringIO(capsys.readouterr().out), dtype=str)
    assert list(digits.columns) == list(DIGIT_COLUMNS) and len(digits) == int(df["n_digits"].sum())


def test_a_reader_that_closes_standard_output_stops_the_run_and_its_workers(mixed, monkeypatch, tmp_path):
    """``-o - | head -3``: the write after the reader went raises BrokenPipeError out of read_folder (the
    CLI ends quietly on it), once the worker processes are stopped: none is left running or waited for."""
    import errno
    import multiprocessing

    class ClosedAfterTwoLines:
        def __init__(self):
            self.lines = []

        def write(self, text):
            if len(self.lines) == 2:
                raise BrokenPipeError(errno.EPIPE, "Broken pipe")
            self.lines.append(text)

        def flush(self):
            pass

    root, _ = mixed
    before = set(multiprocessing.active_children())
    stdout = ClosedAfterTwoLines()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BrokenPipeError):
        batch.read_folder([root], options=FIELD.replace(workers=2), output="-")
    assert stdout.lines[0] == ",".join(list(RESULT_COLUMNS) + ["item_sequence", "micr_amount", "micr_match"]) + "\n"
    assert set(multiprocessing.active_children()) <= before


def _read_in_a_pool_worker(root: str) -> list:
    return batch.read_folder([root], options=ReadOptions(layout="field", workers=2))["digits"].tolist()


def test_workers_asked_for_in_a_daemonic_process_read_in_it(tmp_path):
    """read_folder(workers=2) in a multiprocessing.Pool worker raised
    "AssertionError: daemonic processes are not allowed to have children": it reads in that process."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    root = make_folder(tmp_path / "in", n_png=2, tiff_pages=0, x937_items=0, bad=False)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        digits = pool.apply_async(_read_in_a_pool_worker, (str(root),)).get(timeout=120)
    assert digits == batch.read_folder([root], options=FIELD)["digits"].tolist()


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_an_output_written_whole_or_repaired_by_resume_keeps_the_permissions_of_a_file(tmp_path, suffix):
    """A .parquet output came out -rw------- (mkstemp's mode), and a .csv or .jsonl repaired by --resume
    after a kill turned so: another account (the bank's import job) could no longer read the results."""
    import stat

    root = tmp_path / "scans"
    root.mkdir()
    for i, text in enumerate(["305", "72"]):
        cv2.imwrite(str(root / f"f{i}.png"), field_image(text, i))
    out = tmp_path / f"r.{suffix}"
    umask = os.umask(0o022)
    try:
        batch.read_folder([root], options=FIELD, output=out)
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        if suffix != "parquet":
            out.write_bytes(out.read_bytes()[:-5])  # the last row cut off by a kill: repaired, then resumed
        out.chmod(0o640)
        df = batch.read_folder([root], options=FIELD, output=out, resume=True)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and len(df) == 2


def test_a_temporary_output_file_takes_the_umask_without_the_process_umask_being_set(tmp_path, monkeypatch):
    """The mode of a new output came from setting the umask twice (os.umask returns the old one only by
    setting a new one): a thread of the caller's that created a file in between got 0022's mode."""
    import stat

    old = os.umask(0o027)
    try:
        def refuse(mask):
            raise AssertionError(f"os.umask({mask:#o}) called")

        monkeypatch.setattr(os, "umask", refuse)
        fd, tmp = batch._temp_beside(tmp_path / "new.parquet")
        os.close(fd)
        monkeypatch.undo()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp).st_mode) == 0o640
    assert Path(tmp).parent == tmp_path and Path(tmp).name.startswith(".new.parquet.")


def test_an_x937_items_row_says_whether_the_amount_read_is_its_micr_amount_and_a_mismatch_goes_to_review(tmp_path):
    """The MICR amount stood beside the read with nothing comparing them: a bank looking for encoding
    errors, or for reads that lost a decimal point, had to compare the two columns itself. And
    ``micr_match`` false (an encoding error, or a misread: a lost decimal point pays 100 times the
    amount) left ``needs_review`` false on a confident read, though a person should see the item: it
    is sent to review with the reason ``micr_mismatch``; its confidence, the read's, stays as it was."""
    from cheque_reader.x937 import X937Item, write_x937

    root = tmp_path / "scans"
    root.mkdir()
    items = [X937Item(field_image("305", 0), amount_cents=30500, sequence="000000000000001"),  # encoded right
             X937Item(field_image("305", 0), amount_cents=3050, sequence="000000000000002"),  # encoded 30.50
             X937Item(field_image("72", 2), amount_cents=0, sequence="000000000000003")]  # no amount encoded
    write_x937(root / "cash.x937", items)
    df = batch.read_folder([root], options=FIELD)
    assert df["amount"].tolist() == ["305.00", "305.00", "72.00"], df[["digits", "text", "amount"]]
    assert df["micr_amount"].tolist() == ["305.00", "30.50", "0.00"]
    assert df["micr_match"].tolist() == ["true", "false", ""]
    reasons = [r.split(";") if r else [] for r in df["review_reasons"]]
    assert "micr_mismatch" not in reasons[0] and "micr_mismatch" not in reasons[2]
    assert "micr_mismatch" in reasons[1] and df.loc[1, "needs_review"] == "true"
    assert df.loc[1, "confidence"] == df.loc[0, "confidence"]  # the same image, the same read
    assert reasons[1] == reasons[0] + ["micr_mismatch"]


def test_pages_ready_are_classified_once_a_worker_has_nothing_left_to_do():
    """The last batch does not wait for every worker's last task: with nothing left to submit, the pages
    ready go to the networks as soon as fewer tasks are in flight than there are worker processes."""
    from cheque_reader.pipeline import PreparedPage

    engine = batch._Engine([], FIELD.replace(workers=2), progress=None, classifier=None, executor=None,
                           want_images=False)
    now = batch.time.monotonic()
    ready = [(PreparedPage(f"p{i}.png", 1, "ok"), None) for i in range(3)]
    assert not engine._batch_due([], now, [], 0)
    assert not engine._batch_due(ready, now, [], 2)            # both workers busy: the batch fills on
    assert not engine._batch_due(ready, now, ["more"], 1)      # tasks left to give the idle worker
    assert engine._batch_due(ready, now, [], 1) and engine._batch_due(ready, now, [], 0)
    assert engine._batch_due(ready, now - batch.MAX_HOLD_S - 0.1, ["more"], 2)   # held long enough
    assert engine._batch_due(ready * 11, now, ["more"], 2)                       # a batch's worth of pages


def test_read_folders_annotation_takes_any_iterable_of_inputs():
    """``read_folder`` reads a generator of paths (``Path("scans").glob("*.tif")``, a database query's) as a
    list, but its annotation said ``Sequence``: a type checker held such a call for an error (``py.typed``)."""
    import typing
    from collections.abc import Iterable

    from cheque_reader.batch import read_folder

    inputs = typing.get_type_hints(read_folder)["inputs"]
    assert any(typing.get_origin(a) is Iterable for a in typing.get_args(inputs)), inputs
