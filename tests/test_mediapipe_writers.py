"""MediaPipe's metadata writers (``tflite_metadata.mediapipe``): goldens, bugs, differential.

* MediaPipe's goldens (``../shared/testdata/mediapipe/``): its ``metadata_info``
  tests' single descriptions, and its image and text classifier writers' models,
  made from the tflite-support models they were made from.
* MediaPipe's bugs, done right: one ``TensorMetadata`` per tensor, the raw
  detector's default order, no ``__del__``, the calibration file's last newline,
  exported file names that leave their folder.
* Differential: seeded random cases run by MediaPipe's own writers (in its
  environment, ``tests/consumers/mediapipe_writer_runner.py``) and by ours give
  the same metadata buffer, the same JSON and the same packed files (the
  calibration file without its final newline).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import flatbuffers
import pytest

import consumer_env
from tflite_metadata import metadata_schema_py_generated as fb
from tflite_metadata._model_builder import (
    build_audio_classifier,
    build_bert_classifier,
    build_detector_outputs,
    build_image_classifier,
    build_image_segmenter,
)
from tflite_metadata.errors import MetadataValidationError
from tflite_metadata.format import codec
from tflite_metadata.mediapipe import metadata as mp_metadata
from tflite_metadata.mediapipe.metadata_writers import (
    image_classifier,
    image_segmenter,
    metadata_info,
    metadata_writer,
    object_detector,
    text_classifier,
    writer_utils,
)
from tflite_metadata.model.reader import ModelView

if str(consumer_env.RUNNERS) not in sys.path:
    sys.path.append(str(consumer_env.RUNNERS))
import mp_writer_cases

SHARED = consumer_env.ROOT.parent / "shared" / "testdata"
GOLDENS = SHARED / "mediapipe"
TFLITE_SUPPORT = SHARED / "tflite-support"

OURS = {
    "metadata_writer": metadata_writer,
    "metadata_info": metadata_info,
    "metadata_schema": fb,
    "image_classifier": image_classifier,
    "image_segmenter": image_segmenter,
    "object_detector": object_detector,
    "text_classifier": text_classifier,
}


def shared(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return path


def quietly_populate(writer: Any) -> tuple[bytes, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result: tuple[bytes, str] = writer.populate()
    return result


def our_outcome(case: dict[str, Any]) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result: dict[str, Any] = mp_writer_cases.outcome(
            case, OURS, mp_metadata.get_metadata_buffer
        )
    return result


# -- MediaPipe's metadata_info goldens ---------------------------------------------------------


def _with_input_tensor(tensor_metadata: Any) -> bytes:
    subgraph = fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [tensor_metadata]
    model_metadata = fb.ModelMetadataT()
    model_metadata.subgraphMetadata = [subgraph]
    return codec.encode(model_metadata)


def _with_process_unit(unit: Any) -> bytes:
    subgraph = fb.SubGraphMetadataT()
    subgraph.inputProcessUnits = [unit]
    model_metadata = fb.ModelMetadataT()
    model_metadata.subgraphMetadata = [subgraph]
    return codec.encode(model_metadata)


def _with_tensor_group(group: Any) -> bytes:
    subgraph = fb.SubGraphMetadataT()
    subgraph.outputTensorGroups = [group]
    model_metadata = fb.ModelMetadataT()
    model_metadata.subgraphMetadata = [subgraph]
    return codec.encode(model_metadata)


def _tensor_md(content_type: int) -> bytes:
    md = metadata_info.TensorMd(
        name="input",
        description="The input tensor.",
        min_values=[0],
        max_values=[1],
        content_type=content_type,
        associated_files=[
            metadata_info.AssociatedFileMd(file_path="labels.txt", locale="en"),
            metadata_info.AssociatedFileMd(file_path="labels_cn.txt", locale="cn"),
        ],
    )
    return _with_input_tensor(md.create_metadata())


def _image_md(tensor_type: int) -> bytes:
    md = metadata_info.InputImageTensorMd(
        name="image",
        description="The input image.",
        norm_mean=[0, 127.5, 255],
        norm_std=[127.5, 127.5, 127.5],
        color_space_type=fb.ColorSpaceType.RGB,
        tensor_type=tensor_type,
    )
    return _with_input_tensor(md.create_metadata())


def _classification_md(tensor_type: int) -> bytes:
    calibration = metadata_info.ScoreCalibrationMd(
        fb.ScoreTransformationType.IDENTITY, 0.2, str(shared(GOLDENS / "score_calibration.txt"))
    )
    md = metadata_info.ClassificationTensorMd(
        name="probability",
        description="The classification result tensor.",
        label_files=[
            metadata_info.LabelFileMd(file_path="labels.txt", locale="en"),
            metadata_info.LabelFileMd(file_path="labels_cn.txt", locale="cn"),
        ],
        tensor_type=tensor_type,
        score_calibration_md=calibration,
    )
    return _with_input_tensor(md.create_metadata())


def _general() -> bytes:
    md = metadata_info.GeneralMd("model", "v1", "A ML model.", "MediaPipe", "Apache")
    return codec.encode(md.create_metadata())


def _associated_file() -> bytes:
    md = metadata_info.AssociatedFileMd(
        "label.txt", "The label file.", fb.AssociatedFileType.TENSOR_AXIS_LABELS, "en"
    )
    model_metadata = fb.ModelMetadataT()
    model_metadata.associatedFiles = [md.create_metadata()]
    return codec.encode(model_metadata)


def _calibration_file_md() -> bytes:
    md = metadata_info.ScoreCalibrationMd(
        fb.ScoreTransformationType.LOG, 0.2, str(shared(GOLDENS / "score_calibration.txt"))
    )
    model_metadata = fb.ModelMetadataT()
    model_metadata.associatedFiles = [md.create_score_calibration_file_md().create_metadata()]
    return codec.encode(model_metadata)


def _calibration_unit() -> bytes:
    md = metadata_info.ScoreCalibrationMd(
        fb.ScoreTransformationType.LOG, 0.2, str(shared(GOLDENS / "score_calibration.txt"))
    )
    return _with_process_unit(md.create_metadata())


def _category_md() -> bytes:
    md = metadata_info.CategoryTensorMd(
        name="category",
        description="The category tensor.",
        label_files=[
            metadata_info.LabelFileMd(file_path="labels.txt", locale="en"),
            metadata_info.LabelFileMd(file_path="labels_cn.txt", locale="cn"),
        ],
    )
    return _with_input_tensor(md.create_metadata())


INFO_GOLDENS = {
    "general_meta.json": _general,
    "associated_file_meta.json": _associated_file,
    "feature_tensor_meta.json": lambda: _tensor_md(fb.ContentProperties.FeatureProperties),
    "image_tensor_meta.json": lambda: _tensor_md(fb.ContentProperties.ImageProperties),
    "bounding_box_tensor_meta.json": lambda: _tensor_md(fb.ContentProperties.BoundingBoxProperties),
    "input_image_tensor_float_meta.json": lambda: _image_md(0),
    "input_image_tensor_uint8_meta.json": lambda: _image_md(3),
    "input_image_tensor_unsupported_meta.json": lambda: _image_md(7),
    "input_text_tensor_meta.json": lambda: _with_input_tensor(
        metadata_info.InputTextTensorMd(
            "input text",
            "The input string.",
            metadata_info.RegexTokenizerMd(r"[^\w\']+", "vocab.txt"),
        ).create_metadata()
    ),
    "input_text_tensor_default_meta.json": lambda: _with_input_tensor(
        metadata_info.InputTextTensorMd().create_metadata()
    ),
    "classification_tensor_float_meta.json": lambda: _classification_md(0),
    "classification_tensor_uint8_meta.json": lambda: _classification_md(3),
    "classification_tensor_unsupported_meta.json": lambda: _classification_md(7),
    "score_calibration_tensor_meta.json": _calibration_unit,
    "score_calibration_file_meta.json": _calibration_file_md,
    "score_thresholding_meta.json": lambda: _with_process_unit(
        metadata_info.ScoreThresholdingMd(global_score_threshold=0.5).create_metadata()
    ),
    "bert_tokenizer_meta.json": lambda: _with_process_unit(
        metadata_info.BertTokenizerMd("vocab.txt").create_metadata()
    ),
    "sentence_piece_tokenizer_meta.json": lambda: _with_process_unit(
        metadata_info.SentencePieceTokenizerMd("sp.model", "vocab.txt").create_metadata()
    ),
    "category_tensor_float_meta.json": _category_md,
    "tensor_group_meta.json": lambda: _with_tensor_group(
        metadata_info.TensorGroupMd(
            name="detection_result", tensor_names=["location", "category", "score"]
        ).create_metadata()
    ),
    "segmentation_mask_meta.json": lambda: _with_input_tensor(
        metadata_info.SegmentationMaskMd(
            name="segmentation_masks", description="Masks over the target objects."
        ).create_metadata()
    ),
}


@pytest.mark.parametrize("golden", sorted(INFO_GOLDENS))
def test_metadata_info_goldens(golden: str) -> None:
    """Each description's metadata, as JSON, is MediaPipe's golden, byte for byte."""
    expected = shared(GOLDENS / golden).read_text()
    assert mp_metadata.convert_to_json(INFO_GOLDENS[golden]()) == expected


def test_metadata_info_signatures_are_mediapipes() -> None:
    """MediaPipe's positional orders and defaults, where they differ from tflite-support's."""
    model = build_bert_classifier(input_names=("a", "b", "c"))
    tokenizer = metadata_info.BertTokenizerMd("vocab.txt")
    bert = metadata_info.BertInputTensorsMd(model, "a", "c", "b", tokenizer)  # tokenizer 5th
    assert [md.tensor_name for md in bert.input_md] == ["a", "c", "b"]
    assert [md.name for md in bert.input_md] == ["ids", "mask", "segment_ids"]
    assert bert.get_tokenizer_associated_files() == ["vocab.txt"]
    masks = metadata_info.SegmentationMaskMd()
    assert masks.name is None and masks.description is None
    value_range = metadata_info.ValueRangeMd(1, 2)
    tensor = metadata_info.TensorMd("t", None, None, None, 0, None, None, value_range)
    assert tensor.create_metadata().content.range.max == 2
    head = metadata_info.ClassificationTensorMd(
        "s", None, None, None, None, None, metadata_info.ScoreThresholdingMd(0.25), value_range
    ).create_metadata()
    assert [unit.options.globalScoreThreshold for unit in head.processUnits] == [0.25]
    assert head.content.range.min == 1
    location = metadata_info.LocationTensorMd("l", "d", value_range).create_metadata()
    assert location.content.contentProperties.index == [1, 0, 3, 2]


def test_custom_metadata_md_is_abstract() -> None:
    with pytest.raises(TypeError):
        metadata_info.CustomMetadataMd("name")  # type: ignore[abstract]


# -- MediaPipe's writer goldens -----------------------------------------------------------------


def test_image_classifier_golden() -> None:
    """MediaPipe's image classifier test: the JSON is its golden; the calibration its file."""
    model = shared(TFLITE_SUPPORT / "image_classifier" / "mobilenet_v2_1.0_224_quant.tflite")
    calibration_file = shared(GOLDENS / "score_calibration.txt")
    writer = image_classifier.MetadataWriter.create(
        model.read_bytes(),
        [127.5],
        [127.5],
        labels=metadata_writer.Labels().add_from_file(str(shared(GOLDENS / "labels.txt"))),
        score_calibration=metadata_writer.ScoreCalibration.create_from_file(
            fb.ScoreTransformationType.LOG, str(calibration_file), 0.2
        ),
    )
    populated, metadata_json = quietly_populate(writer)
    assert metadata_json == (GOLDENS / "mobilenet_v2_1.0_224_quant.json").read_text()
    displayer = mp_metadata.MetadataDisplayer.with_model_buffer(populated)
    packed = displayer.get_associated_file_buffer("score_calibration.txt")
    source = calibration_file.read_bytes()
    # MediaPipe packs the file as it is, its last newline included (one row too
    # many for MediaPipe Tasks); ours is the same without it.
    assert source.endswith(b"\n") and packed == source[:-1]
    assert displayer.get_associated_file_buffer("labels.txt") == (
        (GOLDENS / "labels.txt").read_bytes()
    )


