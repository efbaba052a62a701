"""Tests of the ``tflite-metadata`` command (tflite_metadata.cli).

Every subcommand runs in-process through ``main(argv)``; one test runs the
installed console script in a subprocess. Models come from the project's model
builder.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import consumer_env
from tflite_metadata import __version__
from tflite_metadata.check import check, printable
from tflite_metadata.cli import main
from tflite_metadata.model.display import MetadataDisplayer
from tflite_metadata.tasks import writer_utils

CLASSES = 7


# -- helpers -------------------------------------------------------------------------------


def build(**kwargs: Any) -> bytes:
    from tflite_metadata import _model_builder as builder

    kwargs.setdefault("heads", [CLASSES])
    return bytes(builder.build_audio_classifier(**kwargs))


def classes_of(model: bytes, output: int = 0) -> int:
    count = 1
    for dim in writer_utils.get_output_tensor_shapes(model)[output]:
        count *= dim
    return count


def run(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    """``main(argv)``: its exit status, stdout and stderr."""
    status = main([os.fspath(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_error_line(err: str, *fragments: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.tflite"
    path.write_bytes(build())
    return path


@pytest.fixture
def classes(model: Path) -> int:
    return classes_of(model.read_bytes())


@pytest.fixture
def labels(tmp_path: Path, classes: int) -> Path:
    path = tmp_path / "labels.txt"
    path.write_text("".join(f"class {i}\n" for i in range(classes)))
    return path


@pytest.fixture
def written(capsys: pytest.CaptureFixture[str], model: Path, labels: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", out,
        "--sample-rate", "16000", "--channels", "1", "--labels", labels,
    )  # fmt: skip
    assert status == 0, err
    return out


# -- the program ----------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out == f"tflite-metadata {__version__} (metadata schema 1.5.0)\n"


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for command in ("write", "show", "extract", "check", "demo"):
        assert command in out
    status, out, _ = run(capsys, "write", "audio-classifier", "--help")
    assert status == 0
    assert "--sample-rate" in out and "--spec" in out and "--no-check" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["write"], "the following arguments are required: KIND"),
        (["write", "audio-classifier", "m.tflite"], "required: -o/--output"),
        (["check"], "required: MODEL"),
        (["write", "audio-classifier", "m", "-o", "o", "--sample-rate", "-3"], "from 0 to"),
        (["write", "audio-classifier", "m", "-o", "o", "--locale", "fr"], "--labels before it"),
        (
            ["write", "audio-classifier", "m", "-o", "o", "--score-transformation", "CUBIC"],
            "expected one of IDENTITY, LOG, INVERSE_LOGISTIC",
        ),
    ],
)
def test_usage_errors_are_one_line_with_status_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert_one_error_line(err, fragment, "--help")


@pytest.mark.parametrize(
    ("argv", "where"),
    [
        (["write", "bert-nl-classifier", "m", "-o", "o", "--bogus"], "write bert-nl-classifier"),
        (["write", "object-detector", "m", "-o", "o", "--score-threshold", "1"],
         "write object-detector"),
        (["show", "m", "--bogus", "x"], "show"),
        (["show", "--bogus", "m"], "show"),
    ],
)  # fmt: skip
def test_unrecognized_arguments_point_to_their_commands_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], where: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    prog = " ".join(["tflite-metadata", where]).strip()
    assert_one_error_line(err, "unrecognized arguments: ", f"(see '{prog} --help')")


def test_python_dash_m(model: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tflite_metadata", "check", str(model)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "[no-metadata]" in result.stdout


def test_reading_commands_do_not_import_flatbuffers(tmp_path: Path) -> None:
    """``show``, ``check`` and ``extract`` start fast: the ``flatbuffers`` package (which
    imports numpy when numpy is installed) is only needed to build a buffer, and the
    model schema's flatc module (``schema_py_generated``, a few hundred classes) never."""
    populated = tmp_path / "populated.tflite"
    assert main(["demo", "-o", str(populated)]) == 0
    script = (
        "import sys\n"
        "from tflite_metadata.cli import main\n"
        "model, folder = sys.argv[1:]\n"
        "commands = [['show', model], ['check', model], ['extract', model, '-d', folder]]\n"
        "statuses = [main(argv) for argv in commands]\n"
        "assert statuses == [0, 0, 0], statuses\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flatbuffers', 'numpy'))\n"
        "assert not loaded, loaded\n"
        "assert 'tflite_metadata.schema_py_generated' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(populated), str(tmp_path / "files")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "files").is_dir()


def _task_modules_loaded(script: str, *args: str) -> list[str]:
    """The task modules (``tflite_metadata.tasks.<task>``) a fresh process has imported."""
    shared = ("base", "classification", "image_input", "rules", "spec", "writer_utils")
    probe = (
        script
        + "\nimport sys, json\n"
        + "print(json.dumps(sorted(m for m in sys.modules if m.startswith('tflite_metadata.tasks.')"
        + f" and m.rsplit('.', 1)[1] not in {shared!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True
    )
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def test_a_command_imports_only_the_tasks_it_needs(tmp_path: Path) -> None:
    """pip's way: a task module is imported when its task is used, never at start-up."""
    populated = tmp_path / "populated.tflite"
    assert main(["demo", "-o", str(populated)]) == 0
    run = "import io, contextlib, sys\nfrom tflite_metadata.cli import main\n"
    run += "with contextlib.redirect_stdout(io.StringIO()):\n    main(sys.argv[1:])"
    assert _task_modules_loaded(run, "show", str(populated)) == []
    assert _task_modules_loaded(run, "--help") == []
    assert _task_modules_loaded(run, "write", "--help") == []
    # The demo model is an audio classifier: inferred from its metadata, its task alone.
    assert _task_modules_loaded(run, "check", str(populated)) == [
        "tflite_metadata.tasks.audio_classifier"
    ]
    out = str(tmp_path / "out.tflite")
    write = ["write", "audio-classifier", str(populated), "-o", out, "--sample-rate", "16000"]
    assert _task_modules_loaded(run, *write, "--channels", "1") == [
        "tflite_metadata.tasks.audio_classifier"
    ]
    # The vision tasks share the image input through tasks/image_input, not through each other.
    for task in ("audio_classifier", "image_classifier", "object_detector", "image_segmenter"):
        module = f"import tflite_metadata.metadata_writers.{task}"
        assert _task_modules_loaded(module) == [f"tflite_metadata.tasks.{task}"]


def test_the_installed_console_script(tmp_path: Path) -> None:
    folder = Path(sys.executable).parent
    script = folder / ("tflite-metadata.exe" if os.name == "nt" else "tflite-metadata")
    consumer_env.require(script.exists(), f"the console script {script}")
    demo = subprocess.run(
        [str(script), "demo", "-o", "demo.tflite"], cwd=tmp_path, capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stderr
    assert f"Result written to {(tmp_path / 'demo.tflite').resolve()}" in demo.stdout
    checked = subprocess.run(
        [str(script), "check", "demo.tflite"], cwd=tmp_path, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == "demo.tflite: no problems found (Task Library, MediaPipe)\n"
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    failed = subprocess.run([str(script), "show", str(junk)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert_one_error_line(failed.stderr)


# -- write -----------------------------------------------------------------------------------


def test_write(
    capsys: pytest.CaptureFixture[str], model: Path, labels: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.tflite"
    status, stdout, err = run(
        capsys, "write", "audio-classifier", model, "-o", out,
        "--sample-rate", "16000", "--channels", "1", "--labels", labels,
        "--model-name", "Birds", "--model-version", "2", "--description", "What sings.",
        "--author", "Me", "--license", "MIT",
        "--input-name", "clip", "--input-description", "Mono audio.",
        "--output-name", "scores", "--output-description", "Bird scores.",
    )  # fmt: skip
    assert status == 0, err
    assert err == ""
    assert stdout == f"wrote {out} ({out.stat().st_size} bytes), with labels.txt\n"
    metadata = json.loads(MetadataDisplayer.with_model_file(out).get_metadata_json())
    assert metadata["name"] == "Birds"
    assert metadata["version"] == "2"
    assert metadata["description"] == "What sings."
    assert metadata["author"] == "Me"
    assert metadata["license"] == "MIT"
    subgraph = metadata["subgraph_metadata"][0]
    audio = subgraph["input_tensor_metadata"][0]
    assert audio["name"] == "clip"
    assert audio["description"] == "Mono audio."
    assert audio["content"]["content_properties"] == {"sample_rate": 16000, "channels": 1}
    output = subgraph["output_tensor_metadata"][0]
    assert output["name"] == "scores"
    assert output["description"] == "Bird scores."
    assert [f["name"] for f in output["associated_files"]] == ["labels.txt"]
    assert check(out) == []


def test_write_matches_the_python_api(
    capsys: pytest.CaptureFixture[str], model: Path, labels: Path, tmp_path: Path
) -> None:
    from tflite_metadata import metadata_schema_py_generated as fb
    from tflite_metadata.metadata_writers import metadata_info as info
    from tflite_metadata.tasks.audio_classifier import AudioClassifierWriter

    calibration = tmp_path / "calibration.txt"
    calibration.write_text("\n".join(["1.0,2.0,0.5"] * classes_of(model.read_bytes())))
    fr = tmp_path / "labels_fr.txt"
    fr.write_bytes(labels.read_bytes().replace(b"class", b"classe"))
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", out,
        "--sample-rate", "16000", "--channels", "1",
        "--labels", labels, "--labels", fr, "--locale", "fr",
        "--score-calibration", calibration, "--score-transformation", "LOG",
        "--default-score", "0.2",
    )  # fmt: skip
    assert status == 0, err
    expected = AudioClassifierWriter.create_for_inference(
        model.read_bytes(),
        16000,
        1,
        [labels, info.LabelFileMd(fr, "fr")],
        info.ScoreCalibrationMd(fb.ScoreTransformationType.LOG, 0.2, calibration),
    ).populate()
    assert out.read_bytes() == bytes(expected)


def test_write_refuses_a_label_count_mismatch(
    capsys: pytest.CaptureFixture[str], model: Path, classes: int, tmp_path: Path
) -> None:
    three = tmp_path / "three.txt"
    three.write_text("a\nb\nc\n")
    out = tmp_path / "out.tflite"
    status, stdout, err = run(
        capsys, "write", "audio-classifier", model, "-o", out,
        "--sample-rate", "16000", "--channels", "1", "--labels", three,
    )  # fmt: skip
    assert status == 1
    assert stdout == ""
    assert not out.exists()
    assert err.splitlines() == [
        f"problem: output 0: label file 'three.txt' has 3 labels for {classes} classes "
        "(Task Library, MediaPipe) [label-count]",
        f"error: {out} was not written: Task Library or MediaPipe would refuse the model "
        "(1 problem above); fix them, or pass --no-check to write it anyway",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite", "three.txt"]


def test_no_check_writes_anyway_and_check_reports_both_numbers(
    capsys: pytest.CaptureFixture[str], model: Path, classes: int, tmp_path: Path
) -> None:
    three = tmp_path / "three.txt"
    three.write_text("a\nb\nc\n")
    out = tmp_path / "out.tflite"
    status, stdout, err = run(
        capsys, "write", "audio-classifier", model, "-o", out,
        "--sample-rate", "16000", "--channels", "1", "--labels", three, "--no-check",
    )  # fmt: skip
    assert status == 0
    assert out.exists()
    assert err == (
        f"warning: output 0: label file 'three.txt' has 3 labels for {classes} classes "
        "(Task Library, MediaPipe) [label-count]\n"
    )
    status, stdout, err = run(capsys, "check", out)
    assert status == 1
    assert err == ""
    assert stdout == (
        f"output 0: label file 'three.txt' has 3 labels for {classes} classes "
        "(Task Library, MediaPipe) [label-count]\n"
    )


def test_write_over_the_input_itself(
    capsys: pytest.CaptureFixture[str], model: Path, labels: Path, tmp_path: Path
) -> None:
    original = model.read_bytes()
    three = tmp_path / "three.txt"
    three.write_text("a\nb\nc\n")
    status, _, _ = run(
        capsys, "write", "audio-classifier", model, "-o", model,
        "--sample-rate", "16000", "--channels", "1", "--labels", three,
    )  # fmt: skip
    assert status == 1
    assert model.read_bytes() == original  # refused: the input is untouched
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", model,
        "--sample-rate", "16000", "--channels", "1", "--labels", labels,
    )  # fmt: skip
    assert status == 0, err
    assert model.read_bytes() != original
    assert check(model) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.txt", "model.tflite", "three.txt"]


def test_write_a_junk_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"GIF89a" + bytes(range(256)) * 4)
    out = tmp_path / "out.tflite"
    status, stdout, err = run(
        capsys, "write", "audio-classifier", junk, "-o", out, "--sample-rate", "16000",
        "--channels", "1",
    )  # fmt: skip
    assert status == 1
    assert stdout == ""
    assert_one_error_line(err, "does not have the expected identifier")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.tflite"]


def test_traceback_on_request(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"junk" * 10)
    status, _, err = run(capsys, "--traceback", "check", junk)
    assert status == 1
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("error: ")
    status, _, err = run(capsys, "check", junk, "--traceback")
    assert status == 1
    assert "Traceback (most recent call last)" in err


def test_write_a_missing_label_file(
    capsys: pytest.CaptureFixture[str], model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", out, "--sample-rate", "16000",
        "--channels", "1", "--labels", tmp_path / "missing.txt",
    )  # fmt: skip
    assert status == 1
    assert_one_error_line(err, "missing.txt', does not exist")
    assert not out.exists()


def test_write_needs_the_sample_rate_and_channels(
    capsys: pytest.CaptureFixture[str], model: Path, tmp_path: Path
) -> None:
    status, _, err = run(capsys, "write", "audio-classifier", model, "-o", tmp_path / "o.tflite")
    assert status == 2
    assert_one_error_line(err, "--sample-rate and --channels")


def test_write_refuses_a_sample_rate_of_zero(
    capsys: pytest.CaptureFixture[str], model: Path, labels: Path, tmp_path: Path
) -> None:
    out = tmp_path / "o.tflite"
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", out, "--sample-rate", "0",
        "--channels", "1", "--labels", labels,
    )  # fmt: skip
    assert status == 1
    assert "problem: input 0: sample rate is 0" in err
    assert not out.exists()


def test_write_refuses_a_calibration_with_a_trailing_newline(
    capsys: pytest.CaptureFixture[str], model: Path, labels: Path, classes: int, tmp_path: Path
) -> None:
    calibration = tmp_path / "calibration.txt"
    calibration.write_text("1.0,2.0,0.5\n" * classes)
    out = tmp_path / "o.tflite"
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", out, "--sample-rate", "16000",
        "--channels", "1", "--labels", labels, "--score-calibration", calibration,
    )  # fmt: skip
    assert status == 1
    assert (
        f"'calibration.txt' has {classes + 1} entries for {classes} classes; the consumers "
        "split it on '\\n'" in err
    )
    assert not out.exists()


def test_write_two_heads_with_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model_bytes = build(heads=[5, 10])
    model = tmp_path / "two.tflite"
    model.write_bytes(model_bytes)
    names = writer_utils.get_output_tensor_names(model_bytes)
    counts = [classes_of(model_bytes, 0), classes_of(model_bytes, 1)]
    files = []
    for index, count in enumerate(counts):
        path = tmp_path / f"labels{index}.txt"
        path.write_text("".join(f"{index}-{i}\n" for i in range(count)))
        files.append(path)
    out = tmp_path / "out.tflite"
    # Heads named by their tensors, in the opposite order of the model's outputs.
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", out, "--sample-rate", "16000",
        "--channels", "1",
        "--head", names[1], "--labels", files[1], "--output-name", "second",
        "--head", names[0], "--labels", files[0], "--output-name", "first",
    )  # fmt: skip
    assert status == 0, err
    metadata = json.loads(MetadataDisplayer.with_model_file(out).get_metadata_json())
    outputs = metadata["subgraph_metadata"][0]["output_tensor_metadata"]
    assert [o["name"] for o in outputs] == ["first", "second"]
    assert [o["associated_files"][0]["name"] for o in outputs] == ["labels0.txt", "labels1.txt"]
    assert check(out) == []

    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", out, "--sample-rate", "16000",
        "--channels", "1", "--labels", files[0],
    )  # fmt: skip
    assert status == 1
    assert_one_error_line(err, "the model has 2 outputs", "1 classification head is described")


