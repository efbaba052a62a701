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
from tflite_metadata import _model_builder as mb
from tflite_metadata._model_builder import build_detector_outputs
from tflite_metadata.errors import MetadataError, MetadataFormatError, MetadataValidationError
from tflite_metadata.format import codec
from tflite_metadata.format.codec import codec_for
from tflite_metadata.format.custom_metadata import (
    CUSTOM_METADATA_SCHEMAS,
    DETECTOR_SCHEMA,
    SEGMENTER_SCHEMA,
    schema_of_file,
    schema_of_source,
)
from tflite_metadata.format.json_format import to_json
from tflite_metadata.format.model_schema import BuiltinOperator, BuiltinOptions, TensorType
from tflite_metadata.mediapipe import metadata as mp_metadata
from tflite_metadata.mediapipe.metadata_writers import (
    image_segmenter,
    metadata_writer,
    object_detector,
)

SHARED = consumer_env.ROOT.parent / "shared" / "testdata"
TFLITE_SUPPORT = SHARED / "tflite-support"
GOLDENS = SHARED / "mediapipe"


def shared(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return path


def mediapipe_schema(name: str) -> Path:
    """One of MediaPipe's own ``.fbs`` files, from its environment's package."""
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "the MediaPipe environment")
    assert python is not None
    found = sorted(Path(python).parents[1].glob("lib/python*/site-packages"))
    consumer_env.require(bool(found), "the MediaPipe environment's site-packages")
    return shared(found[0] / "mediapipe" / "tasks" / "metadata" / f"{name}_metadata_schema.fbs")


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
        num_values_per_keypoint=2,
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
    with pytest.raises(MetadataValidationError, match="x_scale should be a finite number"):
        _raw_writer(x_scale=float("nan"))
    nan_anchor = object_detector.SsdAnchorsOptions(
        object_detector.FixedAnchorsSchema([object_detector.FixedAnchor(0.5, float("inf"), 1, 1)])
    )
    with pytest.raises(MetadataValidationError, match="anchor 0: y_center should be a finite"):
        object_detector.ObjectDetectorOptionsMd(nan_anchor, _decoding(1, 1)).create_metadata()
    bad_anchor = object_detector.SsdAnchorsOptions(
        object_detector.FixedAnchorsSchema([object_detector.FixedAnchor(0.5, 0.5, None, 1.0)])
    )
    with pytest.raises(MetadataValidationError):
        object_detector.MetadataWriter.create_for_models_without_nms(
            _raw_detector_model(1, 1), [127.5], [127.5],
            metadata_writer.Labels().add(["a"]), bad_anchor, _decoding(1, 1),
        )  # fmt: skip


def test_without_nms_default_order_reads_the_shapes() -> None:
    """MediaPipe's default order (UNSPECIFIED) always raised; the shapes tell here."""
    labels = metadata_writer.Labels().add(["a", "b", "c"])
    results = []
    for outputs in (
        [("scores", (1, 6, 3), "float32"), ("boxes", (1, 6, 4), "float32")],
        [("boxes", (1, 6, 4), "float32"), ("scores", (1, 6, 3), "float32")],
    ):
        model = bytes(build_detector_outputs(outputs=outputs))
        writer = object_detector.MetadataWriter.create_for_models_without_nms(
            model, [127.5], [127.5], labels, _anchors(6), _decoding(3, 6)
        )
        _, text = _populate(writer)
        described = json.loads(text)["subgraph_metadata"][0]["output_tensor_metadata"]
        results.append([tensor["name"] for tensor in described])
    assert results == [["score", "location"], ["location", "score"]]


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


