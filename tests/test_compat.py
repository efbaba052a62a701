"""tflite-support's smaller Python surface: ``flatbuffers``, ``metadata_parser`` and
``metadata.get_path_to_datafile``, and TensorFlow's guide to adding metadata run with
``tflite_metadata`` imports.

The guide ("Adding metadata to TensorFlow Lite models", tensorflow.org/lite/models/convert/
metadata) builds the metadata with the object API, packs it with
``from tflite_support import flatbuffers`` and populates it with ``MetadataPopulator``;
:func:`guide_flow` follows it step by step, with the modules it is given.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import consumer_env
from shared_data import TESTDATA

MOBILENET = TESTDATA / "tflite-support" / "image_classifier" / "mobilenet_v2_1.0_224_quant.tflite"
LABELS = TESTDATA / "tflite-support" / "image_classifier" / "labels.txt"


def test_flatbuffers_is_the_flatbuffers_package() -> None:
    import flatbuffers as installed

    import tflite_metadata
    from tflite_metadata import flatbuffers

    assert flatbuffers is installed
    assert tflite_metadata.flatbuffers is installed
    for name in ("builder", "table", "number_types", "util", "encode", "packer"):
        assert getattr(flatbuffers, name) is getattr(installed, name)
    builder = flatbuffers.Builder(0)
    assert isinstance(builder, flatbuffers.builder.Builder)
    assert flatbuffers.number_types.UOffsetTFlags.bytewidth == 4


def test_the_modules_are_attributes_of_the_package() -> None:
    """``import tflite_support; tflite_support.metadata…`` works, so must ours."""
    import subprocess
    import sys

    code = (
        "import sys, tflite_metadata\n"
        "assert 'tflite_metadata.metadata' not in sys.modules\n"
        "print(tflite_metadata.metadata.MetadataPopulator.__name__,"
        " tflite_metadata.metadata_schema_py_generated.ModelMetadataT.__name__,"
        " tflite_metadata.metadata_writers.image_classifier.__name__,"
        " tflite_metadata.flatbuffers.__name__)\n"
        "try:\n    tflite_metadata.no_such_module\n"
        "except AttributeError as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.splitlines()
    assert out == [
        "MetadataPopulator ModelMetadataT "
        "tflite_metadata.metadata_writers.image_classifier flatbuffers",
        "module 'tflite_metadata' has no attribute 'no_such_module'",
    ]


def test_metadata_parser_version_is_the_schema_version_written() -> None:
    from tflite_metadata.format.metadata_schema import SCHEMA_VERSION
    from tflite_metadata.metadata_parser import MetadataParser

    assert MetadataParser.VERSION == SCHEMA_VERSION == "1.5.0"


def test_get_path_to_datafile_is_relative_to_the_calling_file() -> None:
    from tflite_metadata.metadata import get_path_to_datafile

    assert get_path_to_datafile("data/x.txt") == os.path.join(
        os.path.dirname(__file__), "data/x.txt"
    )
    # Not normalized, not checked: as tflite-support.
    assert get_path_to_datafile("../up") == os.path.join(os.path.dirname(__file__), "../up")


def reference() -> ModuleType:
    try:
        import tflite_support
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
    return tflite_support


@pytest.mark.reference
def test_the_compat_modules_as_the_reference() -> None:
    ref = reference()
    from tensorflow_lite_support.metadata.python import metadata_parser

    from tflite_metadata import flatbuffers
    from tflite_metadata.metadata import get_path_to_datafile
    from tflite_metadata.metadata_parser import MetadataParser

    assert flatbuffers is ref.flatbuffers
    assert MetadataParser.VERSION == metadata_parser.MetadataParser.VERSION
    for path in ("x.txt", "../a/b", ""):
        assert get_path_to_datafile(path) == ref.metadata.get_path_to_datafile(path)


# -- TensorFlow's guide, step by step ----------------------------------------------------------


def guide_flow(
    flatbuffers: Any, _metadata: Any, _metadata_fb: Any, model_file: Path, label_file: Path
) -> tuple[str, list[str], bytes]:
    """The guide's image classifier example, its names kept; returns the JSON and the files."""
    # Creates model info.
    model_meta = _metadata_fb.ModelMetadataT()
    model_meta.name = "MobileNetV1 image classifier"
    model_meta.description = (
        "Identify the most prominent object in the image from a set of 1,001 categories "
        "such as trees, animals, food, vehicles, person etc."
    )
    model_meta.version = "v1"
    model_meta.author = "TensorFlow"
    model_meta.license = "Apache License. Version 2.0 http://www.apache.org/licenses/LICENSE-2.0."

    # Creates input info.
    input_meta = _metadata_fb.TensorMetadataT()
    input_meta.name = "image"
    input_meta.description = (
        "Input image to be classified. The expected image is 224 x 224, with three channels "
        "(red, blue, and green) per pixel. Each value in the tensor is a single byte between "
        "0 and 255."
    )
    input_meta.content = _metadata_fb.ContentT()
    input_meta.content.contentProperties = _metadata_fb.ImagePropertiesT()
    input_meta.content.contentProperties.colorSpace = _metadata_fb.ColorSpaceType.RGB
    input_meta.content.contentPropertiesType = _metadata_fb.ContentProperties.ImageProperties
    input_normalization = _metadata_fb.ProcessUnitT()
    input_normalization.optionsType = _metadata_fb.ProcessUnitOptions.NormalizationOptions
    input_normalization.options = _metadata_fb.NormalizationOptionsT()
    input_normalization.options.mean = [127.5]
    input_normalization.options.std = [127.5]
    input_meta.processUnits = [input_normalization]
    input_stats = _metadata_fb.StatsT()
    input_stats.max = [255]
    input_stats.min = [0]
    input_meta.stats = input_stats

    # Creates output info. (The guide sets `content_properties`, which no field is
    # called: the output's FeatureProperties is then written without a value.)
    output_meta = _metadata_fb.TensorMetadataT()
    output_meta.name = "probability"
    output_meta.description = "Probabilities of the 1001 labels respectively."
    output_meta.content = _metadata_fb.ContentT()
    output_meta.content.content_properties = _metadata_fb.FeaturePropertiesT()
    output_meta.content.contentPropertiesType = _metadata_fb.ContentProperties.FeatureProperties
    output_stats = _metadata_fb.StatsT()
    output_stats.max = [1.0]
    output_stats.min = [0.0]
    output_meta.stats = output_stats
    label = _metadata_fb.AssociatedFileT()
    label.name = os.path.basename(label_file)
    label.description = "Labels for objects that the model can recognize."
    label.type = _metadata_fb.AssociatedFileType.TENSOR_AXIS_LABELS
    output_meta.associatedFiles = [label]

    # Creates subgraph info.
    subgraph = _metadata_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [input_meta]
    subgraph.outputTensorMetadata = [output_meta]
    model_meta.subgraphMetadata = [subgraph]

    b = flatbuffers.Builder(0)
    b.Finish(model_meta.Pack(b), _metadata.MetadataPopulator.METADATA_FILE_IDENTIFIER)
    metadata_buf = b.Output()

    populator = _metadata.MetadataPopulator.with_model_file(str(model_file))
    populator.load_metadata_buffer(metadata_buf)
    populator.load_associated_files([str(label_file)])
    populator.populate()

    displayer = _metadata.MetadataDisplayer.with_model_file(str(model_file))
    return (
        displayer.get_metadata_json(),
        displayer.get_packed_associated_file_list(),
        displayer.get_associated_file_buffer(os.path.basename(label_file)),
    )


