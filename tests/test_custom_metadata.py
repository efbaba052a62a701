"""MediaPipe's custom metadata: ``DETECTOR_METADATA`` and ``SEGMENTER_METADATA``.

* The schemas declared in :mod:`tflite_metadata.format.custom_metadata`: packing
  and decoding, and recognizing MediaPipe's ``.fbs`` files (from the MediaPipe
  environment, skipped when absent).
* ``convert_to_json(..., custom_metadata_schema=...)`` with MediaPipe's schema files.
* ``show`` and ``show --json`` decode them unasked; damaged data gives a clear line.
* ``write object-detector --anchors`` / ``write image-segmenter --activation``.
* Consumers: MediaPipe Tasks' ``ObjectDetector`` on a detector without
  post-processing (built here, with the project builder's pieces: raw boxes and
  scores) and ``ImageSegmenter`` on DeepLab v3 with an activation, from the
  models MediaPipe's writers write and ours.
"""

from __future__ import annotations

import contextlib
import json
import random
import struct
from pathlib import Path
from typing import Any

import pytest

import consumer_env
from tflite_metadata._model_builder import build_detector_outputs
from tflite_metadata.errors import MetadataError, MetadataFormatError, MetadataValidationError
from tflite_metadata.format.codec import codec_for
from tflite_metadata.format.custom_metadata import (
    CUSTOM_METADATA_SCHEMAS,
    DETECTOR_SCHEMA,
    SEGMENTER_SCHEMA,
    schema_of_file,
    schema_of_source,
)
from tflite_metadata.format.json_format import to_json
from tflite_metadata.mediapipe import metadata as mp_metadata
from tflite_metadata.mediapipe.metadata_writers import (
    image_segmenter,
    metadata_writer,
    object_detector,
)

SHARED = consumer_env.ROOT.parent / "shared" / "testdata"
TFLITE_SUPPORT = SHARED / "tflite-support"
GOLDENS = SHARED / "mediapipe"
MP_SCHEMAS = Path(
    "/work/main/.venvs/mediapipe/lib/python3.11/site-packages/mediapipe/tasks/metadata"
)