def _segmenter_with_custom_data(name: Any, data: bytes) -> bytes:
    """A segmenter described by MediaPipe's builder, with one custom metadata."""
    from tflite_metadata import metadata_schema_py_generated as fb
    from tflite_metadata.mediapipe.metadata_writers import metadata_info

    class Custom(metadata_info.CustomMetadataMd):
        def create_metadata(self) -> Any:
            custom = fb.CustomMetadataT()
            custom.name = self.name
            custom.data = data
            return custom

    model = bytes(build_detector_outputs(outputs=[("masks", (1, 4, 4, 2), "float32")]))
    writer = metadata_writer.MetadataWriter.create(model).add_image_input([127.5], [127.5])
    writer.add_segmentation_output().add_custom_metadata(Custom(name))
    populated, _ = _populate(writer)
    return populated


def test_check_segmenter_custom_metadata() -> None:
    """MediaPipe's segmenter reads SEGMENTER_METADATA unverified, refuses unknown activations."""
    from tflite_metadata.check import check

    segmenter = codec_for(SEGMENTER_SCHEMA)
    good = image_segmenter.ImageSegmenterOptionsMd(image_segmenter.Activation.SIGMOID)
    assert check(_segmenter_with_custom_data("SEGMENTER_METADATA", good.options_buffer())) == []
    options = segmenter.objects["ImageSegmenterOptions"]()
    options.activation = 7
    for name, data, expected in (
        ("SEGMENTER_METADATA", segmenter.encode(options), "has activation 7"),
        ("SEGMENTER_METADATA", b"\x40\x00\x00\x00V001", "cannot be decoded"),
    ):
        problems = check(_segmenter_with_custom_data(name, data), task="image-segmenter")
        assert [p.code.value for p in problems] == ["metadata-malformed"], problems
        assert expected in str(problems[0]) and "MediaPipe" in str(problems[0])


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


@pytest.mark.parametrize("name", ["DETECTOR_METADATA", "SEGMENTER_METADATA"])
def test_every_word_of_custom_metadata_set_to_hostile_values(name: str) -> None:
    """Each 32-bit word of a valid buffer set to 0, its length, 2**31 - 1 and 2**32 - 1.

    Offsets and lengths that point outside, loop or claim 2**31 anchors are a
    ``MetadataFormatError`` naming the custom metadata; never another exception.
    """
    from tflite_metadata.cli.show import custom_metadata_lines

    if name == "DETECTOR_METADATA":
        md: Any = object_detector.ObjectDetectorOptionsMd(_anchors(2), _decoding(2, 2))
    else:
        md = image_segmenter.ImageSegmenterOptionsMd(image_segmenter.Activation.SOFTMAX)
    entry = md.create_metadata()
    valid = bytes(entry.data)
    schema = CUSTOM_METADATA_SCHEMAS[name]
    refused = 0
    for position in range(0, len(valid) - 3):
        for value in (0, len(valid), 0x7FFFFFFF, 0xFFFFFFFF):
            data = valid[:position] + struct.pack("<I", value) + valid[position + 4 :]
            try:
                to_json(data, schema)
                codec_for(schema).decode(data, check_identifier=False)
            except MetadataFormatError as exc:
                assert name in str(exc)
                refused += 1
            entry.data = data
            line = custom_metadata_lines(entry)[0]
            assert line.startswith(f"custom metadata {name}: ")
    assert refused > len(valid)


# -- check: a detector without post-processing ----------------------------------------------------


def test_check_raw_detector_rules() -> None:
    from tflite_metadata.check import check

    populated, _ = _populate(_raw_writer())
    assert check(populated) == []
    populated, _ = _populate(_raw_writer(num_boxes=5))
    problems = [str(p) for p in check(populated)]
    assert any("5 and num_boxes" in p or "num_boxes 5" in p for p in problems), problems
    assert not any("anchors and num_boxes" in p for p in problems), problems  # 1 unread
    populated, _ = _populate(_raw_writer(boxes=6, num_boxes=7))
    problems = [str(p) for p in check(populated)]
    assert any("has 6 anchors and num_boxes 7" in p for p in problems), problems
    # MediaPipe aborts unless num_values_per_keypoint is 2 and num_coords 4 + 2 x keypoints.
    populated, _ = _populate(_raw_writer(num_values_per_keypoint=0))
    assert ["num_values_per_keypoint 0" in str(p) for p in check(populated)] == [True]
    populated, _ = _populate(_raw_writer(num_keypoints=1))
    assert ["num_coords = 4 + 2 x num_keypoints = 6" in str(p) for p in check(populated)] == [True]
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