def test_write_from_a_json_spec(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model_bytes = build(heads=[5, 10])
    model = tmp_path / "two.tflite"
    model.write_bytes(model_bytes)
    names = writer_utils.get_output_tensor_names(model_bytes)
    counts = [classes_of(model_bytes, 0), classes_of(model_bytes, 1)]
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "first.txt").write_text("".join(f"a{i}\n" for i in range(counts[0])))
    spec = {
        "name": "Two heads",
        "version": "1.0",
        "author": "Me",
        "license": "MIT",
        "input": {"name": "clip", "sample_rate": 8000, "channels": 1},
        "outputs": [
            {
                "tensor_name": names[0],
                "name": "first",
                "labels": ["first.txt", {"name": "fr.txt", "locale": "fr",
                                         "labels": [f"b{i}" for i in range(counts[0])]}],
            },
            {
                "tensor_name": names[1],
                "labels": [{"name": "second.txt", "labels": [f"c{i}" for i in range(counts[1])]}],
                "score_calibration": {
                    "parameters": [[1.0, 2.0, 0.5]] * (counts[1] - 1) + [None],
                    "transformation": "INVERSE_LOGISTIC",
                    "default_score": 0.25,
                },
            },
        ],
    }  # fmt: skip
    spec_path = specs / "spec.json"
    spec_path.write_text(json.dumps(spec))
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", out, "--spec", spec_path,
        "--sample-rate", "16000",  # overrides the spec
    )  # fmt: skip
    assert status == 0, err
    metadata = json.loads(MetadataDisplayer.with_model_file(out).get_metadata_json())
    assert metadata["name"] == "Two heads"
    subgraph = metadata["subgraph_metadata"][0]
    audio = subgraph["input_tensor_metadata"][0]
    assert audio["name"] == "clip"
    assert audio["content"]["content_properties"]["sample_rate"] == 16000
    first, second = subgraph["output_tensor_metadata"]
    assert first["name"] == "first"
    assert [(f["name"], f.get("locale")) for f in first["associated_files"]] == [
        ("first.txt", None),
        ("fr.txt", "fr"),
    ]
    assert second["name"] == names[1]  # no name given: the tensor's
    options = second["process_units"][0]["options"]
    assert options == {"score_transformation": "INVERSE_LOGISTIC", "default_score": 0.25}
    assert check(out) == []


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/tmp/x/abs.txt", "a/b.txt", "a\\b.txt", "..", ".", "nul\0.txt"]
)
@pytest.mark.parametrize("where", ["labels", "score_calibration"])
def test_spec_file_names_are_plain_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, where: str
) -> None:
    """A spec's in-memory file ``name`` is refused unless plain, as ``exported_filename`` is:
    it was packed under its base name (``../evil.txt`` as ``evil.txt``) with status 0."""
    model_bytes = build(heads=[3])
    model = tmp_path / "m.tflite"
    model.write_bytes(model_bytes)
    head: dict[str, Any] = {"labels": [{"name": "ok.txt", "labels": ["a", "b", "c"]}]}
    if where == "labels":
        head["labels"][0]["name"] = name
        error_at = "outputs[0].labels[0].name"
    else:
        head["score_calibration"] = {"name": name, "parameters": [[1.0, 2.0, 0.5]] * 3}
        error_at = "outputs[0].score_calibration.name"
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"input": {"sample_rate": 8000, "channels": 1}, "outputs": [head]}))
    out = tmp_path / "out.tflite"
    argv = ["write", "audio-classifier", model, "-o", out, "--spec", spec]
    status, _, err = run(capsys, *argv)
    assert status == 1 and not out.exists()
    assert_one_error_line(err, f"{error_at} {name!r}"[:40], "is not a plain file name")
    (head["labels"][0] if where == "labels" else head["score_calibration"])["name"] = "plain.txt"
    spec.write_text(json.dumps({"input": {"sample_rate": 8000, "channels": 1}, "outputs": [head]}))
    status, _, err = run(capsys, *argv)
    assert status == 0, err
    names = MetadataDisplayer.with_model_file(out).get_packed_associated_file_list()
    assert "plain.txt" in names


