"""Run models with the LiteRT interpreter and report every output tensor.

Run with the MediaPipe environment's Python (it has ``ai-edge-litert``):

    python litert_runner.py REQUEST.json

The request names ``models`` (paths) and ``inputs``, a raw little-endian float32
file. Each model's inputs are filled from it in order: the first input takes the
first values it needs, the next input the following ones, and so on; values run
out as zeros. An integer input is quantized with its own scale and zero point
(or, without quantization, rounded and clipped to its type's range). An image
input ``[1, height, width, channels]`` is filled in row-major order like any
other: values (p - 128) / 128 give a uint8 input quantized with scale 1/128 and
zero point 128 (the builder's, MobileNet's) exactly the pixels p.

The answer is one JSON line on stdout, after a marker: for each model path
either ``{"inputs": [...], "outputs": [...]}``, where each output is
``{"name", "dtype", "shape", "values"}`` (values flattened, in row-major order,
as JSON numbers) and each input ``{"name", "dtype", "shape"}``, or
``{"error": "Type: message"}``. Running in a child process keeps a crash of the
native interpreter from taking pytest down.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter

# Native code may print to stdout too; the answer is the line after this marker.
MARKER = "@@tflite-metadata-result@@"


def to_input(values: np.ndarray, detail: dict[str, object]) -> np.ndarray:
    """``values`` (float32) converted to the input's type and shape."""
    dtype = np.dtype(detail["dtype"])  # type: ignore[call-overload]
    shape = tuple(int(d) for d in detail["shape"])  # type: ignore[attr-defined]
    if dtype.kind == "f":
        array = values.astype(dtype)
    elif dtype.kind in "iu":
        scale, zero_point = detail["quantization"]  # type: ignore[misc]
        scaled = values / scale + zero_point if scale else values
        info = np.iinfo(dtype)
        array = np.clip(np.rint(scaled), info.min, info.max).astype(dtype)
    elif dtype.kind == "b":
        array = values != 0
    else:
        raise TypeError(f"cannot feed an input of type {dtype}")
    return array.reshape(shape)


def run(model_path: str, samples: np.ndarray) -> dict[str, object]:
    try:
        interpreter = Interpreter(model_path=model_path, num_threads=1)
        interpreter.allocate_tensors()
        inputs = []
        position = 0
        for detail in interpreter.get_input_details():
            count = int(np.prod(detail["shape"]))
            chunk = samples[position : position + count]
            position += count
            if len(chunk) < count:
                chunk = np.concatenate([chunk, np.zeros(count - len(chunk), np.float32)])
            interpreter.set_tensor(detail["index"], to_input(chunk, detail))
            inputs.append(
                {
                    "name": detail["name"],
                    "dtype": np.dtype(detail["dtype"]).name,
                    "shape": [int(d) for d in detail["shape"]],
                }
            )
        interpreter.invoke()
        outputs = []
        for detail in interpreter.get_output_details():
            value = interpreter.get_tensor(detail["index"])
            outputs.append(
                {
                    "name": detail["name"],
                    "dtype": value.dtype.name,
                    "shape": [int(d) for d in value.shape],
                    "values": value.reshape(-1).tolist(),
                }
            )
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"inputs": inputs, "outputs": outputs}


def main() -> None:
    with open(sys.argv[1]) as handle:
        request = json.loads(handle.read())
    samples = np.fromfile(request["inputs"], dtype="<f4").astype(np.float32)
    answer = {path: run(path, samples) for path in request["models"]}
    print(MARKER + json.dumps(answer))


if __name__ == "__main__":
    main()