# -- consumers: MediaPipe Tasks and LiteRT --------------------------------------------------------


def build_raw_detector(boxes: int = 24, classes: int = 3, size: int = 8, seed: int = 7) -> bytes:
    """A detector without post-processing, made of the project builder's pieces.

    Input ``[1, size, size, 3]`` float32 (normalized pixels); two heads, each a
    ``FULLY_CONNECTED`` over the whole image (the builder's weights) and a
    ``RESHAPE``: the raw boxes ``[1, boxes, 4]`` (output 0: MediaPipe's
    ``[y_center, x_center, h, w]`` offsets from the anchors) and the raw scores
    ``[1, boxes, classes]`` (output 1: logits).
    """
    graph = mb._Graph()
    features = size * size * 3
    image = graph.add_tensor(mb._Tensor("image", TensorType.FLOAT32, (1, size, size, 3)))
    graph.inputs.append(image)
    for head, (name, width) in enumerate((("raw_boxes", 4), ("raw_scores", classes))):
        weight_data, bias_data = mb.head_parameters(seed, head, boxes * width, features)
        weight = graph.add_tensor(
            mb._Tensor(
                f"{name}/weights",
                TensorType.FLOAT32,
                (boxes * width, features),
                graph.add_constant(mb._Constant(len(weight_data), weight_data)),
            )
        )
        bias = graph.add_tensor(
            mb._Tensor(
                f"{name}/bias",
                TensorType.FLOAT32,
                (boxes * width,),
                graph.add_constant(mb._Constant(len(bias_data), bias_data)),
            )
        )
        flat = graph.add_tensor(mb._Tensor(f"{name}/flat", TensorType.FLOAT32, (1, boxes * width)))
        graph.operators.append(
            mb._Operator(
                BuiltinOperator.FULLY_CONNECTED,
                (image, weight, bias),
                (flat,),
                BuiltinOptions.FullyConnectedOptions,
            )
        )
        target = struct.pack("<3i", 1, boxes, width)
        shape = graph.add_tensor(
            mb._Tensor(
                f"{name}/shape",
                TensorType.INT32,
                (3,),
                graph.add_constant(mb._Constant(len(target), target)),
            )
        )
        output = graph.add_tensor(mb._Tensor(name, TensorType.FLOAT32, (1, boxes, width)))
        graph.operators.append(
            mb._Operator(
                BuiltinOperator.RESHAPE, (flat, shape), (output,), BuiltinOptions.ReshapeOptions
            )
        )
        graph.outputs.append(output)
    return bytes(mb._serialize(graph, None))