def shared(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return path


def mediapipe_schema(name: str) -> Path:
    """One of MediaPipe's own ``.fbs`` files, from its environment's package."""
    python = consumer_env.mediapipe_python()
    folder = MP_SCHEMAS
    if python is not None:
        found = sorted(Path(python).parents[1].glob("lib/python*/site-packages"))
        if found:
            folder = found[0] / "mediapipe" / "tasks" / "metadata"
    return shared(folder / f"{name}_metadata_schema.fbs")


def _anchors(count: int, seed: int = 0) -> Any:
    rng = random.Random(seed)
    anchors = [
        object_detector.FixedAnchor(
            x_center=round(rng.uniform(0.05, 0.95), 4),
            y_center=round(rng.uniform(0.05, 0.95), 4),
            width=round(rng.uniform(0.1, 0.6), 4),
            height=round(rng.uniform(0.1, 0.6), 4),
        )
        for _ in range(count)
    ]
    return object_detector.SsdAnchorsOptions(object_detector.FixedAnchorsSchema(anchors))


def _decoding(classes: int, boxes: int, **changes: Any) -> Any:
    values = dict(
        num_classes=classes,
        num_boxes=boxes,
        num_coords=4,
        keypoint_coord_offset=0,
        num_keypoints=0,
        num_values_per_keypoint=0,
        x_scale=10.0,
        y_scale=10.0,
        w_scale=5.0,
        h_scale=5.0,
        apply_exponential_on_box_size=True,
        sigmoid_score=True,
    )
    values.update(changes)
    return object_detector.TensorsDecodingOptions(**values)


def _raw_detector_model(boxes: int = 6, classes: int = 3) -> bytes:
    return bytes(
        build_detector_outputs(
            outputs=[
                ("scores", (1, boxes, classes), "float32"),
                ("boxes", (1, boxes, 4), "float32"),
            ]
        )
    )


def _populate(writer: Any) -> tuple[bytes, str]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        populated, text = writer.populate()
    return bytes(populated), text


def _raw_writer(boxes: int = 6, classes: int = 3, **changes: Any) -> Any:
    labels = metadata_writer.Labels().add([f"c{i}" for i in range(classes)])
    return object_detector.MetadataWriter.create_for_models_without_nms(
        _raw_detector_model(boxes, classes),
        [127.5],
        [127.5],
        labels,
        _anchors(boxes),
        _decoding(classes, boxes, **changes),
        metadata_info_order("SCORE_LOCATION"),
    )


def metadata_info_order(name: str) -> Any:
    from tflite_metadata.mediapipe.metadata_writers import metadata_info

    return getattr(metadata_info.RawDetectionOutputTensorsOrder, name)


def _metadata(populated: bytes) -> bytes:
    buffer = mp_metadata.get_metadata_buffer(populated)
    assert buffer is not None
    return buffer


# -- the schemas --------------------------------------------------------------------------------


def test_declared_schemas_are_mediapipes_files() -> None:
    """MediaPipe's own ``.fbs`` files are recognized as the declared schemas."""
    assert schema_of_file(str(mediapipe_schema("object_detector"))) is DETECTOR_SCHEMA
    assert schema_of_file(str(mediapipe_schema("image_segmenter"))) is SEGMENTER_SCHEMA
    assert set(CUSTOM_METADATA_SCHEMAS) == {"DETECTOR_METADATA", "SEGMENTER_METADATA"}


def test_schema_files_are_recognized_by_their_declarations() -> None:
    source = mediapipe_schema("image_segmenter").read_text()
    # Comments, spacing and synonyms do not matter.
    relaxed = "// x\n" + source.replace("activation: Activation;", "activation :Activation ;")
    assert schema_of_source(relaxed.replace(": byte", ": int8")) is SEGMENTER_SCHEMA
    # Another field, another order, another root type, another namespace: refused.
    for changed, message in (
        (source.replace("min_parser_version:string;", "min_parser_version:string; x:int;"),
         "declarations differ"),
        (source.replace("SOFTMAX = 2", "SOFTMAX = 2, TANH = 3"), "declarations differ"),
        (source.replace("root_type ImageSegmenterOptions", "root_type Other"), "not one"),
        (source.replace("namespace mediapipe.tasks", "namespace other"), "not one"),
        ("", "not one"),
    ):  # fmt: skip
        with pytest.raises(MetadataValidationError, match=message):
            schema_of_source(changed, "x.fbs")


def test_detector_options_buffer_is_what_flatc_packs() -> None:
    """A hand-checked layout: ObjectDetectorOptions with one anchor, identifier V001."""
    md = object_detector.ObjectDetectorOptionsMd(
        object_detector.SsdAnchorsOptions(
            object_detector.FixedAnchorsSchema([object_detector.FixedAnchor(0.5, 0.25, 1.0, 0.0)])
        ),
        _decoding(2, 1, apply_exponential_on_box_size=False, sigmoid_score=False),
    )
    data = md.create_metadata().data
    assert data[4:8] == b"V001"
    decoded = codec_for(DETECTOR_SCHEMA).decode(data)
    anchor = decoded.ssdAnchorsOptions.fixedAnchorsSchema.anchors[0]
    assert (anchor.xCenter, anchor.yCenter, anchor.width, anchor.height) == (0.5, 0.25, 1.0, 0.0)
    assert decoded.tensorsDecodingOptions.numClasses == 2
    assert decoded.tensorsDecodingOptions.xScale == 10.0
    assert decoded.minParserVersion is None
    text = to_json(data, DETECTOR_SCHEMA)
    # flatc's text: a field at its default (height 0, the false bools) is not stored.
    assert '"height"' not in text and '"sigmoid_score"' not in text
    assert '"x_center": 0.5' in text and '"num_boxes": 1' in text


def test_options_of_the_wrong_type_are_metadata_errors() -> None:
    with pytest.raises(MetadataValidationError, match="only support FixedAnchorsSchema"):
        object_detector.ObjectDetectorOptionsMd(
            object_detector.SsdAnchorsOptions(None), _decoding(1, 1)
        )
    with pytest.raises(MetadataValidationError):
        _raw_writer(num_classes="3")
    bad_anchor = object_detector.SsdAnchorsOptions(
        object_detector.FixedAnchorsSchema([object_detector.FixedAnchor(0.5, 0.5, None, 1.0)])
    )
    with pytest.raises(MetadataValidationError):
        object_detector.MetadataWriter.create_for_models_without_nms(
            _raw_detector_model(1, 1), [127.5], [127.5],
            metadata_writer.Labels().add(["a"]), bad_anchor, _decoding(1, 1),
        )  # fmt: skip


# -- convert_to_json ------------------------------------------------------------------------------


def test_convert_to_json_with_mediapipes_schema_files(tmp_path: Path) -> None:
    populated, text = _populate(_raw_writer())
    buffer = _metadata(populated)
    detector_fbs = str(mediapipe_schema("object_detector"))
    segmenter_fbs = str(mediapipe_schema("image_segmenter"))
    assert mp_metadata.convert_to_json(buffer, {"DETECTOR_METADATA": detector_fbs}) == text
    assert object_detector.convert_to_json(buffer) == text
    document = json.loads(text)
    data = document["subgraph_metadata"][0]["custom_metadata"][0]["data"]
    assert len(data["ssd_anchors_options"]["fixed_anchors_schema"]["anchors"]) == 6
    assert data["tensors_decoding_options"]["num_classes"] == 3
    # Without the name: flatc's text, the data as bytes.
    plain = json.loads(mp_metadata.convert_to_json(buffer))
    assert isinstance(plain["subgraph_metadata"][0]["custom_metadata"][0]["data"], list)
    # A name that is absent is skipped, whatever the file (MediaPipe's behaviour).
    assert mp_metadata.convert_to_json(buffer, {"SEGMENTER_METADATA": "nope.fbs"}) == json.dumps(
        plain, indent=2
    )
    # The wrong schema for the data: decoded as that schema would be, or an error;
    # never a crash.
    with contextlib.suppress(MetadataError):
        mp_metadata.convert_to_json(buffer, {"DETECTOR_METADATA": segmenter_fbs})
    other = tmp_path / "other.fbs"
    other.write_text("namespace x; table T { a: int; } root_type T;")
    with pytest.raises(MetadataValidationError, match=r"x\.T is not one this package declares"):
        mp_metadata.convert_to_json(buffer, {"DETECTOR_METADATA": str(other)})


def test_segmenter_activation_json_and_buffer() -> None:
    model = bytes(build_detector_outputs(outputs=[("masks", (1, 4, 4, 2), "float32")]))
    for activation in image_segmenter.Activation:
        writer = image_segmenter.MetadataWriter.create(
            model, [127.5], [127.5], activation=activation
        )
        populated, text = _populate(writer)
        custom = json.loads(text)["subgraph_metadata"][0]["custom_metadata"]
        # NONE is the default: not stored, so flatc prints an empty table.
        expected = {} if activation.value == 0 else {"activation": activation.name}
        assert custom == [{"name": "SEGMENTER_METADATA", "data": expected}]
        fbs = str(mediapipe_schema("image_segmenter"))
        buffer = _metadata(populated)
        assert mp_metadata.convert_to_json(buffer, {"SEGMENTER_METADATA": fbs}) == text


# -- show and show --json --------------------------------------------------------------------------


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from tflite_metadata.cli import main

    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_show_decodes_known_custom_metadata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populated, text = _populate(_raw_writer())
    path = tmp_path / "raw.tflite"
    path.write_bytes(populated)
    code, out, _ = _run_cli(["show", "--json", str(path)], capsys)
    assert code == 0 and out == text + "\n"
    code, out, _ = _run_cli(["show", str(path)], capsys)
    assert code == 0
    assert "custom metadata DETECTOR_METADATA: object detector options" in out
    assert "6 anchors" in out and "num_classes 3" in out
    model = bytes(build_detector_outputs(outputs=[("masks", (1, 4, 4, 2), "float32")]))
    writer = image_segmenter.MetadataWriter.create(
        model, [127.5], [127.5], activation=image_segmenter.Activation.SOFTMAX
    )
    populated, text = _populate(writer)
    path.write_bytes(populated)
    code, out, _ = _run_cli(["show", str(path)], capsys)
    assert "custom metadata SEGMENTER_METADATA: image segmenter options: activation SOFTMAX" in out
    code, out, _ = _run_cli(["show", "--json", str(path)], capsys)
    assert out == text + "\n"


def _with_custom_data(name: str, data: bytes, raw: bool = False) -> bytes:
    """A model whose metadata has one custom metadata ``name`` holding ``data``.

    With ``raw``, a detector without post-processing (its image input and raw outputs
    described); else a model with only the custom metadata.
    """
    from tflite_metadata.mediapipe.metadata_writers import metadata_info

    class Custom(metadata_info.CustomMetadataMd):
        def create_metadata(self) -> Any:
            from tflite_metadata import metadata_schema_py_generated as fb

            custom = fb.CustomMetadataT()
            custom.name = self.name
            custom.data = data
            return custom

    if raw:
        writer = metadata_writer.MetadataWriter.create(_raw_detector_model(6, 3))
        writer.add_image_input([127.5], [127.5])
        labels = metadata_writer.Labels().add(["a", "b", "c"])
        writer.add_raw_detection_output(labels, metadata_info_order("SCORE_LOCATION"))
    else:
        model = bytes(build_detector_outputs(outputs=[("masks", (1, 4, 4, 2), "float32")]))
        writer = metadata_writer.MetadataWriter.create(model)
    writer.add_custom_metadata(Custom(name))
    populated, _ = _populate(writer)
    return populated


def test_damaged_custom_metadata_is_a_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.tflite"
    path.write_bytes(_with_custom_data("DETECTOR_METADATA", b"\x40\x00\x00\x00V001xx"))
    code, out, _ = _run_cli(["show", str(path)], capsys)
    assert code == 0
    assert "custom metadata DETECTOR_METADATA: cannot decode (" in out
    code, out, err = _run_cli(["show", "--json", str(path)], capsys)
    assert code == 0 and "cannot decode" in err
    assert isinstance(json.loads(out)["subgraph_metadata"][0]["custom_metadata"][0]["data"], list)
    buffer = _metadata(path.read_bytes())
    with pytest.raises(MetadataFormatError):
        object_detector.convert_to_json(buffer)
    # An unknown name: its size.
    path.write_bytes(_with_custom_data("OTHER", b"\x01\x02\x03"))
    code, out, _ = _run_cli(["show", str(path)], capsys)
    assert "custom metadata OTHER: 3 bytes" in out


# -- fuzz: damaged custom metadata ---------------------------------------------------------------


def test_fuzzed_custom_metadata_never_crashes() -> None:
    """Seeded mutations of valid DETECTOR_METADATA and SEGMENTER_METADATA buffers.

    Decoding, printing and ``check`` each give a result or a ``MetadataError``.
    """
    from tflite_metadata.check import check
    from tflite_metadata.cli.show import summarize

    detector = _raw_writer(boxes=3, classes=2)
    valid = {
        "DETECTOR_METADATA": object_detector.ObjectDetectorOptionsMd(_anchors(3), _decoding(2, 3))
        .create_metadata()
        .data,
        "SEGMENTER_METADATA": image_segmenter.ImageSegmenterOptionsMd(
            image_segmenter.Activation.SIGMOID
        )
        .create_metadata()
        .data,
    }
    del detector
    rng = random.Random(1214)
    decoded = errors = 0
    for round_ in range(160):
        name = "DETECTOR_METADATA" if round_ % 2 else "SEGMENTER_METADATA"
        data = bytearray(valid[name])
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.5 and data:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif kind < 0.7 and len(data) > 4:
                position = rng.randrange(0, len(data) - 3)
                data[position : position + 4] = struct.pack("<I", rng.choice([0, 4, 0x7FFFFFFF]))
            elif kind < 0.85:
                del data[rng.randrange(len(data) + 1) :]
            else:
                data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        schema = CUSTOM_METADATA_SCHEMAS[name]
        try:
            to_json(bytes(data), schema)
            codec_for(schema).decode(bytes(data), check_identifier=False)
            decoded += 1
        except MetadataError:
            errors += 1
        if round_ % 8 == 0:
            populated = _with_custom_data(name, bytes(data))
            lines = summarize(populated)
            assert any(line.startswith(f"custom metadata {name}: ") for line in lines)
            check(populated)
    assert decoded and errors


# -- check: a detector without post-processing ----------------------------------------------------


def test_check_raw_detector_rules() -> None:
    from tflite_metadata.check import check

    populated, _ = _populate(_raw_writer())
    assert check(populated) == []
    populated, _ = _populate(_raw_writer(num_boxes=5))
    problems = [str(p) for p in check(populated)]
    assert any("5 and num_boxes" in p or "num_boxes 5" in p for p in problems), problems
    assert any("has 6 anchors and num_boxes 5" in p for p in problems), problems
    # A raw detector whose DETECTOR_METADATA lacks its anchors, or is damaged: MediaPipe
    # reads it unverified.
    for data in (
        codec_for(DETECTOR_SCHEMA).encode(
            codec_for(DETECTOR_SCHEMA).objects["ObjectDetectorOptions"]()
        ),
        b"\x40\x00\x00\x00V001xx",
    ):
        problems = check(_with_custom_data("DETECTOR_METADATA", data, raw=True))
        assert [p.code.value for p in problems] == ["metadata-malformed"], problems
        assert "MediaPipe" in str(problems[0])