def test_regex_text_classifier_golden() -> None:
    model = shared(TFLITE_SUPPORT / "nl_classifier" / "movie_review.tflite")
    writer = text_classifier.MetadataWriter.create_for_regex_model(
        model.read_bytes(),
        regex_tokenizer=metadata_writer.RegexTokenizer(
            delim_regex_pattern=r"[^\w\']+",
            vocab_file_path=str(shared(GOLDENS / "regex_vocab.txt")),
        ),
        labels=metadata_writer.Labels().add_from_file(
            str(shared(GOLDENS / "movie_review_labels.txt"))
        ),
    )
    populated, metadata_json = quietly_populate(writer)
    assert metadata_json == shared(GOLDENS / "movie_review.json").read_text()
    displayer = mp_metadata.MetadataDisplayer.with_model_buffer(populated)
    assert displayer.get_associated_file_buffer("regex_vocab.txt") == (
        (GOLDENS / "regex_vocab.txt").read_bytes()
    )


@pytest.mark.parametrize(
    ("golden", "tokenizer"),
    [
        ("bert_text_classifier_with_bert_tokenizer.json", "bert"),
        ("bert_text_classifier_with_sentence_piece.json", "sentence_piece"),
    ],
)
def test_bert_text_classifier_goldens(golden: str, tokenizer: str, tmp_path: Path) -> None:
    """MediaPipe's BERT goldens, on a model with Model Maker's input names (ours, built).

    The JSON names no tensor of the model (the inputs' metadata names are
    ``ids``, ``mask`` and ``segment_ids``), so a model with the same inputs gives it.
    """
    expected = shared(GOLDENS / golden).read_text()
    model = build_bert_classifier(classes=2)
    if tokenizer == "bert":
        chosen: Any = metadata_writer.BertTokenizer(str(shared(GOLDENS / "mobilebert_vocab.txt")))
    else:
        source = shared(TFLITE_SUPPORT / "bert_nl_classifier" / "sentencepiece.model")
        sp_model = tmp_path / "30k-clean.model"  # the name MediaPipe's golden records
        sp_model.write_bytes(source.read_bytes())
        chosen = metadata_writer.SentencePieceTokenizer(str(sp_model))
    writer = text_classifier.MetadataWriter.create_for_bert_model(
        model,
        tokenizer=chosen,
        labels=metadata_writer.Labels().add_from_file(
            str(shared(GOLDENS / "movie_review_labels.txt"))
        ),
    )
    assert quietly_populate(writer)[1] == expected


def test_object_detector_efficientdet_golden() -> None:
    """MediaPipe's ``test_create_should_succeed("efficientdet_lite0_v1")``.

    Its model is not in the shared data; the project's builder makes one with the
    same tensors (names, shapes, order): EfficientDet-Lite0's four NMS outputs,
    listed score, location, number, class while the writer wants location,
    class, score, number, so the golden proves the outputs are reordered.
    """
    model = build_detector_outputs(
        outputs=[
            ("loc", (1, 25, 4), "float32"),
            ("cls", (1, 25), "float32"),
            ("score", (1, 25), "float32"),
            ("num", (1,), "float32"),
        ],
        order=[2, 0, 3, 1],
        height=320,
        width=320,
        input_type="uint8",
    )
    writer = object_detector.MetadataWriter.create_for_models_with_nms(
        model,
        [127.5],
        [127.5],
        labels=metadata_writer.Labels().add_from_file(str(shared(GOLDENS / "labelmap.txt"))),
    )
    _, metadata_json = quietly_populate(writer)
    assert metadata_json == shared(GOLDENS / "efficientdet_lite0_v1.json").read_text().strip()


@pytest.mark.parametrize("calibrated", [False, True])
def test_object_detector_goldens(calibrated: bool) -> None:
    """MediaPipe's object detector test, on tflite-support's SSD MobileNet v1 (the same model)."""
    data = TFLITE_SUPPORT / "object_detector"
    model = shared(data / "ssd_mobilenet_v1.tflite").read_bytes()
    calibration = None
    calibration_file = data / "score_calibration.csv"
    if calibrated:
        calibration = metadata_writer.ScoreCalibration.create_from_file(
            fb.ScoreTransformationType.INVERSE_LOGISTIC, str(shared(calibration_file)), 0.2
        )
    writer = object_detector.MetadataWriter.create_for_models_with_nms(
        model,
        [127.5],
        [127.5],
        labels=metadata_writer.Labels().add_from_file(str(shared(GOLDENS / "labelmap.txt"))),
        score_calibration=calibration,
    )
    populated, metadata_json = quietly_populate(writer)
    golden = (
        "coco_ssd_mobilenet_v1_score_calibration" if calibrated else "ssd_mobilenet_v1_no_metadata"
    )
    # MediaPipe's detector writer gives json.dumps(indent=2) of the JSON (it asks
    # convert_to_json to decode its custom metadata); its test strips the golden.
    assert metadata_json == shared(GOLDENS / f"{golden}.json").read_text().strip()
    if calibrated:
        displayer = mp_metadata.MetadataDisplayer.with_model_buffer(populated)
        packed = displayer.get_associated_file_buffer("score_calibration.txt")
        assert packed + b"\n" == calibration_file.read_bytes()


@pytest.mark.parametrize("with_labels", [True, False])
def test_image_segmenter_goldens(with_labels: bool) -> None:
    """MediaPipe's image segmenter test, on tflite-support's DeepLab v3 (the same model)."""
    model = shared(TFLITE_SUPPORT / "image_segmenter" / "deeplabv3.tflite").read_bytes()
    label_file = GOLDENS / "segmenter_labelmap.txt"
    labels = None
    if with_labels:
        labels = metadata_writer.Labels().add_from_file(str(shared(label_file)))
    writer = image_segmenter.MetadataWriter.create(model, [127.5], [127.5], labels=labels)
    populated, metadata_json = quietly_populate(writer)
    golden = "deeplabv3" if with_labels else "deeplabv3_without_labels"
    assert metadata_json == shared(GOLDENS / f"{golden}.json").read_text().strip()
    if with_labels:
        displayer = mp_metadata.MetadataDisplayer.with_model_buffer(populated)
        assert displayer.get_associated_file_buffer("labels.txt") == label_file.read_bytes()


def test_image_segmenter_activation_golden() -> None:
    """MediaPipe's ``test_create_with_activation``: DeepLab v3 without labels, SIGMOID."""
    model = shared(TFLITE_SUPPORT / "image_segmenter" / "deeplabv3.tflite").read_bytes()
    writer = image_segmenter.MetadataWriter.create(
        model, [127.5], [127.5], activation=image_segmenter.Activation.SIGMOID
    )
    populated, metadata_json = quietly_populate(writer)
    golden = shared(GOLDENS / "deeplabv3_with_activation.json").read_text()
    assert metadata_json == golden.strip()
    buffer = mp_metadata.get_metadata_buffer(populated)
    assert image_segmenter.convert_to_json(buffer) == metadata_json
    # MediaPipe's segmenter options buffer: identifier V001, activation 1.
    data = codec.decode(buffer).subgraphMetadata[0].customMetadata[0].data
    assert bytes(data) == bytes.fromhex("100000005630303100000600080007000600000000000001")