def build_quality_segmenter(size: int = 8, classes: int = 2, seed: int = 9) -> bytes:
    """A segmenter with MediaPipe's selfie layout, made of the project builder's pieces.

    Input ``[1, size, size, 3]`` float32; output 0 the quality score ``[1, 1]``
    (``FULLY_CONNECTED``), output 1 the masks ``[1, size, size, classes]``
    (``FULLY_CONNECTED`` then ``RESHAPE``).
    """
    graph = mb._Graph()
    features = size * size * 3
    image = graph.add_tensor(mb._Tensor("image", TensorType.FLOAT32, (1, size, size, 3)))
    graph.inputs.append(image)

    def dense(name: str, head: int, units: int) -> int:
        weight_data, bias_data = mb.head_parameters(seed, head, units, features)
        weight = graph.add_tensor(
            mb._Tensor(
                f"{name}/weights",
                TensorType.FLOAT32,
                (units, features),
                graph.add_constant(mb._Constant(len(weight_data), weight_data)),
            )
        )
        bias = graph.add_tensor(
            mb._Tensor(
                f"{name}/bias",
                TensorType.FLOAT32,
                (units,),
                graph.add_constant(mb._Constant(len(bias_data), bias_data)),
            )
        )
        output = graph.add_tensor(mb._Tensor(name, TensorType.FLOAT32, (1, units)))
        graph.operators.append(
            mb._Operator(
                BuiltinOperator.FULLY_CONNECTED,
                (image, weight, bias),
                (output,),
                BuiltinOptions.FullyConnectedOptions,
            )
        )
        return output

    quality = dense("quality", 0, 1)
    flat = dense("masks/flat", 1, size * size * classes)
    target = struct.pack("<4i", 1, size, size, classes)
    shape = graph.add_tensor(
        mb._Tensor(
            "masks/shape",
            TensorType.INT32,
            (4,),
            graph.add_constant(mb._Constant(len(target), target)),
        )
    )
    masks = graph.add_tensor(mb._Tensor("masks", TensorType.FLOAT32, (1, size, size, classes)))
    graph.operators.append(
        mb._Operator(
            BuiltinOperator.RESHAPE, (flat, shape), (masks,), BuiltinOptions.ReshapeOptions
        )
    )
    graph.outputs.extend([quality, masks])
    return bytes(mb._serialize(graph, None))