def test_write_from_a_toml_spec(
    capsys: pytest.CaptureFixture[str], model: Path, labels: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'name = "From TOML"\n[input]\nsample_rate = 16000\nchannels = 1\n'
        f'[[outputs]]\nlabels = ["{labels.name}"]\n'
    )
    out = tmp_path / "out.tflite"
    status, _, err = run(capsys, "write", "audio-classifier", model, "-o", out, "--spec", spec)
    if sys.version_info < (3, 11):
        assert status == 1
        assert_one_error_line(err, "TOML needs Python 3.11 or newer")
        return
    assert status == 0, err
    metadata = json.loads(MetadataDisplayer.with_model_file(out).get_metadata_json())
    assert metadata["name"] == "From TOML"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ('{"input": {"name": 5}}', "input.name: expected a string, found the number 5"),
        ('{"outputs": [{"labels": [{"file": "a.txt", "labels": []}]}]}', "give either 'file'"),
        ('{"outputs": [{"labelz": []}]}', "outputs[0]: unknown key 'labelz'"),
        ('{"input": ', "not valid JSON"),
        ("[1, 2]", "expected a table (JSON object) at the top"),
        (
            '{"outputs": [{"score_calibration": {"file": "c.txt", "transformation": "X"}}]}',
            "outputs[0].score_calibration.transformation: expected one of IDENTITY",
        ),
        ('{"outputs": [{"tensor_name": "nope"}]}', "the model has no output named 'nope'"),
    ],
)
def test_write_reports_spec_errors(
    capsys: pytest.CaptureFixture[str], model: Path, tmp_path: Path, spec: str, fragment: str
) -> None:
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(spec)
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", tmp_path / "o.tflite",
        "--spec", spec_path, "--sample-rate", "16000", "--channels", "1",
    )  # fmt: skip
    assert status == 1
    assert_one_error_line(err, "spec.json", fragment)
    assert not (tmp_path / "o.tflite").exists()


