"""Shared test helpers: where the real development data is, and how to skip without it."""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib

import cv2
import numpy as np
import pytest

from cheque_reader.config import data_dir

DATA = data_dir()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Everything the tests, the doctests and the CLI processes they start write to a temporary
# folder (ONNX exports included) goes under one folder of this session, removed at its end.
SESSION_TMP = tempfile.mkdtemp(prefix="cheque-reader-tests-")
tempfile.tempdir = SESSION_TMP
os.environ["TMPDIR"] = SESSION_TMP
os.environ.setdefault("CHEQUE_READER_CACHE", os.path.join(SESSION_TMP, "onnx-cache"))


def pytest_unconfigure(config):
    shutil.rmtree(SESSION_TMP, ignore_errors=True)


def needs_data(*parts: str):
    """Skip when ``../shared/data/<parts>`` is absent (a user's fresh clone); CI has it."""
    path = DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"needs {path} (../shared/data or $CHEQUE_READER_DATA)")


def load_script(name: str):
    """``scripts/<name>.py`` as a module (its own folder on the path while it loads, as when run)."""
    import importlib.util
    import sys
    from pathlib import Path

    scripts = Path(__file__).resolve().parent.parent / "scripts"
    sys.path.insert(0, str(scripts))
    try:
        spec = importlib.util.spec_from_file_location(name, scripts / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(scripts))
    return mod


def record_labelling(monkeypatch, module) -> list[bytes]:
    """The masks ``module.connected_components`` labels while the test runs, each as its bool mask's
    bytes (it still labels them)."""
    labelled = []
    real = module.connected_components

    def counted(mask, *args, **kwargs):
        labelled.append(mask.astype(bool).tobytes())
        return real(mask, *args, **kwargs)

    monkeypatch.setattr(module, "connected_components", counted)
    return labelled


def printed_field(text: str, h: int = 64, w: int = 240) -> np.ndarray:
    """An amount field with ``text`` printed on white (``uint8`` gray), for batch and fault tests."""
    g = np.full((h, w), 255, np.uint8)
    cv2.putText(g, text, (8, h - 16), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    return g


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` (8-bit gray) with one tiny IDAT."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def turned_reads(tmp_path_factory):
    """A sample cheque as scanned, upside down and turned 8 degrees, read with its digit boxes."""
    from pathlib import Path

    from cheque_reader.batch import read_folder
    from cheque_reader.config import ReadOptions
    from cheque_reader.review import load_digits

    tmp = tmp_path_factory.mktemp("turned")
    scans = tmp / "scans"
    scans.mkdir()
    img = cv2.imread(str(Path(__file__).resolve().parent.parent / "samples" / "cheque_01.png"), cv2.IMREAD_GRAYSCALE)
    h, w = img.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 8, 1.0)
    for name, page in [("a_upright.png", img), ("b_upside_down.png", img[::-1, ::-1]),
                       ("c_turned.png", cv2.warpAffine(img, turn, (w, h), borderValue=255))]:
        cv2.imwrite(str(scans / name), np.ascontiguousarray(page))
    results = read_folder([scans], options=ReadOptions(workers=1), digits_output=tmp / "d.csv")
    return tmp, scans, results, load_digits(tmp / "d.csv")