def test_image_segmenter_refuses_what_is_not_an_activation() -> None:
    model = build_detector_outputs(outputs=[("masks", (1, 4, 4, 2), "float32")])
    for bad in (1, "SIGMOID", metadata_info.RawDetectionOutputTensorsOrder.LOCATION_SCORE):
        with pytest.raises(MetadataValidationError, match="activation should be an Activation"):
            image_segmenter.MetadataWriter.create(model, [127.5], [127.5], activation=bad)


def test_metadata_test_golden_json(tmp_path: Path) -> None:
    """MediaPipe's ``metadata_test.py`` golden: its two-input model, two associated files.

    Made as MediaPipe's test makes it: a model of three buffers and two ``meta``
    metadata entries, populated from a metadata file with ``file1`` (model) and
    ``file2`` (output); ``convert_to_json`` of the displayed buffer, and of the
    metadata file with ``min_parser_version`` 1.0.0, gives the golden.
    """
    from tflite_metadata import schema_py_generated as schema_fb

    golden = shared(GOLDENS / "golden_json.json").read_text()
    subgraph = schema_fb.SubGraphT()
    subgraph.inputs = [0, 1]
    subgraph.outputs = [2]
    meta = schema_fb.MetadataT()
    meta.name = "meta"
    model = schema_fb.ModelT()
    model.subgraphs = [subgraph]
    model.metadata = [meta, meta]
    model.buffers = [schema_fb.BufferT() for _ in range(3)]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), b"TFL3")
    model_file = tmp_path / "model.tflite"
    model_file.write_bytes(builder.Output())

    file1 = fb.AssociatedFileT()
    file1.name = "file1"
    file2 = fb.AssociatedFileT()
    file2.name = "file2"
    output_meta = fb.TensorMetadataT()
    output_meta.associatedFiles = [file2]
    sub_meta = fb.SubGraphMetadataT()
    sub_meta.inputTensorMetadata = [fb.TensorMetadataT(), fb.TensorMetadataT()]
    sub_meta.outputTensorMetadata = [output_meta]
    model_meta = fb.ModelMetadataT()
    model_meta.name = "Mobilenet_quantized"
    model_meta.associatedFiles = [file1]
    model_meta.subgraphMetadata = [sub_meta]
    builder = flatbuffers.Builder(0)
    builder.Finish(model_meta.Pack(builder), b"M001")
    metadata_file = tmp_path / "metadata.bin"
    metadata_file.write_bytes(builder.Output())
    (tmp_path / "file1").write_bytes(b"")
    (tmp_path / "file2").write_bytes(b"file2_content")

    populator = mp_metadata.MetadataPopulator.with_model_file(str(model_file))
    populator.load_metadata_file(str(metadata_file))
    populator.load_associated_files([str(tmp_path / "file1"), str(tmp_path / "file2")])
    populator.populate()
    displayer = mp_metadata.MetadataDisplayer.with_model_file(str(model_file))
    assert mp_metadata.convert_to_json(displayer.get_metadata_buffer()) == golden
    assert displayer.get_metadata_json() == golden
    assert displayer.get_associated_file_buffer("file2") == b"file2_content"
    assert sorted(displayer.get_packed_associated_file_list()) == ["file1", "file2"]

    model_meta.minParserVersion = "1.0.0"
    builder = flatbuffers.Builder(0)
    builder.Finish(model_meta.Pack(builder), b"M001")
    assert mp_metadata.convert_to_json(bytes(builder.Output())) == golden