# -- show --------------------------------------------------------------------------------------


def test_show(
    capsys: pytest.CaptureFixture[str], written: Path, labels: Path, classes: int
) -> None:
    status, out, err = run(capsys, "show", written)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "model: AudioClassifier"
    assert "min_parser_version: 1.3.0" in lines
    assert any(line.startswith("input 0: audio_clip (tensor ") and
               line.endswith(": 16000 Hz, 1 channel") for line in lines)  # fmt: skip
    assert any(line.startswith("output 0: probability (tensor ") for line in lines)
    assert (
        f"  labels labels.txt: {classes} labels: class 0, class 1, class 2, class 3, class 4, ..."
        in lines
    )
    assert lines[-2:] == ["associated files:", f"  labels.txt: {labels.stat().st_size} bytes"]


def test_show_json_is_exactly_the_displayers(
    capsys: pytest.CaptureFixture[str], written: Path
) -> None:
    status, out, _ = run(capsys, "show", "--json", written)
    assert status == 0
    assert out == MetadataDisplayer.with_model_file(written).get_metadata_json()


def test_show_a_model_without_metadata(capsys: pytest.CaptureFixture[str], model: Path) -> None:
    status, out, _ = run(capsys, "show", model)
    assert status == 0
    assert out.splitlines()[0] == "metadata: none"
    status, out, err = run(capsys, "show", "--json", model)
    assert status == 1
    assert_one_error_line(err, "does not have metadata")


