"""--device cuda: the networks give the CPU's answers on a GPU (skipped where there is no GPU, as in CI)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (--device cuda)")

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_classifier_on_cuda_matches_cpu():
    from cheque_reader import DigitClassifier

    rng = np.random.default_rng(0)
    crops = [np.where(rng.random((28, 20)) < 0.2, 0, 255).astype(np.uint8) for _ in range(300)]
    cpu = DigitClassifier(device="cpu").predict(crops)
    gpu = DigitClassifier(device="cuda").predict(crops)
    assert np.abs(cpu.probs - gpu.probs).max() < 1e-3
    assert np.abs(cpu.not_digit - gpu.not_digit).max() < 1e-3


def test_field_reader_on_cuda_matches_cpu():
    from cheque_reader import sdnn

    if not sdnn.default_sdnn_path().is_file():
        pytest.skip("no shipped SDNN weights")
    import cv2

    inputs = []
    for text in ("125", "3400", "90817"):
        img = np.full((70, 40 + 34 * len(text)), 235, np.uint8)
        cv2.putText(img, text, (10, 52), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.6, 20, 3, cv2.LINE_AA)
        inputs.append(sdnn.field_input(img, img < 128))
    cpu = sdnn.FieldReader(device="cpu", backend="torch").read(inputs)
    gpu = sdnn.FieldReader(device="cuda").read(inputs)
    assert [r.digits for r in cpu] == [r.digits for r in gpu]
    assert np.allclose([r.confidence for r in cpu], [r.confidence for r in gpu], atol=1e-3)


def test_read_folder_on_cuda_gives_the_cpu_rows(tmp_path):
    from cheque_reader import read_folder
    from cheque_reader.config import ReadOptions

    files = sorted(str(p) for p in SAMPLES.glob("cheque_0[1-4].*"))
    cpu = read_folder(files, options=ReadOptions(device="cpu"))
    gpu = read_folder(files, options=ReadOptions(device="cuda"))
    cols = ["source", "page", "status", "digits", "text", "needs_review"]
    assert cpu[cols].equals(gpu[cols])
    assert np.allclose(cpu["confidence"].astype(float), gpu["confidence"].astype(float), atol=1e-3)