def test_face_stylizer_is_not_mediapipes_to_replace() -> None:
    """``face_stylizer.json`` has no writer to test: MediaPipe ships none.

    MediaPipe's ``face_stylizer_test.py`` imports
    ``metadata_writers.face_stylizer``, but that module is neither in its source
    tree's ``metadata_writers/`` nor in the mediapipe wheel, so its golden is out
    of scope: there is no ``metadata_writers.X`` to be a drop-in for.
    """
    from tflite_metadata.mediapipe import metadata_writers

    assert not hasattr(metadata_writers, "face_stylizer")
    with pytest.raises(ImportError):
        __import__("tflite_metadata.mediapipe.metadata_writers.face_stylizer")
    python = consumer_env.mediapipe_python()
    if python is None:
        pytest.skip("MediaPipe's environment is not available")
    where = subprocess.run(
        [python, "-c", "import importlib.util as u; "
         "print(u.find_spec('mediapipe').submodule_search_locations[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    writers = Path(where) / "tasks" / "python" / "metadata" / "metadata_writers"
    assert (writers / "object_detector.py").is_file()
    assert not (writers / "face_stylizer.py").exists()


def test_builder_example_json() -> None:
    """MediaPipe's metadata_writer test (feature input and output), as JSON values."""
    model = build_audio_classifier(input_samples=16, heads=[3])
    writer = metadata_writer.MetadataWriter.create(model)
    writer.add_general_info(model_name="my_model", model_description="my_description")
    writer.add_feature_input(name="input_tesnor", description="a feature input tensor")
    writer.add_feature_output(name="output_tesnor", description="a feature output tensor")
    _, metadata_json = quietly_populate(writer)
    feature = {"content_properties_type": "FeatureProperties", "content_properties": {}}
    assert json.loads(metadata_json) == {
        "name": "my_model",
        "description": "my_description",
        "subgraph_metadata": [
            {
                "input_tensor_metadata": [
                    {
                        "name": "input_tesnor",
                        "description": "a feature input tensor",
                        "content": feature,
                        "stats": {},
                    }
                ],
                "output_tensor_metadata": [
                    {
                        "name": "output_tesnor",
                        "description": "a feature output tensor",
                        "content": feature,
                        "stats": {},
                    }
                ],
            }
        ],
        "min_parser_version": "1.0.0",
    }


# -- helpers of the builder -----------------------------------------------------------------------


def test_labels_file_names_and_locales(tmp_path: Path) -> None:
    labels_file = tmp_path / "en.txt"
    labels_file.write_bytes(b"a\r\nb")
    labels = metadata_writer.Labels().add(["x", "y"])
    labels.add_from_file(str(labels_file), "en").add(["A", "B"], "fr", exported_filename="f.txt")
    assert labels.labels == [
        metadata_writer.LabelItem("labels.txt", ["x", "y"], None),
        metadata_writer.LabelItem("labels_en.txt", ["a", "b"], "en"),
        metadata_writer.LabelItem("f.txt", ["A", "B"], "fr"),
    ]
    with pytest.raises(ValueError, match=r"The list of labels is empty\."):
        metadata_writer.Labels().add([])
    with pytest.raises(MetadataValidationError, match="line break"):
        metadata_writer.Labels().add(["a\nb"])


def test_score_calibration_from_file(tmp_path: Path) -> None:
    calibration = metadata_writer.ScoreCalibration.create_from_file(
        metadata_writer.ScoreCalibration.transformation_types.LOG,
        str(shared(GOLDENS / "score_calibration.txt")),
    )
    assert len(calibration.parameters) == 511 and calibration.parameters[0] is None
    assert calibration.parameters[1] == metadata_writer.CalibrationParameter(
        0.9876328110694885, 0.36622241139411926, 0.5352765321731567, 0.71484375
    )
    assert calibration.default_score == 0
    bad = tmp_path / "c.csv"
    bad.write_text("0.98,0.5\n")
    with pytest.raises(ValueError, match=r"3 or 4 parameters per line .* but got 2\."):
        metadata_writer.ScoreCalibration.create_from_file(0, str(bad))
    bad.write_text("-0.98,0.5,0.34\n")
    with pytest.raises(ValueError, match=r"non-negative value, but got -0\.98\."):
        metadata_writer.ScoreCalibration.create_from_file(0, str(bad))
    bad.write_text("0.98,x,0.34\n")
    with pytest.raises(MetadataValidationError, match="line 1: 'x' is not a number"):
        metadata_writer.ScoreCalibration.create_from_file(0, str(bad))


def test_writer_utils() -> None:
    model = build_detector_outputs(
        outputs=[("a", (1, 4), "float32"), ("b", (1,), "float32")], order=[1, 0]
    )
    assert writer_utils.get_output_tensor_names(model) == ["b", "a"]
    indices = writer_utils.get_output_tensor_indices(model)
    try:
        import numpy  # noqa: F401
    except ImportError:  # the suite on other Pythons runs without numpy
        assert indices == [2, 1]
    else:
        # MediaPipe's: the subgraph's OutputsAsNumpy(), an int32 numpy array.
        assert type(indices).__name__ == "ndarray" and str(indices.dtype) == "int32"
        assert indices.tolist() == [2, 1]
    assert writer_utils.get_input_tensor_types(model) == [3]
    subgraph = writer_utils.get_subgraph(model)
    assert subgraph.OutputsLength() == 2 and [subgraph.Outputs(i) for i in range(2)] == [2, 1]
    assert subgraph.Tensors(subgraph.Outputs(0)).Name() == b"b"


# -- MediaPipe's bugs, done right -----------------------------------------------------------------


def _names(populated: bytes, kind: str) -> list[str]:
    metadata = ModelView(populated).metadata_buffer()
    assert metadata is not None
    subgraph = codec.decode(metadata).subgraphMetadata[0]
    tensors = subgraph.inputTensorMetadata if kind == "input" else subgraph.outputTensorMetadata
    return [tensor.name.decode() for tensor in tensors]


def test_each_tensor_without_description_keeps_its_own_name() -> None:
    """MediaPipe shared one TensorMetadataT: every tensor got the first one's name."""
    model = build_bert_classifier(input_names=("ids", "mask", "segment"))
    populated, _ = quietly_populate(
        metadata_writer.MetadataWriter.create(model).add_general_info("m")
    )
    assert _names(populated, "input") == ["ids", "mask", "segment"]
    model = build_audio_classifier(input_samples=8, heads=[2, 3], output_names=["s0", "s1"])
    populated, _ = quietly_populate(metadata_writer.MetadataWriter.create(model))
    assert _names(populated, "output") == ["s0", "s1"]


def _raw_detector(order: list[int]) -> bytearray:
    return build_detector_outputs(
        outputs=[("boxes", (1, 10, 4), "float32"), ("scores", (1, 10, 3), "float32")],
        order=order,
    )


@pytest.mark.parametrize("order", [[0, 1], [1, 0]])
def test_raw_detection_output_default_order_reads_the_shapes(order: list[int]) -> None:
    """MediaPipe's default (UNSPECIFIED) always raised "Unsupported OutputTensorsOrder value"."""
    writer = metadata_writer.MetadataWriter.create(_raw_detector(order))
    writer.add_raw_detection_output(metadata_writer.Labels().add(["a", "b", "c"]))
    populated, _ = quietly_populate(writer)
    expected = {"boxes": "location", "scores": "score"}
    tensor_names = writer_utils.get_output_tensor_names(populated)
    assert _names(populated, "output") == [expected[name] for name in tensor_names]


def test_raw_detection_output_ambiguous_shapes_are_an_error() -> None:
    model = build_detector_outputs(
        outputs=[("a", (1, 10, 4), "float32"), ("b", (1, 10, 4), "float32")]
    )
    writer = metadata_writer.MetadataWriter.create(model)
    with pytest.raises(MetadataValidationError, match="Give output_tensors_order"):
        writer.add_raw_detection_output()
    order = metadata_info.RawDetectionOutputTensorsOrder.SCORE_LOCATION
    populated, _ = quietly_populate(writer.add_raw_detection_output(output_tensors_order=order))
    assert _names(populated, "output") == ["score", "location"]


def test_no_error_at_interpreter_exit(tmp_path: Path) -> None:
    """MediaPipe's __del__ raised at exit ('NoneType' object has no attribute 'path')."""
    script = (
        "from tflite_metadata.mediapipe.metadata_writers import metadata_writer as w\n"
        "from tflite_metadata._model_builder import build_image_classifier\n"
        "writer = w.MetadataWriter.create(build_image_classifier(height=4, width=4, classes=2))\n"
        "writer.add_image_input([127.5], [127.5]).add_classification_output(\n"
        "    w.Labels().add(['a', 'b']),\n"
        "    w.ScoreCalibration(0, [w.CalibrationParameter(1, 2, 3)] * 2))\n"
        "model, _ = writer.populate()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0 and proc.stderr == ""


def test_calibration_file_has_no_trailing_newline() -> None:
    model = build_image_classifier(height=4, width=4, classes=3)
    calibration = metadata_writer.ScoreCalibration(
        metadata_writer.ScoreCalibration.transformation_types.LOG,
        [
            metadata_writer.CalibrationParameter(1.0, 2.0, 3.0),
            None,
            metadata_writer.CalibrationParameter(1, 2, 3, 0.5),
        ],
        0.2,
    )
    writer = metadata_writer.MetadataWriter.create(model).add_image_input([127.5], [127.5])
    writer.add_classification_output(metadata_writer.Labels().add(["a", "b", "c"]), calibration)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # three rows for three classes: no consumer problem
        populated, _ = writer.populate()
    displayer = mp_metadata.MetadataDisplayer.with_model_buffer(populated)
    packed = displayer.get_associated_file_buffer("score_calibration.txt")
    assert packed == b"1.0,2.0,3.0\n\n1,2,3,0.5"
    assert len(packed.split(b"\n")) == 3  # as MediaPipe Tasks counts the rows


@pytest.mark.parametrize(
    "name", ["../../x.txt", "/tmp/x.txt", "a/b.txt", "..", ".", "a\\b.txt", "nul\0.txt"]
)
def test_exported_filename_never_leaves_its_folder(name: str) -> None:
    """MediaPipe wrote '../../x' outside its temporary folder, and over an absolute path."""
    with pytest.raises(MetadataValidationError, match="not a plain file name"):
        metadata_writer.Labels().add(["a"], exported_filename=name)
    labels = metadata_writer.Labels()
    labels.labels.append(metadata_writer.LabelItem(name, ["a"]))  # past Labels.add's check
    writer = metadata_writer.MetadataWriter.create(build_image_classifier(height=4, width=4))
    with pytest.raises(MetadataValidationError, match="not a plain file name"):
        writer.add_classification_output(labels)


def test_a_call_that_fails_leaves_no_file_behind() -> None:
    model = build_image_classifier(height=4, width=4, classes=2)
    writer = metadata_writer.MetadataWriter.create(model).add_image_input([127.5], [127.5])
    writer.add_classification_output(metadata_writer.Labels().add(["a", "b"]))
    extra = metadata_writer.Labels().add(["c", "d"], exported_filename="extra.txt")
    calibration = metadata_writer.ScoreCalibration(0, [None, None])
    with pytest.raises(MetadataValidationError, match="Cannot describe output 1"):
        writer.add_classification_output(extra, calibration)
    populated, _ = quietly_populate(writer)
    packed = mp_metadata.MetadataDisplayer.with_model_buffer(populated)
    assert packed.get_packed_associated_file_list() == ["labels.txt"]


def test_two_label_files_of_one_name_are_an_error() -> None:
    """MediaPipe packed the last file written under the name for both heads."""
    model = build_audio_classifier(input_samples=8, heads=[2, 2])
    writer = metadata_writer.MetadataWriter.create(model).add_feature_input()
    writer.add_classification_output(metadata_writer.Labels().add(["a", "b"]))
    writer.add_classification_output(metadata_writer.Labels().add(["c", "d"]))
    with pytest.raises(ValueError, match=r"'labels\.txt', is given twice with different contents"):
        quietly_populate(writer)


def test_convert_to_json_with_custom_metadata_schema(tmp_path: Path) -> None:
    model = build_image_classifier(height=4, width=4, classes=2)

    class Custom(metadata_info.CustomMetadataMd):
        def create_metadata(self) -> Any:
            custom = fb.CustomMetadataT()
            custom.name = self.name
            custom.data = [1, 2]
            return custom

    writer = metadata_writer.MetadataWriter.create(model).add_custom_metadata(Custom("X"))
    populated, text = quietly_populate(writer)
    buffer = mp_metadata.get_metadata_buffer(populated)
    assert buffer is not None
    assert mp_metadata.convert_to_json(buffer) == text
    # Names that are absent: MediaPipe's json.dumps(indent=2) of the same document.
    assert mp_metadata.convert_to_json(buffer, {"Y": "y.fbs"}) == json.dumps(
        json.loads(text), indent=2
    )
    with pytest.raises(FileNotFoundError, match=r"File, 'nope\.fbs', does not exist\."):
        mp_metadata.convert_to_json(buffer, {"X": "nope.fbs"})
    schema = tmp_path / "x.fbs"
    schema.write_text("table X {}")
    with pytest.raises(MetadataValidationError, match="is not one this package declares"):
        mp_metadata.convert_to_json(buffer, {"X": str(schema)})


def _hostile_value(rng: random.Random) -> Any:
    w = metadata_writer
    return rng.choice(
        [
            None, 0, -1, 2**40, float("nan"), float("inf"), "", "x", "../../x", "/tmp/abs",
            b"bytes", [], [None], [1, "a"], ["a", None], {}, {"a": 1}, object(),
            [float("nan")], [[1, 2, 3]], (1.0,), True, ["a\nb"],
            w.Labels().add(["a", "b", "c"]),
            w.ScoreCalibration(0, [w.CalibrationParameter(1, 2, 3)] * 3),
            w.ScoreCalibration(99, None),  # type: ignore[arg-type]
            w.ScoreCalibration(0, [w.CalibrationParameter(None, 2, 3)]),  # type: ignore[arg-type]
            w.ScoreCalibration(0, [w.CalibrationParameter(float("nan"), 2, 3)]),
            w.ScoreThresholding(float("nan")), w.ScoreThresholding("x"),  # type: ignore[arg-type]
            w.RegexTokenizer(5, "v"),  # type: ignore[arg-type]
            w.RegexTokenizer("x", "/nonexistent/vocab.txt"),
            w.BertTokenizer(None),  # type: ignore[arg-type]
            w.SentencePieceTokenizer(3),  # type: ignore[arg-type]
            metadata_info.RawDetectionOutputTensorsOrder.SCORE_LOCATION,
            w.LabelItem("a", None),  # type: ignore[arg-type]
            [w.LabelItem("a", [1])],  # type: ignore[list-item]
        ]
    )  # fmt: skip


_BUILDER_METHODS = [
    "add_general_info", "add_feature_input", "add_image_input", "add_regex_text_input",
    "add_bert_text_input", "add_classification_output", "add_detection_output",
    "add_raw_detection_output", "add_segmentation_output", "add_feature_output",
    "add_custom_metadata",
]  # fmt: skip


@pytest.mark.parametrize("name", [[], {}, metadata_writer.ScoreThresholding(0.5), None, b"ids"])
def test_bert_input_names_that_are_not_str_do_not_match(name: Any, tmp_path: Path) -> None:
    """An unhashable tensor name was a ``TypeError`` from ``collections.Counter``."""
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n")
    with pytest.raises(MetadataValidationError, match="do not match the tensor names"):
        text_classifier.MetadataWriter.create_for_bert_model(
            build_bert_classifier(),
            metadata_writer.BertTokenizer(str(vocab)),
            metadata_writer.Labels().add(["a", "b"]),
            ids_name=name,
        )


def _valid_arguments(folder: Path) -> dict[str, tuple[Any, list[list[Any]]]]:
    """Each task writer's factory, and for each positional argument the values it accepts."""
    w = metadata_writer
    vocab = folder / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n")
    order = metadata_info.RawDetectionOutputTensorsOrder
    three = ["a", "b", "c"]
    calibration = w.ScoreCalibration(
        w.ScoreCalibration.transformation_types.LOG, [w.CalibrationParameter(1, 2, 3)] * 3, 0.2
    )
    anchors = object_detector.SsdAnchorsOptions(
        object_detector.FixedAnchorsSchema([object_detector.FixedAnchor(0.5, 0.5, 1, 1)] * 10)
    )
    decoding = object_detector.TensorsDecodingOptions(
        num_classes=3, num_boxes=10, num_coords=4, keypoint_coord_offset=0, num_keypoints=0,
        num_values_per_keypoint=2, x_scale=10.0, y_scale=10.0, w_scale=5.0, h_scale=5.0,
        apply_exponential_on_box_size=True, sigmoid_score=True,
    )  # fmt: skip
    norm = [[[127.5]], [[127.5]]]
    return {
        "image_classifier": (
            image_classifier.MetadataWriter.create,
            [
                [bytes(build_image_classifier(height=4, width=4, classes=3))],
                *norm, [w.Labels().add(three), w.Labels().add(three, "fr", "fr.txt")],
                [None, calibration],
            ],
        ),
        "text_classifier.create_for_bert_model": (
            text_classifier.MetadataWriter.create_for_bert_model,
            [
                [bytes(build_bert_classifier(classes=3))], [w.BertTokenizer(str(vocab))],
                [w.Labels().add(three)],
            ],
        ),
        "object_detector.create_for_models_with_nms": (
            object_detector.MetadataWriter.create_for_models_with_nms,
            [
                [bytes(build_detector_outputs(outputs=[
                    ("loc", (1, 10, 4), "float32"), ("cls", (1, 10), "float32"),
                    ("score", (1, 10), "float32"), ("num", (1,), "float32"),
                ]))],
                *norm, [w.Labels().add(three)], [None, calibration],
            ],
        ),
        "object_detector.create_for_models_without_nms": (
            object_detector.MetadataWriter.create_for_models_without_nms,
            [
                [bytes(build_detector_outputs(
                    outputs=[("boxes", (1, 10, 4), "float32"), ("scores", (1, 10, 3), "float32")]
                ))],
                *norm, [w.Labels().add(three)], [anchors], [decoding],
                [order.UNSPECIFIED, order.LOCATION_SCORE],
            ],
        ),
        "image_segmenter": (
            image_segmenter.MetadataWriter.create,
            [
                [bytes(build_image_segmenter(height=4, width=4, classes=3))],
                *norm, [None, w.Labels().add(three)], list(image_segmenter.Activation),
            ],
        ),
    }  # fmt: skip


def test_hostile_arguments_give_metadata_errors(tmp_path: Path) -> None:
    """600 seeded calls of the builder and the task writers, their arguments valid or hostile.

    A call with hostile arguments either works or raises a ``MetadataError`` (a
    ``ValueError``); only a call with the wrong number of arguments is a
    ``TypeError``. A task writer's call whose arguments are all valid works, and
    ``check`` accepts what it wrote; ``check`` reports on every model written
    without an error. Nothing is written to disk.
    """
    from tflite_metadata.check import Problem, check
    from tflite_metadata.errors import MetadataError

    writers = _valid_arguments(tmp_path)
    before = sorted(tmp_path.iterdir())
    models = [
        bytes(build_image_classifier(height=4, width=4, classes=3)),
        bytes(build_bert_classifier()),
        bytes(
            build_detector_outputs(
                outputs=[("a", (1, 10, 4), "float32"), ("b", (1, 10, 3), "float32")]
            )
        ),
    ]
    rng = random.Random(12)
    outcomes = dict.fromkeys(("valid", "worked", "refused", "clean", "valid and clean"), 0)
    by_writer = dict.fromkeys(writers, 0)
    for _ in range(600):
        valid = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if rng.random() < 0.7:
                    name = rng.choice(sorted(writers))
                    factory, choices = writers[name]
                    valid = rng.random() < 0.5
                    hostile = 0.0 if valid else rng.choice([0.2, 0.5])
                    count = len(choices)
                    if not valid and rng.random() < 0.2:
                        count = rng.randint(1, len(choices) + 1)
                    values = [
                        _hostile_value(rng) if rng.random() < hostile or i >= len(choices)
                        else rng.choice(choices[i])
                        for i in range(count)
                    ]  # fmt: skip
                    writer: Any = factory(*values)
                    by_writer[name] += valid
                else:
                    writer = metadata_writer.MetadataWriter.create(rng.choice(models))
                    for _ in range(rng.randint(1, 3)):
                        method = getattr(writer, rng.choice(_BUILDER_METHODS))
                        method(*[_hostile_value(rng) for _ in range(rng.randint(0, 4))])
                populated, _ = writer.populate()
            outcomes["worked"] += 1
            outcomes["valid"] += valid
            problems = check(populated)
            assert all(isinstance(problem, Problem) for problem in problems)
            outcomes["clean"] += not problems
            outcomes["valid and clean"] += valid and not problems
        except MetadataError as exc:
            assert not valid, exc
            outcomes["refused"] += 1
        except TypeError as exc:
            assert not valid and "argument" in str(exc), exc  # too many or too few arguments
    assert sorted(tmp_path.iterdir()) == before
    assert all(count >= 10 for count in by_writer.values()), by_writer
    assert outcomes["valid"] >= 150 and outcomes["refused"] >= 150, outcomes
    assert outcomes["worked"] > outcomes["valid"] == outcomes["valid and clean"], outcomes


# -- differential: MediaPipe's writers against ours ----------------------------------------------

#: Seeded random cases run by both (a few subprocess calls in all).
RANDOM_CASES = 240
_ALPHABET = "abcdefghij KLMNOP_-,.;'éü中😀"


def _text(rng: random.Random, low: int = 0, high: int = 12) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(low, high)))


def _number(rng: random.Random) -> Any:
    kind = rng.random()
    if kind < 0.2:
        return rng.randint(0, 5)
    if kind < 0.3:
        return rng.choice([0.1, 1e-05, 123456789.0, 2.5e-10])
    return round(rng.uniform(0, 4), rng.randint(0, 8))


class _Files:
    """Writes a case's files and hands out unique packed-file names."""

    def __init__(self, folder: Path, rng: random.Random) -> None:
        self.folder = folder
        self.rng = rng
        self.used: set[str] = set()
        self.count = 0

    def path(self, suffix: str, content: bytes) -> str:
        self.count += 1
        path = self.folder / f"f{self.count}{suffix}"
        path.write_bytes(content)
        return str(path)

    def labels(self, classes: int, with_files: bool = True) -> dict[str, Any]:
        rng = self.rng
        steps: list[Any] = []
        locales = rng.sample([None, "en", "fr", "zh-CN", "de"], rng.randint(1, 3))
        for locale in locales:
            names = [_text(rng, 0, 10) for _ in range(classes)]
            default = "labels" + (f"_{locale}" if locale else "") + ".txt"
            exported = None
            if default in self.used or rng.random() < 0.3:
                exported = f"l{len(self.used)}_{rng.randint(0, 999)}.txt"
            name = exported or default
            self.used.add(name)
            if with_files and rng.random() < 0.3:
                newline = rng.choice(["\n", "\r\n"])
                text = newline.join(names) + (newline if rng.random() < 0.5 else "")
                steps.append(["add_from_file", self.path(".txt", text.encode()), locale, exported])
            else:
                steps.append(["add", names, locale, exported])
        return {"$labels": steps}

    def calibration(self, classes: int) -> dict[str, Any]:
        rng = self.rng
        rows = []
        for _ in range(classes):
            if rng.random() < 0.15:
                rows.append(None)
            else:
                row = [_number(rng), _number(rng) - 2, _number(rng) - 1]
                if rng.random() < 0.5:
                    row.append(_number(rng) / 5)
                rows.append(row)
        kind = rng.randint(0, 2)
        default = _number(rng) / 4
        if rng.random() < 0.25:
            lines = ["" if row is None else ",".join(repr(float(v)) for v in row) for row in rows]
            path = self.path(".csv", ("\n".join(lines) + "\n").encode())
            return {"$calibration_file": [kind, path, default]}
        return {"$calibration": [kind, rows, default]}


def _general(rng: random.Random) -> list[Any]:
    return ["add_general_info", [_text(rng, 1)], {"model_description": _text(rng)}]


def _classification(rng: random.Random, files: _Files, classes: int, calibrate: bool) -> list[Any]:
    kwargs: dict[str, Any] = {}
    if rng.random() < 0.8:
        kwargs["labels"] = files.labels(classes)
    if calibrate:
        kwargs["score_calibration"] = files.calibration(classes)
    if rng.random() < 0.4:
        kwargs["score_thresholding"] = {"$thresholding": _number(rng) / 5}
    if rng.random() < 0.5:
        kwargs["name"] = _text(rng, 1)
        kwargs["description"] = _text(rng)
    return ["add_classification_output", [], kwargs]


def _builder_case(rng: random.Random, folder: Path, index: int) -> dict[str, Any]:
    files = _Files(folder / f"case{index}", rng)
    files.folder.mkdir()
    kind = rng.choice(["image", "heads", "regex", "bert", "detector", "raw", "segmenter"])
    calls: list[Any] = []
    if rng.random() < 0.8:
        calls.append(_general(rng))
    if kind == "image":
        classes = rng.randint(1, 6)
        model = build_image_classifier(
            height=4,
            width=4,
            classes=classes,
            input_type=rng.choice(["float32", "uint8"]),
            output_type=rng.choice(["float32", "uint8"]),
        )
        channels = rng.choice([1, 3])
        mean = [_number(rng) * 30 for _ in range(channels)]
        std = [_number(rng) * 30 + 0.5 for _ in range(channels)]
        kwargs: dict[str, Any] = {}
        if rng.random() < 0.5:
            kwargs["color_space_type"] = rng.randint(0, 2)
        if rng.random() < 0.3:
            kwargs["name"], kwargs["description"] = _text(rng, 1), _text(rng)
        calls.append(["add_image_input", [mean, std], kwargs])
        calls.append(_classification(rng, files, classes, rng.random() < 0.6))
    elif kind == "heads":
        heads = [rng.randint(1, 5) for _ in range(rng.randint(1, 3))]
        model = build_audio_classifier(input_samples=8, heads=heads)
        calls.append(["add_feature_input", [], {"name": _text(rng, 1), "description": _text(rng)}])
        calibrated = rng.randrange(len(heads) + 1)
        for position, classes in enumerate(heads):
            if rng.random() < 0.2:
                calls.append(["add_feature_output", [_text(rng, 1), _text(rng)], {}])
            else:
                calls.append(_classification(rng, files, classes, position == calibrated))
    elif kind == "regex":
        model = build_audio_classifier(input_samples=16, heads=[2], input_type="int32")
        vocab = files.path(".vocab", b"<PAD> 0\n<START> 1\n<UNKNOWN> 2\nhello 3\n")
        pattern = rng.choice([r"[^\w\']+", r"\s+", _text(rng, 1, 5)])
        kwargs = {}
        if rng.random() < 0.4:
            kwargs = {"name": _text(rng, 1), "description": _text(rng)}
        calls.append(["add_regex_text_input", [{"$regex": [pattern, vocab]}], kwargs])
        calls.append(_classification(rng, files, 2, rng.random() < 0.3))
    elif kind == "bert":
        names = ["ids_t", "mask_t", "segment_t"]
        rng.shuffle(names)
        model = build_bert_classifier(input_names=names, classes=2)
        vocab = files.path(".vocab", b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n")
        if rng.random() < 0.5:
            tokenizer: Any = {"$bert": vocab}
        else:
            sp = files.path(".model", bytes(rng.randrange(256) for _ in range(40)))
            tokenizer = {"$sentence_piece": [sp, vocab if rng.random() < 0.5 else None]}
        calls.append(["add_bert_text_input", [tokenizer, "ids_t", "mask_t", "segment_t"], {}])
        calls.append(_classification(rng, files, 2, rng.random() < 0.3))
    elif kind == "detector":
        classes = rng.randint(1, 5)
        model = build_detector_outputs(
            outputs=[
                ("boxes", (1, 10, 4), "float32"),
                ("classes", (1, 10), "float32"),
                ("scores", (1, 10), "float32"),
                ("count", (1,), "float32"),
            ]
        )
        calls.append(["add_image_input", [[127.5], [127.5]], {}])
        kwargs = {}
        if rng.random() < 0.8:
            kwargs["labels"] = files.labels(classes)
        if rng.random() < 0.5:
            kwargs["score_calibration"] = files.calibration(classes)
        if rng.random() < 0.3:
            kwargs["group_name"] = _text(rng, 1)
        calls.append(["add_detection_output", [], kwargs])
    elif kind == "raw":
        order = rng.choice(["SCORE_LOCATION", "LOCATION_SCORE"])
        shapes = [("scores", (1, 10, 3), "float32"), ("boxes", (1, 10, 4), "float32")]
        if order == "LOCATION_SCORE":
            shapes.reverse()
        model = build_detector_outputs(outputs=shapes)
        calls.append(["add_image_input", [[127.5], [127.5]], {}])
        labels = files.labels(3) if rng.random() < 0.7 else None
        calls.append(["add_raw_detection_output", [labels, {"$order": order}], {}])
    else:
        classes = rng.randint(1, 4)
        model = build_detector_outputs(outputs=[("masks", (1, 4, 4, classes), "float32")])
        calls.append(["add_image_input", [[127.5], [127.5]], {}])
        kwargs = {}
        if rng.random() < 0.8:
            kwargs["labels"] = files.labels(classes)
        if rng.random() < 0.4:
            kwargs["name"], kwargs["description"] = _text(rng, 1), _text(rng)
        calls.append(["add_segmentation_output", [], kwargs])
    if rng.random() < 0.25:
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 8))).hex()
        calls.append(["add_custom_metadata", [{"$custom": [_text(rng, 1), data]}], {}])
    model_path = files.folder / "model.tflite"
    model_path.write_bytes(model)
    return {
        "model": str(model_path),
        "factory": ["metadata_writer", "MetadataWriter", "create"],
        "calls": calls,
    }