def test_show_escapes_names_read_from_the_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from tflite_metadata.metadata_writers import metadata_info as info
    from tflite_metadata.tasks.audio_classifier import AudioClassifierWriter

    model = build()
    count = classes_of(model)
    evil = "\x1b]0;pwned\x07\x1b[2J"
    metadata_writer = AudioClassifierWriter.create_from_metadata_info(
        model,
        info.GeneralMd(name=evil + "model"),
        info.InputAudioTensorMd("in\nput", None, 16000, 1),
        info.ClassificationTensorMd(
            name="out\u202eput",
            label_files=[info.LabelFileMd("lXabels.txt", labels=[evil] * count)],
        ),
    )
    path = tmp_path / "evil.tflite"
    # The writer refuses to pack a name with a control character: put one in afterwards,
    # in the metadata and the zip alike (same length, so every offset stays right).
    populated = bytes(metadata_writer.populate())
    assert populated.count(b"lXabels.txt") == 3
    path.write_bytes(populated.replace(b"lXabels.txt", b"l\rabels.txt"))
    status, out, _ = run(capsys, "show", path)
    assert status == 0
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\u202e" not in out
    assert "model: \\x1b]0;pwned\\x07\\x1b[2Jmodel" in out
    assert "input 0: in\\nput (tensor" in out
    assert "output 0: out\\u202eput (tensor" in out
    assert "l\\rabels.txt" in out