def _grid_anchors(boxes: int, shift: float = 0.0) -> list[list[float]]:
    """``boxes`` anchors on a grid, as ``[x_center, y_center, width, height]``."""
    side = int(boxes**0.5 + 0.999)
    return [
        [
            round((index % side + 0.5) / side + shift, 4),
            round((index // side + 0.5) / side, 4),
            round(1.5 / side, 4),
            round(1.2 / side, 4),
        ]
        for index in range(boxes)
    ]


@pytest.mark.reference
@pytest.mark.consumers
def test_mediapipe_tasks_alike_on_custom_metadata_models(tmp_path: Path) -> None:
    """MediaPipe Tasks on the models MediaPipe's writers and ours write, alike:

    * ``ObjectDetector`` on a detector without post-processing (its anchors and
      decoding options in ``DETECTOR_METADATA``): the same detections, some; other
      anchors give other boxes (MediaPipe uses them); ``write object-detector
      --anchors FILE.csv`` gives the same detections too;
    * ``ImageSegmenter`` on DeepLab v3 with each activation, and on a segmenter with
      MediaPipe's quality-score output (built here), with and without an activation:
      the same category and confidence masks; the activation changes the confidence masks.

    LiteRT's outputs are those of the model without metadata.
    """

    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "the MediaPipe environment")
    assert python is not None
    boxes, classes = 24, 3
    raw = tmp_path / "raw.tflite"
    raw.write_bytes(build_raw_detector(boxes, classes))
    labels = {"$labels": [["add", ["cat", "dog", "bird"]]]}
    decoding = [classes, boxes, 4, 0, 0, 2, 10.0, 10.0, 5.0, 5.0, True, True]
    cases: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, shift in (("anchors", 0.0), ("shifted anchors", 0.05)):
        cases[name] = (
            "detect",
            {
                "model": str(raw),
                "factory": ["object_detector", "MetadataWriter", "create_for_models_without_nms"],
                "args": [
                    [127.5], [127.5], labels,
                    {"$anchors": _grid_anchors(boxes, shift)}, {"$decoding": decoding},
                    {"$order": "LOCATION_SCORE"},
                ],
            },
        )  # fmt: skip
    deeplab = shared(TFLITE_SUPPORT / "image_segmenter" / "deeplabv3.tflite")
    for activation in ("NONE", "SIGMOID", "SOFTMAX"):
        cases[f"deeplab {activation}"] = (
            "segment",
            {
                "model": str(deeplab),
                "factory": ["image_segmenter", "MetadataWriter", "create"],
                "args": [[127.5], [127.5], None, {"$activation": activation}],
            },
        )
    selfie = tmp_path / "selfie.tflite"
    selfie.write_bytes(build_quality_segmenter())
    for activation in (None, "SOFTMAX"):
        args: list[Any] = [[127.5], [127.5], {"$labels": [["add", ["background", "person"]]]}]
        if activation:
            args.append({"$activation": activation})
        cases[f"quality {activation}"] = (
            "segment",
            {"model": str(selfie), "factory": ["image_segmenter", "MetadataWriter", "create"],
             "args": args},
        )  # fmt: skip
    from test_mediapipe_writers import _run_mediapipe_tasks, our_outcome

    # The same detector written by ``write object-detector --anchors`` (CSV, default order).
    anchors_csv = tmp_path / "anchors.csv"
    anchors_csv.write_text("".join(f"{y},{x},{h},{w}\n" for x, y, w, h in _grid_anchors(boxes)))
    labels_file = tmp_path / "labels.txt"
    labels_file.write_text("cat\ndog\nbird\n")
    written = tmp_path / "cli.tflite"
    from tflite_metadata.cli import main

    assert (
        main(
            ["write", "object-detector", str(raw), "-o", str(written), "--mean", "127.5",
             "--std", "127.5", "--labels", str(labels_file), "--anchors", str(anchors_csv),
             "--scales", "10,10,5,5", "--sigmoid-score"]
        )
        == 0
    )  # fmt: skip

    theirs_cases, ours_paths, theirs_paths = [], {}, {}
    for name, (_, case) in cases.items():
        slug = name.replace(" ", "_")
        theirs_paths[name] = tmp_path / f"mediapipe_{slug}.tflite"
        ours_paths[name] = tmp_path / f"ours_{slug}.tflite"
        theirs_cases.append({**case, "save": str(theirs_paths[name])})
        outcome = our_outcome({**case, "save": str(ours_paths[name])})
        assert "error" not in outcome, (name, outcome)
    for name, outcome in zip(cases, consumer_env.run_mediapipe_writers(theirs_cases, tmp_path)):
        assert "error" not in outcome, (name, outcome)
    answers: dict[str, Any] = {}
    for task in ("detect", "segment"):
        paths = [
            path
            for name, (kind, _) in cases.items()
            if kind == task
            for path in (ours_paths[name], theirs_paths[name])
        ]
        if task == "detect":
            paths.append(written)
        answers.update(_run_mediapipe_tasks(task, paths, tmp_path / task))
    results = {}
    for name in cases:
        ours, theirs = answers[str(ours_paths[name])], answers[str(theirs_paths[name])]
        assert "images" in ours, (name, ours)
        assert ours == theirs, name
        results[name] = ours["images"]
    assert any(image["detections"] for image in results["anchors"])
    assert answers[str(written)] == answers[str(ours_paths["anchors"])]
    assert results["anchors"] != results["shifted anchors"]
    categories = {d["categories"][0][1] for i in results["anchors"] for d in i["detections"]}
    assert categories <= {"cat", "dog", "bird"} and categories
    masks = {
        name: [image["mask_sha256"] for image in results[name]]
        for name in results
        if name.startswith("deeplab")
    }
    assert masks["deeplab NONE"] == masks["deeplab SOFTMAX"]  # the same argmax
    confidence = {
        name: [image.get("confidence_sha256") for image in results[name]]
        for name in results
        if name.startswith("deeplab")
    }
    assert len({json.dumps(value) for value in confidence.values()}) == 3, confidence
    # The quality-score segmenter: its masks (output 1) are segmented; SOFTMAX changes the
    # confidence masks, not the category mask.
    plain, softmax = results["quality None"], results["quality SOFTMAX"]
    assert plain[0]["confidence_masks"] == 2 and len(plain[0]["histogram"]) == 2
    assert plain[0]["mask_sha256"] == softmax[0]["mask_sha256"]
    assert plain[0]["confidence_sha256"] != softmax[0]["confidence_sha256"]
    # LiteRT: the outputs of the models without and with metadata, identical.
    inputs = tmp_path / "inputs.f32"
    inputs.write_bytes(struct.pack("<192f", *[(i % 17 - 8) / 8 for i in range(192)]))
    request = {
        "models": [str(raw), str(ours_paths["anchors"])],
        "inputs": str(inputs),
    }
    (tmp_path / "litert").mkdir()
    run = consumer_env.run_runner(python, "litert_runner.py", request, tmp_path / "litert")
    plain, described = run[str(raw)], run[str(ours_paths["anchors"])]
    assert "outputs" in plain and plain == described
    assert any(value != 0 for value in plain["outputs"][1]["values"])


# -- write: anchors and activation ----------------------------------------------------------------


def _write_raw_detector_files(folder: Path, header: str = "") -> tuple[Path, Path, Path]:
    model = folder / "raw.tflite"
    model.write_bytes(build_raw_detector(24, 3))
    anchors = folder / "anchors.csv"
    rows = [f"{y},{x},{h},{w}" for x, y, w, h in _grid_anchors(24)]
    if header:  # the columns in FixedAnchor's order instead
        rows = [header] + [",".join(map(str, anchor)) for anchor in _grid_anchors(24)]
    anchors.write_text("\n".join(rows) + "\n\n")
    labels = folder / "labels.txt"
    labels.write_text("cat\ndog\nbird\n")
    return model, anchors, labels


def _decoded_detector_options(path: Path) -> Any:
    buffer = _metadata(path.read_bytes())
    entry = codec.decode(buffer).subgraphMetadata[0].customMetadata[0]
    assert entry.name == b"DETECTOR_METADATA"
    return codec_for(DETECTOR_SCHEMA).decode(bytes(entry.data))


@pytest.mark.parametrize("header", ["", "x_center, y_center, width, height"])
def test_write_detector_with_anchors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str
) -> None:
    model, anchors, labels = _write_raw_detector_files(tmp_path, header)
    out = tmp_path / "out.tflite"
    code, _, err = _run_cli(
        [
            "write", "object-detector", str(model), "-o", str(out), "--mean", "127.5",
            "--std", "127.5", "--labels", str(labels), "--anchors", str(anchors),
            "--scales", "10,10,5,5", "--sigmoid-score",
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    options = _decoded_detector_options(out)
    written = [
        [a.xCenter, a.yCenter, a.width, a.height]
        for a in options.ssdAnchorsOptions.fixedAnchorsSchema.anchors
    ]
    float32 = [[struct.unpack("<f", struct.pack("<f", v))[0] for v in a] for a in _grid_anchors(24)]
    assert written == float32
    decoding = options.tensorsDecodingOptions
    assert (decoding.numClasses, decoding.numBoxes, decoding.numCoords) == (3, 24, 4)
    assert (decoding.xScale, decoding.hScale, decoding.numValuesPerKeypoint) == (10.0, 5.0, 2)
    assert decoding.sigmoidScore and decoding.applyExponentialOnBoxSize
    code, shown, _ = _run_cli(["show", str(out)], capsys)
    assert "24 anchors: (x_center 0.1, y_center 0.1, width 0.3, height 0.24)" in shown
    assert "labels labels.txt: 3 labels: cat, dog, bird" in shown
    code, _, _ = _run_cli(["check", str(out)], capsys)
    assert code == 0


def test_write_detector_with_anchors_from_a_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, _, _ = _write_raw_detector_files(tmp_path)
    anchors = [dict(zip(("x_center", "y_center", "width", "height"), a)) for a in _grid_anchors(24)]
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "input": {"mean": [0.0], "std": [255.0]},
                "anchors": anchors,
                "decoding": {"x_scale": 1, "y_scale": 1, "w_scale": 1, "h_scale": 1,
                             "sigmoid_score": False, "apply_exponential_on_box_size": False},
                "outputs": {"category": {"labels": [{"name": "labels.txt",
                                                     "labels": ["a", "b", "c"]}]},
                            "location": {"tensor_name": "raw_boxes"}},
            }
        )
    )  # fmt: skip
    out = tmp_path / "out.tflite"
    code, _, err = _run_cli(
        ["write", "object-detector", str(model), "-o", str(out), "--spec", str(spec)], capsys
    )
    assert code == 0, err
    decoding = _decoded_detector_options(out).tensorsDecodingOptions
    assert (decoding.xScale, decoding.sigmoidScore, decoding.applyExponentialOnBoxSize) == (
        1.0, False, False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("0.1,0.2,0.3\n", [], r"anchors\.csv:1: expected four finite numbers"),
        ("x,y,w,h\n0.1,0.2,0.3,0.4\n", [], r"anchors\.csv:1: a header line names"),
        ("0.1,0.2,0.3,nan\n", [], "expected four finite numbers"),
        ("# nothing\n\n", [], "no anchors"),
        ("0.1,0.2,0.3,0.4\n", ["--no-scales"], "the four box scales are required"),
        ("0.1,0.2,0.3,0.4\n", ["--no-sigmoid"], "sigmoid_score"),
    ],
)
def test_write_detector_anchor_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, extra: list[str], message: str
) -> None:
    model, anchors, _ = _write_raw_detector_files(tmp_path)
    anchors.write_text(content)
    args = ["write", "object-detector", str(model), "-o", str(tmp_path / "out.tflite")]
    args += ["--mean", "127.5", "--std", "127.5", "--anchors", str(anchors)]
    if "--no-scales" not in extra:
        args += ["--scales", "10,10,5,5"]
    if "--no-sigmoid" not in extra:
        args += ["--sigmoid-score"]
    code, _, err = _run_cli(args, capsys)
    assert code != 0
    import re

    assert re.search(message, err), err
    assert not (tmp_path / "out.tflite").exists()