def _task_case(rng: random.Random, folder: Path, index: int) -> dict[str, Any]:
    files = _Files(folder / f"case{index}", rng)
    files.folder.mkdir()
    args: list[Any]
    kind = rng.choice(["image", "regex", "bert", "detector", "segmenter"])
    if kind == "segmenter":
        classes = rng.randint(1, 4)
        outputs = [("masks", (1, 4, 4, classes), "float32")]
        if rng.random() < 0.4:  # MediaPipe's selfie segmenters: a quality score first
            outputs.insert(0, ("quality", (1,), "float32"))
        model = build_detector_outputs(outputs=outputs, input_type="float32")
        segmenter_args: list[Any] = [[127.5], [127.5]]
        if rng.random() < 0.7:
            segmenter_args.append(files.labels(classes))
        args = segmenter_args
        factory = ["image_segmenter", "MetadataWriter", "create"]
    elif kind == "detector":
        classes = rng.randint(1, 5)
        model = build_detector_outputs(
            outputs=[
                ("boxes", (1, 10, 4), "float32"),
                ("classes", (1, 10), "float32"),
                ("scores", (1, 10), "float32"),
                ("count", (1,), "float32"),
            ],
            input_type=rng.choice(["uint8", "float32"]),
        )
        args = [[127.5], [127.5], files.labels(classes)]
        if rng.random() < 0.5:
            args.append(files.calibration(classes))
        factory = ["object_detector", "MetadataWriter", "create_for_models_with_nms"]
    elif kind == "image":
        classes = rng.randint(1, 6)
        model = build_image_classifier(
            height=4,
            width=4,
            classes=classes,
            input_type=rng.choice(["float32", "uint8"]),
            output_type=rng.choice(["float32", "uint8"]),
        )
        args = [[127.5], [127.5], files.labels(classes)]
        if rng.random() < 0.5:
            args.append(files.calibration(classes))
        factory = ["image_classifier", "MetadataWriter", "create"]
    elif kind == "regex":
        model = build_audio_classifier(input_samples=16, heads=[2], input_type="int32")
        vocab = files.path(".vocab", b"<PAD> 0\n<START> 1\n<UNKNOWN> 2\n")
        args = [{"$regex": [r"[^\w\']+", vocab]}, files.labels(2)]
        factory = ["text_classifier", "MetadataWriter", "create_for_regex_model"]
    else:
        default_names = [
            "serving_default_input_word_ids:0",
            "serving_default_input_type_ids:0",
            "serving_default_input_mask:0",
        ]
        rng.shuffle(default_names)
        model = build_bert_classifier(input_names=default_names, classes=3)
        vocab = files.path(".vocab", b"[PAD]\n[UNK]\nhello\n")
        if rng.random() < 0.5:
            tokenizer: Any = {"$bert": vocab}
        else:
            sp = files.path(".model", b"\x0a\x02ab")
            tokenizer = {"$sentence_piece": [sp, vocab if rng.random() < 0.5 else None]}
        args = [tokenizer, files.labels(3)]
        factory = ["text_classifier", "MetadataWriter", "create_for_bert_model"]
    model_path = files.folder / "model.tflite"
    model_path.write_bytes(model)
    return {"model": str(model_path), "factory": factory, "args": args}