def test_show_a_junk_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"")
    status, out, err = run(capsys, "show", junk)
    assert status == 1
    assert out == ""
    assert_one_error_line(err)
    status, _, err = run(capsys, "show", tmp_path / "missing.tflite")
    assert status == 1
    assert_one_error_line(err, "missing.tflite', does not exist")


# -- extract -----------------------------------------------------------------------------------


def test_extract(
    capsys: pytest.CaptureFixture[str], written: Path, labels: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "files" / "nested"
    status, out, err = run(capsys, "extract", written, "-d", folder)
    assert status == 0, err
    assert (folder / "labels.txt").read_bytes() == labels.read_bytes()
    assert out == f"{folder / 'labels.txt'} ({labels.stat().st_size} bytes)\n"


def test_extract_a_model_without_files(
    capsys: pytest.CaptureFixture[str], model: Path, tmp_path: Path
) -> None:
    status, out, _ = run(capsys, "extract", model, "-d", tmp_path / "files")
    assert status == 0
    assert out == "the model has no associated files\n"
    assert not (tmp_path / "files").exists()


def _with_zip(model: bytes, names: list[str]) -> bytes:
    stream = io.BytesIO(model)
    stream.seek(0, io.SEEK_END)
    with zipfile.ZipFile(stream, "a") as archive:
        for name in names:
            info = zipfile.ZipInfo("placeholder")
            info.filename = name  # as given: ZipInfo would rewrite some of these
            archive.writestr(info, b"payload")
    return stream.getvalue()


@pytest.mark.parametrize(
    "hostile",
    ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:evil.txt", "C:/evil.txt",
     "..\\evil.txt", "a\\b.txt"],
)  # fmt: skip
def test_extract_refuses_hostile_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hostile: str
) -> None:
    model = tmp_path / "hostile.tflite"
    model.write_bytes(_with_zip(build(), ["good.txt", hostile]))
    folder = tmp_path / "out" / "inner"
    status, out, err = run(capsys, "extract", model, "-d", folder)
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"problem: refused {printable(repr(hostile))}: ")
    assert lines[-1] == (
        "error: nothing was extracted: 1 of 2 associated file names would write outside the folder"
    )
    assert "Traceback" not in err
    # Nothing written anywhere: not the good file, not the hostile one.
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "hostile.tflite"
    ]