def test_write_detector_anchors_need_two_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    four = tmp_path / "four.tflite"
    four.write_bytes(
        build_detector_outputs(
            outputs=[("b", (1, 10, 4), "float32"), ("c", (1, 10), "float32"),
                     ("s", (1, 10), "float32"), ("n", (1,), "float32")]
        )
    )  # fmt: skip
    _, anchors, _ = _write_raw_detector_files(tmp_path)
    code, _, err = _run_cli(
        ["write", "object-detector", str(four), "-o", str(tmp_path / "o.tflite"),
         "--anchors", str(anchors), "--scales", "1,1,1,1", "--no-sigmoid-score"],
        capsys,
    )  # fmt: skip
    assert code != 0 and "has 4 outputs" in err


def test_write_segmenter_activation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "seg.tflite"
    model.write_bytes(build_detector_outputs(outputs=[("masks", (1, 4, 4, 2), "float32")]))
    out = tmp_path / "out.tflite"
    code, _, err = _run_cli(
        ["write", "image-segmenter", str(model), "-o", str(out), "--mean", "127.5",
         "--std", "127.5", "--activation", "softmax"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    code, shown, _ = _run_cli(["show", str(out)], capsys)
    assert (
        "custom metadata SEGMENTER_METADATA: image segmenter options: activation SOFTMAX" in shown
    )
    document = json.loads(_run_cli(["show", "--json", str(out)], capsys)[1])
    custom = document["subgraph_metadata"][0]["custom_metadata"]
    assert custom == [{"name": "SEGMENTER_METADATA", "data": {"activation": "SOFTMAX"}}]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"output": {"activation": "TANH"}}))
    code, _, err = _run_cli(
        ["write", "image-segmenter", str(model), "-o", str(out), "--spec", str(spec),
         "--mean", "127.5", "--std", "127.5"],
        capsys,
    )  # fmt: skip
    assert code != 0 and "output.activation: expected one of NONE, SIGMOID, SOFTMAX" in err