#: Seeded random cases of the two writers that write custom metadata.
CUSTOM_METADATA_CASES = 64


def _anchor_value(rng: random.Random) -> float:
    kind = rng.random()
    if kind < 0.15:
        return 0.0  # the default: not stored
    if kind < 0.3:
        return rng.choice([1.0, 0.5, 0.0125, 0.012499999, 0.05303301, -0.25, 1e-07])
    return round(rng.uniform(-0.2, 1.2), rng.randint(1, 9))


def _custom_metadata_case(rng: random.Random, folder: Path, index: int) -> dict[str, Any]:
    """A detector without NMS (``DETECTOR_METADATA``) or a segmenter with an activation."""
    files = _Files(folder / f"case{index}", rng)
    files.folder.mkdir()
    if rng.random() < 0.35:
        classes = rng.randint(1, 4)
        outputs = [("masks", (1, 4, 4, classes), "float32")]
        if rng.random() < 0.3:
            outputs.insert(0, ("quality", (1,), "float32"))
        model = build_detector_outputs(outputs=outputs, input_type="float32")
        labels = files.labels(classes) if rng.random() < 0.5 else None
        activation = {"$activation": rng.choice(["NONE", "SIGMOID", "SOFTMAX"])}
        args: list[Any] = [[127.5], [127.5], labels, activation]
        factory = ["image_segmenter", "MetadataWriter", "create"]
    else:
        boxes, classes = rng.randint(1, 12), rng.randint(1, 5)
        coords = rng.choice([4, 4, 4, 8])
        order = rng.choice(["SCORE_LOCATION", "LOCATION_SCORE"])
        shapes = [("scores", (1, boxes, classes), "float32"), ("boxes", (1, boxes, 4), "float32")]
        if order == "LOCATION_SCORE":
            shapes.reverse()
        model = build_detector_outputs(outputs=shapes, input_type=rng.choice(["uint8", "float32"]))
        anchors = [[_anchor_value(rng) for _ in range(4)] for _ in range(boxes)]
        if rng.random() < 0.1:
            anchors = []
        decoding = [
            classes if rng.random() < 0.9 else rng.randint(0, 9),
            boxes if rng.random() < 0.9 else rng.randint(0, 99),
            coords,
            rng.choice([0, 0, 4]),
            rng.choice([0, 0, 2, 6]),
            rng.choice([0, 0, 2]),
            rng.choice([0.0, 1.0, 10.0, 128.0, round(rng.uniform(0, 300), 3)]),
            rng.choice([0.0, 1.0, 10.0, 128.0, round(rng.uniform(0, 300), 3)]),
            rng.choice([0.0, 1.0, 5.0, 128.0, round(rng.uniform(0, 300), 3)]),
            rng.choice([0.0, 1.0, 5.0, 128.0, round(rng.uniform(0, 300), 3)]),
            rng.random() < 0.5,
            rng.random() < 0.5,
        ]
        args = [
            [_number(rng) * 30],
            [_number(rng) * 30 + 0.5],
            files.labels(classes),
            {"$anchors": anchors},
            {"$decoding": decoding},
            {"$order": order},
        ]
        factory = ["object_detector", "MetadataWriter", "create_for_models_without_nms"]
    model_path = files.folder / "model.tflite"
    model_path.write_bytes(model)
    return {"model": str(model_path), "factory": factory, "args": args}