# -- check --------------------------------------------------------------------------------------


def test_check_a_good_model(capsys: pytest.CaptureFixture[str], written: Path) -> None:
    status, out, err = run(capsys, "check", written)
    assert status == 0
    assert out == f"{written}: no problems found (Task Library, MediaPipe)\n"
    assert err == ""


def test_check_json(capsys: pytest.CaptureFixture[str], model: Path) -> None:
    status, out, _ = run(capsys, "check", "--json", model)
    assert status == 1
    problems = json.loads(out)
    assert [p["code"] for p in problems] == ["no-metadata"]
    assert problems[0]["consumers"] == ["Task Library", "MediaPipe"]
    assert problems[0]["location"] == "model"


def test_check_a_junk_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(os.urandom(1000))
    status, out, err = run(capsys, "check", junk)
    assert status == 1
    assert out == ""
    assert_one_error_line(err)


def test_check_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "check", tmp_path)
    assert status == 1
    assert_one_error_line(err)


# -- demo ---------------------------------------------------------------------------------------


def test_demo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tflite_metadata import demo

    out = tmp_path / "demo.tflite"
    status, stdout, err = run(capsys, "demo", "-o", out)
    assert status == 0, err
    assert err == ""
    assert f"Result written to {out.resolve()}" in stdout
    assert "check: no problems found (Task Library, MediaPipe)" in stdout
    assert f"  labels labels.txt: {len(demo.LABELS)} labels: silence, speech, music" in stdout
    assert check(out) == []


