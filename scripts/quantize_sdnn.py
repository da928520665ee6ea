"""Quantize the field reader's networks to 8-bit integers for ONNX Runtime (``--backend onnx-int8``).

Each network of an SDNN weights file is exported to ONNX and quantized statically (QDQ format,
weights int8 per output channel, activations uint8; ONNX Runtime's ``quantize_static``). The
activation ranges are measured (min-max) on the real amount fields the networks trained on:
ORAND CAR-A's training fold without the calibration images (``--seed``, as the training
scripts), each read as ``read --layout field`` hands it to the reader, at every width of
:data:`cheque_reader.sdnn.STRETCHES`. Two choices keep the reads those of the float networks:
the output layer stays in float (its logits become the CTC probabilities that the amount
confidence is calibrated on), and the weights use 7 bits (``reduce_range``: on CPUs without
VNNI, ONNX Runtime's uint8 x int8 kernels can saturate with 8-bit weights).

    PYTHONPATH=. python scripts/quantize_sdnn.py

writes ``sdnn-int8-0.onnx`` ... beside the weights, and ``sdnn-int8.json`` (the weights' sha256,
each file's sha256, the data, the command, the ONNX Runtime version). The reader uses them
only while that sha256 is the weights' own; then measure them against the float networks:

    PYTHONPATH=. python scripts/eval_real.py --robustness --synth 1000 --bitonal --red 150   # and with --backend onnx
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibrate_amount import cal_names  # noqa: E402

from cheque_reader import io, pipeline, sdnn  # noqa: E402
from cheque_reader.classify import load_metadata  # noqa: E402
from cheque_reader.config import ReadOptions  # noqa: E402
from cheque_reader.datasets import load_orand_labels, orand_dir  # noqa: E402


def calibration_batches(files: list[str], batch_size: int = 64) -> list[np.ndarray]:
    """The field reader's input batches for ``files`` (ORAND images) at every width it reads at."""
    options = ReadOptions(layout="field")
    inputs = []
    for name in files:
        prepared = pipeline.prepare_page(io.load_pages(str(orand_dir() / "images" / name), options)[0], options)
        if prepared.field_input is not None:
            inputs.append(prepared.field_input)
    batches = []
    for factor in sdnn.STRETCHES:
        stretched = [sdnn._stretch(x, factor) for x in inputs]
        for idx in sdnn.width_batches([x.shape[1] for x in stretched], batch_size, sdnn.BATCH_WIDTH_RATIO):
            batches.append(sdnn.stack_inputs([stretched[i] for i in idx])[0])
    return batches


def quantize(model_bytes: bytes, batches: list[np.ndarray], out: Path) -> str:
    """Write the int8 version of one network's ONNX ``model_bytes`` to ``out``; the node left in float."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(batches)

        def get_next(self):
            x = next(self.left, None)
            return None if x is None else {"x": x}

    with tempfile.TemporaryDirectory() as tmp:
        raw, pre = Path(tmp) / "float.onnx", Path(tmp) / "pre.onnx"
        raw.write_bytes(model_bytes)
        quant_pre_process(str(raw), str(pre))
        output_layer = [n.name for n in onnx.load(str(pre)).graph.node if n.op_type == "Conv"][-1]
        quantize_static(str(pre), str(out), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                        reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=[output_layer])
    return output_layer


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=sdnn.default_sdnn_path(), help="SDNN weights file")
    ap.add_argument("--seed", type=int, default=1998, help="the training scripts' --seed (calibration images left out)")
    args = ap.parse_args(argv)
    import onnxruntime

    meta, _ = load_metadata(args.weights)
    labels = load_orand_labels()
    files = sorted(labels[(labels["fold"] == "train") & ~labels["file"].isin(cal_names(args.seed))]["file"])
    batches = calibration_batches(files)
    print(f"{len(files)} ORAND training fields, {len(batches)} batches over widths {sdnn.STRETCHES}", file=sys.stderr)
    nets = sdnn._load_sdnn(args.weights, "cpu")[0]
    written = []
    for i, net in enumerate(nets):
        out = sdnn.int8_path(args.weights, i)
        float_layer = quantize(sdnn.export_onnx(net), batches, out)
        written.append({"file": out.name, "sha256": hashlib.sha256(out.read_bytes()).hexdigest()})
        print(f"wrote {out}", file=sys.stderr)
    sidecar = {
        "weights": args.weights.name,
        "weights_sha256": meta["sha256"],
        "members": written,
        "quantization": {"format": "QDQ", "weights": "int8 per output channel, 7 bits (reduce_range)",
                         "activations": "uint8, min-max ranges", "float_layer": float_layer,
                         "onnxruntime": onnxruntime.__version__},
        "calibration_data": (f"ORAND CAR-A training fold without the calibration images (seed {args.seed}), "
                             f"n={len(files)}, read as `read --layout field` does, widths {list(sdnn.STRETCHES)}"),
        "command": "PYTHONPATH=. python scripts/quantize_sdnn.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    sdnn.int8_sidecar_path(args.weights).write_text(json.dumps(sidecar, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