def run_guide(package: str, tmp_path: Path) -> tuple[str, list[str], bytes]:
    if not MOBILENET.is_file() or not LABELS.is_file():
        pytest.skip("the shared MobileNet test data is absent")
    folder = tmp_path / package
    folder.mkdir()
    model = folder / "mobilenet.tflite"
    shutil.copyfile(MOBILENET, model)  # populated in place, as the guide does
    if package == "tflite_metadata":
        from tflite_metadata import flatbuffers
        from tflite_metadata import metadata as _metadata
        from tflite_metadata import metadata_schema_py_generated as _metadata_fb
    else:
        tflite_support = reference()
        flatbuffers = tflite_support.flatbuffers
        _metadata = tflite_support.metadata
        _metadata_fb = tflite_support.metadata_schema_py_generated
    return guide_flow(flatbuffers, _metadata, _metadata_fb, model, LABELS)


def test_the_guide_runs_with_tflite_metadata_imports(tmp_path: Path) -> None:
    text, files, labels = run_guide("tflite_metadata", tmp_path)
    metadata = json.loads(text)
    assert metadata["name"] == "MobileNetV1 image classifier"
    (subgraph,) = metadata["subgraph_metadata"]
    (image,) = subgraph["input_tensor_metadata"]
    assert image["content"]["content_properties"] == {"color_space": "RGB"}
    assert image["process_units"][0]["options"] == {"mean": [127.5], "std": [127.5]}
    (output,) = subgraph["output_tensor_metadata"]
    assert output["content"] == {"content_properties_type": "FeatureProperties"}
    assert output["associated_files"][0]["name"] == "labels.txt"
    assert metadata["min_parser_version"] == "1.0.0"
    assert files == ["labels.txt"]
    assert labels == LABELS.read_bytes()


@pytest.mark.reference
def test_the_guide_gives_tflite_supports_json(tmp_path: Path) -> None:
    ours = run_guide("tflite_metadata", tmp_path)
    theirs = run_guide("tflite_support", tmp_path)
    assert ours == theirs