def _raw_detector_with(data: bytes, model: bytes) -> bytes:
    """``model`` (raw boxes, then scores) described by MediaPipe's builder, with ``data``."""
    from tflite_metadata import metadata_schema_py_generated as fb
    from tflite_metadata.mediapipe.metadata_writers import metadata_info

    class Custom(metadata_info.CustomMetadataMd):
        def create_metadata(self) -> Any:
            custom = fb.CustomMetadataT()
            custom.name = self.name
            custom.data = data
            return custom

    writer = metadata_writer.MetadataWriter.create(model).add_image_input([127.5], [127.5])
    labels = metadata_writer.Labels().add(["cat", "dog", "bird"])
    writer.add_raw_detection_output(labels, metadata_info_order("LOCATION_SCORE"))
    writer.add_custom_metadata(Custom("DETECTOR_METADATA"))
    populated, _ = _populate(writer)
    return populated


@pytest.mark.reference
@pytest.mark.consumers
@pytest.mark.slow
def test_check_agrees_with_mediapipe_on_raw_detectors(tmp_path: Path) -> None:
    """``check`` finds a problem exactly where MediaPipe's ObjectDetector fails or dies.

    Each variant runs in its own process: MediaPipe aborts or crashes on most.
    """
    import subprocess

    from tflite_metadata.check import check

    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "the MediaPipe environment")
    assert python is not None
    model = build_raw_detector(24, 3)

    def options(anchors: int = 24, **changes: Any) -> bytes:
        grid = [object_detector.FixedAnchor(*a) for a in _grid_anchors(anchors)]
        ssd = object_detector.SsdAnchorsOptions(object_detector.FixedAnchorsSchema(grid))
        md = object_detector.ObjectDetectorOptionsMd(ssd, _decoding(3, 24, **changes))
        return md.options_buffer()

    without_anchors = codec_for(DETECTOR_SCHEMA).objects["ObjectDetectorOptions"]()
    decoding = codec_for(DETECTOR_SCHEMA).objects["TensorsDecodingOptions"]()
    decoding.numClasses, decoding.numBoxes, decoding.numCoords = 3, 24, 4
    decoding.numValuesPerKeypoint = 2
    without_anchors.tensorsDecodingOptions = decoding
    variants = {
        "valid": options(),
        "fewer anchors": options(anchors=23),
        "more anchors": options(anchors=25),
        "no anchors": codec_for(DETECTOR_SCHEMA).encode(without_anchors),
        "keypoint values 0": options(num_values_per_keypoint=0),
        "a keypoint, 4 coordinates": options(num_keypoints=1),
        "num_classes 4": options(num_classes=4),
        "num_boxes 0": options(num_boxes=0),
    }
    image = shared(TFLITE_SUPPORT / "images" / "burger.jpg")
    outcomes = {}
    for name, data in variants.items():
        path = tmp_path / (name.replace(" ", "_").replace(",", "") + ".tflite")
        path.write_bytes(_raw_detector_with(data, model))
        request = tmp_path / f"{path.stem}.json"
        request.write_text(
            json.dumps({"task": "detect", "models": [str(path)], "images": [str(image)]})
        )
        proc = subprocess.run(
            [python, str(consumer_env.RUNNERS / "mediapipe_runner.py"), str(request)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**__import__("os").environ, "GLOG_minloglevel": "3"},
        )
        answer = next(
            (
                json.loads(line[len(consumer_env.MARKER) :])[str(path)]
                for line in proc.stdout.splitlines()
                if line.startswith(consumer_env.MARKER)
            ),
            {"error": f"the process died (exit {proc.returncode})"},
        )
        problems = [str(p) for p in check(path.read_bytes(), task="object-detector")]
        outcomes[name] = ("images" in answer, problems, answer.get("error"))
    for name, (runs, problems, error) in outcomes.items():
        assert runs == (not problems), (name, problems, error)
    assert outcomes["valid"][0] and not outcomes["no anchors"][0]