def test_demo_writes_into_the_current_folder_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, stdout, _ = run(capsys, "demo")
    assert status == 0
    result = tmp_path / "tflite_metadata_demo.tflite"
    assert result.exists()
    assert f"Result written to {result.resolve()}" in stdout


def test_the_bundled_sample_is_what_the_model_builder_makes() -> None:
    from tflite_metadata import demo

    assert demo.sample_model() == demo.build_sample(), (
        "the bundled sample is stale: run `python -m tflite_metadata.demo --regenerate`"
    )


def test_a_closed_pipe_ends_quietly(
    model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``show … | head``: the reader goes away; no error line, and nothing raised at exit."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    broken = os.fdopen(write_end, "w")
    monkeypatch.setattr(sys, "stdout", broken)
    try:
        status = main(["show", str(model)])
        broken.write("more at exit\n")
        broken.flush()  # the descriptor now goes to the null device
    finally:
        monkeypatch.undo()
        broken.close()
    assert status == 141
    assert capsys.readouterr().err == ""


def test_command_line_paths_are_relative_to_the_working_folder_with_a_spec_elsewhere(
    capsys: pytest.CaptureFixture[str],
    model: Path,
    labels: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--labels x --spec sub/spec.json``: x is in the working folder, not in sub/."""
    (tmp_path / "sub").mkdir()
    spec = tmp_path / "sub" / "spec.json"
    spec.write_text(json.dumps({"name": "from the spec"}))
    calibration = tmp_path / "calibration.txt"
    calibration.write_text("\n".join(["1.0,2.0,0.5"] * classes_of(model.read_bytes())))
    monkeypatch.chdir(tmp_path)
    status, _, err = run(
        capsys, "write", "audio-classifier", model, "-o", "out.tflite", "--spec", "sub/spec.json",
        "--sample-rate", "16000", "--channels", "1",
        "--labels", labels.name, "--score-calibration", "calibration.txt",
    )  # fmt: skip
    assert status == 0, err
    written = MetadataDisplayer.with_model_file(tmp_path / "out.tflite")
    assert json.loads(written.get_metadata_json())["name"] == "from the spec"
    assert written.get_associated_file_buffer("labels.txt") == labels.read_bytes()