def _compare(case: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    where = json.dumps(case)[:2000]
    if "error" in theirs or "error" in ours:
        assert "error" in theirs and "error" in ours, (where, ours, theirs)
        return
    assert ours["metadata"] == theirs["metadata"], where
    assert ours["json"] == theirs["json"], where
    expected_files = dict(theirs["files"])
    calibration = expected_files.get("score_calibration.txt")
    if calibration:  # MediaPipe's ends with a newline, which ours leaves out
        assert calibration.endswith("0a"), where
        expected_files["score_calibration.txt"] = calibration[:-2]
    assert ours["files"] == expected_files, where


def _invalid_cases(folder: Path) -> list[dict[str, Any]]:
    """Cases both writers refuse (each with an error of its own wording)."""
    folder.mkdir()
    image = folder / "image.tflite"
    image.write_bytes(build_image_classifier(height=4, width=4, classes=2))
    bert = folder / "bert.tflite"
    bert.write_bytes(build_bert_classifier(input_names=("a", "b", "c")))
    create = ["metadata_writer", "MetadataWriter", "create"]
    labels = {"$labels": [["add", ["x", "y"]]]}
    negative = {"$calibration": [0, [[-1.0, 1.0, 1.0], None], 0.0]}
    short = {"$calibration": [0, [[1.0, 1.0], None], 0.0]}
    calls = [
        (bert, "add_bert_text_input", [{"$bert": "v"}, "a", "b", "x"]),
        (image, "add_detection_output", [labels]),
        (image, "add_raw_detection_output", [labels, {"$order": "SCORE_LOCATION"}]),
        (image, "add_image_input", [[1.0], [2.0, 3.0]]),
        (image, "add_classification_output", [labels, negative]),
        (image, "add_classification_output", [labels, short]),
        (image, "add_regex_text_input", [{"$regex": ["x", str(folder / "missing.txt")]}]),
        (image, "add_classification_output", [{"$labels": [["add", []]]}]),
    ]
    cases = [
        {"model": str(model), "factory": create, "calls": [[method, args, {}]]}
        for model, method, args in calls
    ]
    two_outputs = [["add_feature_output", [], {}], ["add_feature_output", [], {}]]
    cases.append({"model": str(image), "factory": create, "calls": two_outputs})
    return cases


@pytest.mark.reference
@pytest.mark.consumers
def test_random_cases_match_mediapipes_writers(tmp_path: Path) -> None:
    """240 seeded cases across the builder and the task writers, and 64 of the detector
    without NMS and the segmenter with an activation (custom metadata), each made by both.

    Then a few invalid cases, which both refuse.
    """
    rng = random.Random(1212)
    cases = []
    for index in range(RANDOM_CASES):
        make = _task_case if index % 4 == 3 else _builder_case
        cases.append(make(rng, tmp_path, index))
    custom_rng = random.Random(1213)
    for index in range(RANDOM_CASES, RANDOM_CASES + CUSTOM_METADATA_CASES):
        cases.append(_custom_metadata_case(custom_rng, tmp_path, index))
    invalid = _invalid_cases(tmp_path / "invalid")
    theirs = consumer_env.run_mediapipe_writers(cases + invalid, tmp_path)
    errors = 0
    for case, their_outcome in zip(cases, theirs):
        _compare(case, our_outcome(case), their_outcome)
        errors += "error" in their_outcome
    # The cases are valid ones: nearly all must populate, so that most compare results.
    assert errors <= len(cases) // 20, [o["error"] for o in theirs if "error" in o][:5]
    custom = [o for o in theirs[RANDOM_CASES : len(cases)] if "error" not in o]
    assert len(custom) >= CUSTOM_METADATA_CASES * 9 // 10
    decoded = sum(
        '"DETECTOR_METADATA"' in o["json"] or '"SEGMENTER_METADATA"' in o["json"] for o in custom
    )
    assert decoded == len(custom)
    for case, their_outcome in zip(invalid, theirs[len(cases) :]):
        ours = our_outcome(case)
        assert "error" in their_outcome and "error" in ours, (case, ours, their_outcome)
        assert ours["error"].split(":")[0].endswith("Error"), ours


# -- consumers: MediaPipe Tasks on the models both writers write ----------------------------------

_TEXTS = [
    "This movie was wonderful, the best I have seen this year!",
    "boring, too long and badly acted",
    "the movie the movie the movie",
]
_BERT_VOCAB = b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nmovie\nwas\ngood\nbad\nbest\nboring\n##s\n"


def _consumer_cases(folder: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (the runner's task, the case): classifiers both writers describe."""
    folder.mkdir()
    cases: dict[str, tuple[str, dict[str, Any]]] = {}
    create_image = ["image_classifier", "MetadataWriter", "create"]
    labels = {"$labels": [["add", ["a", "b", "c", "d", "e"]], ["add", list("ABCDE"), "fr"]]}
    for input_type in ("float32", "uint8"):
        model = folder / f"image_{input_type}.tflite"
        model.write_bytes(
            build_image_classifier(height=32, width=32, classes=5, input_type=input_type)
        )
        args: list[Any] = [[127.5], [127.5], labels]
        cases[f"image {input_type}"] = (
            "image",
            {"model": str(model), "factory": create_image, "args": args},
        )
    rows = [[1.0, 3.0, -1.0], [0.9, 2.0, 0.5, 0.1], None, [1.0, 1.0, 0.0], [0.5, 4.0, -2.0]]
    calibrated = [[127.5], [127.5], labels, {"$calibration": [0, rows, 0.05]}]
    cases["image calibrated"] = (
        "image",
        {"model": cases["image float32"][1]["model"], "factory": create_image, "args": calibrated},
    )
    movie = shared(TFLITE_SUPPORT / "nl_classifier" / "movie_review.tflite")
    regex = {"$regex": [r"[^\w\']+", str(shared(GOLDENS / "regex_vocab.txt"))]}
    text_labels = {"$labels": [["add_from_file", str(shared(GOLDENS / "movie_review_labels.txt"))]]}
    cases["regex"] = (
        "text",
        {
            "model": str(movie),
            "factory": ["text_classifier", "MetadataWriter", "create_for_regex_model"],
            "args": [regex, text_labels],
        },
    )
    bert = folder / "bert.tflite"
    bert.write_bytes(build_bert_classifier(seq_len=16, classes=2))
    vocab = folder / "vocab.txt"
    vocab.write_bytes(_BERT_VOCAB)
    sp_model = shared(TFLITE_SUPPORT / "bert_nl_classifier" / "sentencepiece.model")
    bert_labels = {"$labels": [["add", ["negative", "positive"]]]}
    create_bert = ["text_classifier", "MetadataWriter", "create_for_bert_model"]
    cases["bert"] = (
        "text",
        {"model": str(bert), "factory": create_bert, "args": [{"$bert": str(vocab)}, bert_labels]},
    )
    cases["sentence piece"] = (
        "text",
        {
            "model": str(bert),
            "factory": create_bert,
            "args": [{"$sentence_piece": [str(sp_model), None]}, bert_labels],
        },
    )
    ssd = shared(TFLITE_SUPPORT / "object_detector" / "ssd_mobilenet_v1.tflite")
    labelmap = {"$labels": [["add_from_file", str(shared(GOLDENS / "labelmap.txt"))]]}
    calibration = {
        "$calibration_file": [
            2,
            str(shared(TFLITE_SUPPORT / "object_detector" / "score_calibration.csv")),
            0.2,
        ]
    }
    create_detector = ["object_detector", "MetadataWriter", "create_for_models_with_nms"]
    cases["ssd"] = (
        "detect",
        {"model": str(ssd), "factory": create_detector, "args": [[127.5], [127.5], labelmap]},
    )
    cases["ssd calibrated"] = (
        "detect",
        {
            "model": str(ssd),
            "factory": create_detector,
            "args": [[127.5], [127.5], labelmap, calibration],
        },
    )
    deeplab = shared(TFLITE_SUPPORT / "image_segmenter" / "deeplabv3.tflite")
    segmenter_labels = {
        "$labels": [["add_from_file", str(shared(GOLDENS / "segmenter_labelmap.txt"))]]
    }
    cases["deeplab"] = (
        "segment",
        {
            "model": str(deeplab),
            "factory": ["image_segmenter", "MetadataWriter", "create"],
            "args": [[127.5], [127.5], segmenter_labels],
        },
    )
    return cases  # fmt: skip


def _run_mediapipe_tasks(task: str, paths: list[Path], folder: Path) -> dict[str, Any]:
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "the MediaPipe environment")
    assert python is not None
    folder.mkdir(parents=True, exist_ok=True)
    request: dict[str, Any] = {"task": task, "models": [str(path) for path in paths]}
    images = SHARED / "tflite-support" / "images"
    if task == "segment":
        request["images"] = [str(shared(images / "segmentation_input_rotation0.jpg"))]
    elif task in ("image", "detect"):
        request["images"] = [str(shared(images / "burger.jpg")), str(images / "cats_and_dogs.jpg")]
    else:
        request["texts"] = _TEXTS
    return consumer_env.run_runner(python, "mediapipe_runner.py", request, folder, timeout=600)


@pytest.mark.reference
@pytest.mark.consumers
def test_mediapipe_tasks_classify_alike_with_either_writers_models(tmp_path: Path) -> None:
    """``ImageClassifier``, ``TextClassifier`` (regex, BERT, SentencePiece) and
    ``ObjectDetector`` (SSD MobileNet v1, with and without calibration) and
    ``ImageSegmenter`` (DeepLab v3) give identical
    results on the models MediaPipe's writers write and on ours.

    Except with a calibration of one row per class: MediaPipe's file ends with a newline,
    one row more, and MediaPipe Tasks refuses its model; it runs ours, calibrated.
    """
    cases = _consumer_cases(tmp_path / "models")
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
    for task in ("image", "text", "detect", "segment"):
        names = [name for name, (kind, _) in cases.items() if kind == task]
        paths = [path for name in names for path in (ours_paths[name], theirs_paths[name])]
        answers.update(_run_mediapipe_tasks(task, paths, tmp_path / task))
    for name, (task, _) in cases.items():
        ours, theirs = answers[str(ours_paths[name])], answers[str(theirs_paths[name])]
        results = "texts" if task == "text" else "images"
        assert results in ours, (name, ours)
        if name == "image calibrated":
            assert "sigmoids" in theirs.get("error", ""), theirs
            uncalibrated = answers[str(ours_paths["image float32"])]
            assert ours[results] != uncalibrated[results]
            continue
        assert ours == theirs, name
        if task in ("image", "text"):
            heads = [result["heads"][0]["categories"] for result in ours[results]]
            assert len({json.dumps(head) for head in heads}) > 1, name  # the input counts
        elif task == "detect":
            assert any(result["detections"] for result in ours[results]), name


# -- the interface: MediaPipe's names, signatures and defaults ------------------------------------

_MODULES = [
    "metadata",
    "metadata_writers.metadata_writer",
    "metadata_writers.metadata_info",
    "metadata_writers.writer_utils",
    "metadata_writers.image_classifier",
    "metadata_writers.text_classifier",
    "metadata_writers.object_detector",
    "metadata_writers.image_segmenter",
]

#: What is not provided, with its members (the README says so): nothing now.
_NOT_PROVIDED: set[str] = set()


def _extends(ours: list[Any], theirs: list[Any]) -> bool:
    """Whether ``ours`` takes every call ``theirs`` takes, with the same defaults.

    The same parameters in the same order and kinds, with MediaPipe's defaults
    (a parameter MediaPipe requires may be optional here: ``LabelFileMd(labels=…)``
    needs no path), then optional parameters only.
    """
    if len(ours) < len(theirs):
        return False
    for (name, kind, default), (their_name, their_kind, their_default) in zip(ours, theirs):
        if (name, kind) != (their_name, their_kind):
            return False
        if their_default is not None and default != their_default:
            return False
    return all(
        default is not None or kind == "VAR_KEYWORD" for _, kind, default in ours[len(theirs) :]
    )


@pytest.mark.reference
@pytest.mark.consumers
def test_interface_is_mediapipes(tmp_path: Path) -> None:
    """Every public name of MediaPipe's modules is here, with its parameters and defaults.

    Ours may add optional parameters after MediaPipe's (in-memory ``content`` …).
    """
    import importlib

    theirs = consumer_env.mediapipe_writers_interface(_MODULES, tmp_path)
    compared = 0
    for module in _MODULES:
        ours = mp_writer_cases.interface(
            importlib.import_module(f"tflite_metadata.mediapipe.{module}"), list(theirs[module])
        )
        for name, expected in theirs[module].items():
            found = ours[name]
            if {f"{module}.{name}", f"{module}.{name.split('.')[0]}"} & _NOT_PROVIDED:
                assert found == "missing", f"{module}.{name} is provided now: update the test"
                continue
            compared += 1
            assert found != "missing", f"{module}.{name} is missing"
            if isinstance(expected, list) and expected and expected[0] == "member":
                assert found == expected, f"{module}.{name}"
            elif isinstance(expected, list):
                assert isinstance(found, list) and _extends(found, expected), (
                    f"{module}.{name}: {found} is not MediaPipe's {expected}"
                )
    assert compared > 80, compared


# -- write and show: score thresholding ------------------------------------------------------------


def test_write_and_show_score_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--score-threshold`` (or a head's ``score_threshold``) writes MediaPipe's thresholding."""
    from tflite_metadata.cli import main

    model = tmp_path / "m.tflite"
    model.write_bytes(build_image_classifier(height=8, width=8, classes=2))
    labels = tmp_path / "l.txt"
    labels.write_text("a\nb\n")
    out = tmp_path / "o.tflite"
    argv = ["write", "image-classifier", str(model), "-o", str(out), "--mean", "127.5"]
    argv += ["--std", "127.5", "--labels", str(labels), "--score-threshold", "0.25"]
    assert main(argv) == 0
    populated = out.read_bytes()
    buffer = mp_metadata.get_metadata_buffer(populated)
    assert buffer is not None
    head = codec.decode(buffer).subgraphMetadata[0].outputTensorMetadata[0]
    assert [unit.options.globalScoreThreshold for unit in head.processUnits] == [0.25]
    capsys.readouterr()
    assert main(["show", str(out)]) == 0
    assert "  score threshold: 0.25\n" in capsys.readouterr().out
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"input": {"mean": [127.5], "std": [127.5]}, "outputs": [
        {"labels": ["l.txt"], "score_threshold": "high"}
    ]}))  # fmt: skip
    assert main(["write", "image-classifier", str(model), "-o", str(out), "--spec", str(spec)]) == 1
    assert "outputs[0].score_threshold: expected a number" in capsys.readouterr().err


@pytest.mark.consumers
def test_mediapipe_tasks_apply_the_written_score_threshold(tmp_path: Path) -> None:
    """MediaPipe Tasks and the Task Library drop the categories scored below the threshold
    the builder writes."""
    model = build_image_classifier(height=32, width=32, classes=5)
    paths = []
    for threshold in (None, 0.21):
        writer = metadata_writer.MetadataWriter.create(model).add_image_input([127.5], [127.5])
        writer.add_classification_output(
            metadata_writer.Labels().add(list("abcde")),
            score_thresholding=None
            if threshold is None
            else metadata_writer.ScoreThresholding(threshold),
        )
        path = tmp_path / f"threshold_{threshold}.tflite"
        path.write_bytes(quietly_populate(writer)[0])
        paths.append(path)
    reference = consumer_env.reference_python()
    consumer_env.require(reference is not None, "the Task Library (tflite-support 0.4.4)")
    assert reference is not None
    request = {
        "task": "image",
        "models": [str(path) for path in paths],
        "images": [str(shared(SHARED / "tflite-support" / "images" / "burger.jpg"))],
    }
    (tmp_path / "task_library").mkdir()
    task_library = consumer_env.run_runner(
        reference, "task_library_runner.py", request, tmp_path / "task_library"
    )
    for answers in (_run_mediapipe_tasks("image", paths, tmp_path / "run"), task_library):
        everything, kept = (answers[str(path)]["images"] for path in paths)
        for all_of_them, above in zip(everything, kept):
            categories = all_of_them["heads"][0]["categories"]
            assert above["heads"][0]["categories"] == [c for c in categories if c[3] >= 0.21]
            assert len(above["heads"][0]["categories"]) < len(categories)
