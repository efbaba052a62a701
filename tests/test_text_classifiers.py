"""Tests of the text classifier tasks (tasks.nl_classifier, tasks.bert_nl_classifier, tasks.text).

* the writers and the text descriptions: behaviour, errors, and what tflite-support
  got wrong (the BERT name-mismatch message, the caller's objects modified);
* golden: tflite-support's expected JSON for movie_review (regex tokenizer, default)
  and for the BERT classifier (BERT and SentencePiece tokenizers, default), the BERT
  model made by the project's builder (/work/shared/testdata, read in place);
* differential: a few hundred random cases per writer, tflite-support 0.4.4 and ours,
  run by the same code, give identical metadata buffers and ``get_metadata_json()``;
* the minimum parser versions the text metadata triggers;
* the consumer rules of ``check`` on populated models;
* the command line: ``write nl-classifier``, ``write bert-nl-classifier``, ``show``.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import consumer_env
from differential import writer_outcome
from shared_data import read_testdata, shared_path
from tflite_metadata import metadata_schema_py_generated as fb
from tflite_metadata.check import MEDIAPIPE, TASK_LIBRARY, Problem, check, infer_task
from tflite_metadata.cli import main
from tflite_metadata.errors import ConsumerCompatibilityWarning, MetadataValidationError
from tflite_metadata.format import codec
from tflite_metadata.format.version import min_parser_version
from tflite_metadata.metadata_writers import bert_nl_classifier as compat_bert
from tflite_metadata.metadata_writers import metadata_info as info
from tflite_metadata.metadata_writers import nl_classifier as compat_nl
from tflite_metadata.metadata_writers import writer_utils as compat_utils
from tflite_metadata.model.display import MetadataDisplayer
from tflite_metadata.model.reader import ModelView

NL_DATA = "tflite-support/nl_classifier"
BERT_DATA = "tflite-support/bert_nl_classifier"
REGEX = r"[^\w\']+"
BERT_NAMES = (
    "serving_default_input_word_ids:0",
    "serving_default_input_mask:0",
    "serving_default_input_type_ids:0",
)
BERT_VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\ngood\nbad\nmovie\n##s\n"
REGEX_VOCAB = "<PAD> 0\n<START> 1\n<UNKNOWN> 2\nthe 3\ngood 4\nbad 5\nmovie 6\n"


# -- helpers ----------------------------------------------------------------------------------


def reference() -> Any:
    """tflite-support 0.4.4's writer modules; skip without them, fail under CI."""
    try:
        from tflite_support.metadata_writers import bert_nl_classifier as ref_bert
        from tflite_support.metadata_writers import metadata_info, writer_utils
        from tflite_support.metadata_writers import nl_classifier as ref_nl
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")

    class Reference:
        info = metadata_info
        nl = ref_nl
        bert = ref_bert
        utils = writer_utils

    return Reference


class Ours:
    """Our modules under tflite-support's names, for code written once for both."""

    info = info
    nl = compat_nl
    bert = compat_bert
    utils = compat_utils


@functools.cache
def build_nl(length: int = 8, classes: int = 2, output_type: str = "float32") -> bytes:
    """An NL-classifier-shaped model: one INT32 input [1, length]."""
    from tflite_metadata import _model_builder as builder

    return bytes(
        builder.build_audio_classifier(
            input_samples=length,
            heads=[classes],
            input_type="int32",
            output_type=output_type,
            input_name="input_text",
        )
    )


@functools.cache
def build_bert(seq_len: int = 16, classes: int = 2, order: tuple[int, ...] = (0, 2, 1)) -> bytes:
    """A BERT-shaped model; ``order`` picks the input order from BERT_NAMES (ids, mask, type)."""
    from tflite_metadata import _model_builder as builder

    return bytes(
        builder.build_bert_classifier(
            seq_len=seq_len, classes=classes, input_names=[BERT_NAMES[i] for i in order]
        )
    )


def _task_of(populated: bytes) -> Any:
    metadata = ModelView(populated).metadata_buffer()
    assert metadata is not None
    task = infer_task(codec.decode(metadata))
    return None if task is None else task.name


def _build_shaped(shape: tuple[int, ...]) -> bytes:
    from tflite_metadata import _model_builder as builder

    return bytes(
        builder.build_audio_classifier(
            input_shape=shape, heads=[2], input_type="int32", input_name="input_text"
        )
    )


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def populate_quietly(metadata_writer: Any) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        return bytes(metadata_writer.populate())


@pytest.fixture
def text_files(tmp_path: Path) -> Path:
    (tmp_path / "vocab.txt").write_text(REGEX_VOCAB)
    (tmp_path / "bert_vocab.txt").write_text(BERT_VOCAB)
    (tmp_path / "labels.txt").write_text("negative\npositive\n")
    return tmp_path


# -- golden: tflite-support's expected JSON ------------------------------------------------------


def _nl_golden(m: Any) -> Any:
    folder = shared_path(f"{NL_DATA}/vocab.txt").rsplit("/", 1)[0]
    model = read_testdata(f"{NL_DATA}/movie_review.tflite")
    return m.nl.MetadataWriter.create_for_inference(
        model,
        m.info.RegexTokenizerMd(REGEX, f"{folder}/vocab.txt"),
        [f"{folder}/labels.txt"],
    )


def test_golden_nl_regex() -> None:
    expected = read_testdata(f"{NL_DATA}/movie_review_regex.json").decode()
    metadata_writer = _nl_golden(Ours)
    assert metadata_writer.get_populated_metadata_json() == expected
    assert check(metadata_writer.populate()) == []


def test_golden_nl_default() -> None:
    expected = read_testdata(f"{NL_DATA}/movie_review_default.json").decode()
    model = read_testdata(f"{NL_DATA}/movie_review.tflite")
    metadata_writer = compat_nl.MetadataWriter.create_from_metadata_info(model)
    assert metadata_writer.get_metadata_json() == expected


def _bert_golden(m: Any, folder: Path, tokenizer: str) -> Any:
    labels = shared_path(f"{BERT_DATA}/labels.txt")
    if tokenizer == "default":
        return m.bert.MetadataWriter.create_from_metadata_info(build_bert())
    if tokenizer == "bert":
        vocab = folder / "mobilebert_vocab.txt"
        vocab.write_text(BERT_VOCAB)
        tokenizer_md = m.info.BertTokenizerMd(str(vocab))
    else:
        model = folder / "30k-clean.model"
        model.write_bytes(read_testdata(f"{BERT_DATA}/sentencepiece.model"))
        tokenizer_md = m.info.SentencePieceTokenizerMd(str(model))
    return m.bert.MetadataWriter.create_for_inference(build_bert(), tokenizer_md, [labels])


@pytest.mark.parametrize(
    ("tokenizer", "golden"),
    [
        ("bert", "bert_nl_classifier_with_bert_tokenizer.json"),
        ("sentence_piece", "bert_nl_classifier_with_sentence_piece.json"),
    ],
)
def test_golden_bert(tmp_path: Path, tokenizer: str, golden: str) -> None:
    expected = read_testdata(f"{BERT_DATA}/{golden}").decode()
    metadata_writer = _bert_golden(Ours, tmp_path, tokenizer)
    assert metadata_writer.get_populated_metadata_json() == expected
    assert check(metadata_writer.populate()) == []


def test_golden_bert_default() -> None:
    expected = read_testdata(f"{BERT_DATA}/bert_nl_classifier_default.json").decode()
    assert _bert_golden(Ours, Path("."), "default").get_metadata_json() == expected


@pytest.mark.reference
def test_reference_golden_buffers(tmp_path: Path) -> None:
    ref = reference()
    pairs = [(_nl_golden(Ours), _nl_golden(ref))]
    for tokenizer in ("bert", "sentence_piece", "default"):
        pairs.append(
            (_bert_golden(Ours, tmp_path, tokenizer), _bert_golden(ref, tmp_path, tokenizer))
        )
    for ours, theirs in pairs:
        assert bytes(ours._metadata_buffer) == bytes(theirs._metadata_buffer)
        assert ours.get_metadata_json() == theirs.get_metadata_json()
    for ours, theirs in pairs[:3]:
        assert ours.get_populated_metadata_json() == theirs.get_populated_metadata_json()


# -- the writers and descriptions ----------------------------------------------------------------


def test_tokenizer_file_names_are_recorded_as_given_then_reduced(text_files: Path) -> None:
    vocab = text_files / "vocab.txt"
    metadata_writer = compat_nl.MetadataWriter.create_for_inference(
        build_nl(), info.RegexTokenizerMd(REGEX, vocab), [text_files / "labels.txt"]
    )
    assert f'"name": "{vocab}"' in metadata_writer.get_metadata_json()
    populated = populate_quietly(metadata_writer)
    assert '"name": "vocab.txt"' in metadata_writer.get_populated_metadata_json()
    assert b"vocab.txt" in populated and b"labels.txt" in populated


def test_regex_pattern_is_stored_never_compiled(text_files: Path) -> None:
    # Neither valid in Python's re nor anything but text to the writer.
    pattern = r"(?<word>[\p{L}]+)|[^\w"
    with pytest.raises(re.error):
        re.compile(pattern)
    tokenizer = info.RegexTokenizerMd(pattern, text_files / "vocab.txt")
    unit = tokenizer.create_metadata()
    assert unit.options.delimRegexPattern == pattern
    with pytest.raises(MetadataValidationError, match="should be a str"):
        info.RegexTokenizerMd(re.compile("a"), text_files / "vocab.txt")  # type: ignore[arg-type]


def test_callers_objects_are_not_modified(text_files: Path) -> None:
    output_md = info.TensorMd(name="scores")
    assert output_md.associated_files is None
    input_md = info.InputTextTensorMd(
        "text", tokenizer_md=info.RegexTokenizerMd(REGEX, text_files / "vocab.txt")
    )
    compat_nl.MetadataWriter.create_from_metadata_info(
        build_nl(),
        None,
        input_md,
        output_md,  # type: ignore[arg-type]
    )
    compat_bert.MetadataWriter.create_from_metadata_info(
        build_bert(),
        None,
        None,
        output_md,  # type: ignore[arg-type]
    )
    assert output_md.associated_files is None
    labels = [info.LabelFileMd(text_files / "labels.txt")]
    kept = list(labels)
    compat_nl.MetadataWriter.create_for_inference(build_nl(), None, labels)
    assert labels == kept


def test_bert_name_mismatch_names_each_list() -> None:
    with pytest.raises(MetadataValidationError) as raised:
        compat_bert.MetadataWriter.create_for_inference(
            build_bert(), None, [], ids_name="ids", mask_name="mask", segment_name="type"
        )
    message = str(raised.value)
    assert message == (
        "The input tensor names (['ids', 'mask', 'type']) do not match the tensor names read "
        "from the model (['serving_default_input_word_ids:0', 'serving_default_input_type_ids:0',"
        " 'serving_default_input_mask:0'])."
    )


def test_bert_inputs_follow_the_model_order() -> None:
    for order in itertools.permutations(range(3)):
        md = info.BertInputTensorsMd(build_bert(order=order), *BERT_NAMES)
        names = [tensor.name for tensor in md.create_input_tesnor_metadata()]
        assert names == [("ids", "mask", "segment_ids")[i] for i in order]


def test_bert_without_tokenizer_writes_empty_process_units() -> None:
    metadata_writer = compat_bert.MetadataWriter.create_for_inference(build_bert(), None, [])
    metadata = codec.decode(metadata_writer._metadata_buffer)
    assert metadata.subgraphMetadata[0].inputProcessUnits == []
    assert min_parser_version(metadata_writer._metadata_buffer) == "1.1.0"


def test_tokenizer_types_are_checked(text_files: Path) -> None:
    bert = info.BertTokenizerMd(text_files / "bert_vocab.txt")
    with pytest.raises(MetadataValidationError, match="is unsupported"):
        compat_nl.MetadataWriter.create_for_inference(build_nl(), bert, [])  # type: ignore[arg-type]
    regex = info.RegexTokenizerMd(REGEX, text_files / "vocab.txt")
    with pytest.raises(MetadataValidationError, match="is unsupported"):
        compat_bert.MetadataWriter.create_for_inference(build_bert(), regex, [])  # type: ignore[arg-type]


def test_tokenizer_associated_files() -> None:
    sp = info.SentencePieceTokenizerMd("a/sp.model", "b/vocab.txt")
    assert compat_utils.get_tokenizer_associated_files(sp.create_metadata().options) == [
        "b/vocab.txt",
        "a/sp.model",
    ]
    md = info.BertInputTensorsMd(build_bert(), *BERT_NAMES, tokenizer_md=sp)
    assert md.get_tokenizer_associated_files() == ["b/vocab.txt", "a/sp.model"]
    assert compat_utils.get_tokenizer_associated_files(None) == []
    assert compat_utils.compute_flat_size([1, 16]) == 16
    assert list(compat_utils.get_input_tensor_shape(build_bert(), 2)) == [1, 16]


@pytest.mark.parametrize(
    ("tokenizer", "version"),
    [("regex", "1.2.1"), ("bert", "1.1.0"), ("sentence_piece", "1.1.0"), (None, "1.0.0")],
)
def test_min_parser_versions(text_files: Path, tokenizer: Any, version: str) -> None:
    if tokenizer == "regex":
        metadata_writer: Any = compat_nl.MetadataWriter.create_for_inference(
            build_nl(), info.RegexTokenizerMd(REGEX, text_files / "vocab.txt"), []
        )
    elif tokenizer is None:
        metadata_writer = compat_nl.MetadataWriter.create_for_inference(build_nl(), None, [])
    else:
        md = (
            info.BertTokenizerMd("v.txt")
            if tokenizer == "bert"
            else info.SentencePieceTokenizerMd("sp.model", "v.txt")
        )
        metadata_writer = compat_bert.MetadataWriter.create_for_inference(build_bert(), md, [])
    assert min_parser_version(metadata_writer._metadata_buffer) == version


def test_vocabulary_file_type_needs_1_0_1() -> None:
    vocabulary = info.AssociatedFileMd("v.txt", "words", fb.AssociatedFileType.VOCABULARY)
    output_md = info.TensorMd("scores", associated_files=[vocabulary])
    metadata_writer = compat_nl.MetadataWriter.create_from_metadata_info(
        build_nl(),
        None,
        None,
        output_md,  # type: ignore[arg-type]
    )
    assert min_parser_version(metadata_writer._metadata_buffer) == "1.0.1"


# -- differential: random cases against tflite-support 0.4.4 -------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_OPTIONAL_TEXT = st.none() | _TEXT
_FILE_NAME = st.sampled_from(["vocab.txt", "words.txt", "v", "vocab 2.txt", "é.txt"])


@st.composite
def _nl_cases(draw: Any) -> dict[str, Any]:
    return {
        "model": {
            "length": draw(st.integers(1, 64)),
            "classes": draw(st.integers(1, 6)),
            "output_type": draw(st.sampled_from(["float32", "uint8", "int8"])),
        },
        "path": draw(st.sampled_from(["inference", "inference", "info", "info", "default"])),
        "tokenizer": draw(st.none() | st.tuples(_TEXT, _FILE_NAME)),
        "general": draw(st.none() | st.tuples(*[_OPTIONAL_TEXT] * 5)),
        "names": draw(st.tuples(*[_OPTIONAL_TEXT] * 4)),
        "labels": draw(st.lists(st.sampled_from([None, "en", "fr"]), max_size=3)),
        "input_md": draw(st.booleans()),
        "output_md": draw(st.booleans()),
    }


def _nl_writer(m: Any, model: bytes, case: dict[str, Any], folder: Path) -> Any:
    labels = [(str(folder / f"labels_{i}.txt"), locale) for i, locale in enumerate(case["labels"])]
    tokenizer = None
    if case["tokenizer"] is not None:
        pattern, name = case["tokenizer"]
        tokenizer = m.info.RegexTokenizerMd(pattern, str(folder / name))
    if case["path"] == "default":
        return m.nl.MetadataWriter.create_from_metadata_info(model)
    if case["path"] == "inference":
        return m.nl.MetadataWriter.create_for_inference(
            model, tokenizer, [path for path, _ in labels]
        )
    general = None if case["general"] is None else m.info.GeneralMd(*case["general"])
    input_name, input_description, output_name, output_description = case["names"]
    input_md = None
    if case["input_md"]:
        input_md = m.info.InputTextTensorMd(input_name, input_description, tokenizer)
    output_md = None
    if case["output_md"]:
        output_md = m.info.ClassificationTensorMd(
            output_name,
            output_description,
            [m.info.LabelFileMd(path, locale) for path, locale in labels],
            m.utils.get_output_tensor_types(model)[0],
        )
    return m.nl.MetadataWriter.create_from_metadata_info(model, general, input_md, output_md)


@st.composite
def _bert_cases(draw: Any) -> dict[str, Any]:
    names = list(BERT_NAMES)
    given = draw(st.permutations(names))
    if draw(st.integers(0, 9)) == 0:
        given[draw(st.integers(0, 2))] = draw(_TEXT)
    return {
        "model": {
            "seq_len": draw(st.integers(1, 64)),
            "classes": draw(st.integers(1, 6)),
            "order": tuple(draw(st.permutations([0, 1, 2]))),
        },
        "path": draw(st.sampled_from(["inference", "inference", "info", "info", "default"])),
        "names": given,
        "tokenizer": draw(
            st.sampled_from([None, "bert", "bert", "sentence_piece", "sentence_piece_vocab"])
        ),
        "file_names": draw(st.tuples(_FILE_NAME, _FILE_NAME)),
        "general": draw(st.none() | st.tuples(*[_OPTIONAL_TEXT] * 5)),
        "tensor_mds": draw(
            st.lists(st.none() | st.tuples(_OPTIONAL_TEXT, _OPTIONAL_TEXT), min_size=3, max_size=3)
        ),
        "output": draw(st.none() | st.tuples(_OPTIONAL_TEXT, _OPTIONAL_TEXT)),
        "labels": draw(st.lists(st.sampled_from([None, "en", "fr"]), max_size=3)),
    }


def _bert_writer(m: Any, model: bytes, case: dict[str, Any], folder: Path) -> Any:
    labels = [(str(folder / f"labels_{i}.txt"), locale) for i, locale in enumerate(case["labels"])]
    first, second = (str(folder / name) for name in case["file_names"])
    tokenizer = {
        None: lambda: None,
        "bert": lambda: m.info.BertTokenizerMd(first),
        "sentence_piece": lambda: m.info.SentencePieceTokenizerMd(first),
        "sentence_piece_vocab": lambda: m.info.SentencePieceTokenizerMd(first, second),
    }[case["tokenizer"]]()
    if case["path"] == "default":
        return m.bert.MetadataWriter.create_from_metadata_info(model)
    if case["path"] == "inference":
        return m.bert.MetadataWriter.create_for_inference(
            model, tokenizer, [path for path, _ in labels], *case["names"]
        )
    general = None if case["general"] is None else m.info.GeneralMd(*case["general"])
    tensor_mds = [None if md is None else m.info.TensorMd(*md) for md in case["tensor_mds"]]
    input_md = m.info.BertInputTensorsMd(model, *case["names"], *tensor_mds, tokenizer)
    output_md = None
    if case["output"] is not None:
        output_md = m.info.ClassificationTensorMd(
            *case["output"],
            [m.info.LabelFileMd(path, locale) for path, locale in labels],
            m.utils.get_output_tensor_types(model)[0],
        )
    return m.bert.MetadataWriter.create_from_metadata_info(model, general, input_md, output_md)


def _outcomes(writer: Any, model: bytes, case: dict[str, Any]) -> tuple[Any, Any]:
    """Ours and tflite-support's outcome, both run in one folder (tokenizers record paths)."""
    ref = reference()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        ours = writer_outcome(lambda f: writer(Ours, model, case, f), folder)
        theirs = writer_outcome(lambda f: writer(ref, model, case, f), folder)
    return ours, theirs


@pytest.mark.reference
@settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=_nl_cases())
def test_reference_random_nl_cases(case: dict[str, Any]) -> None:
    model = build_nl(**case["model"])
    ours, theirs = _outcomes(_nl_writer, model, case)
    assert ours == theirs


@pytest.mark.reference
@settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=_bert_cases())
def test_reference_random_bert_cases(case: dict[str, Any]) -> None:
    model = build_bert(**case["model"])
    ours, theirs = _outcomes(_bert_writer, model, case)
    mismatch = sorted(case["names"]) != sorted(BERT_NAMES) and case["path"] != "default"
    if mismatch:
        # tflite-support swaps the two lists in its message; ours names each correctly.
        assert ours[0] == theirs[0] == "error"
        swapped = re.sub(
            r"\((\[.*?\])\) do not match the tensor names read from the model \((\[.*?\])\)",
            r"(\2) do not match the tensor names read from the model (\1)",
            theirs[1],
        )
        assert ours[1] == swapped
        assert str(list(case["names"])) in ours[1].split("do not match")[0]
    else:
        assert ours == theirs


# -- the consumers' rules (measured in tests/test_text_consumers.py) -----------------------------


def _nl_model(folder: Path, vocab: str = REGEX_VOCAB, input_shape: Any = None) -> bytes:
    (folder / "vocab.txt").write_text(vocab)
    (folder / "labels.txt").write_text("negative\npositive\n")
    return populate_quietly(
        compat_nl.MetadataWriter.create_for_inference(
            build_nl() if input_shape is None else _build_shaped(tuple(input_shape)),
            info.RegexTokenizerMd(REGEX, folder / "vocab.txt"),
            [folder / "labels.txt"],
        )
    )


def test_nl_rules_accept_a_good_model(tmp_path: Path) -> None:
    populated = _nl_model(tmp_path)
    assert check(populated) == []
    assert _task_of(populated) == "nl-classifier"


@pytest.mark.parametrize(
    ("vocab", "missing"),
    [
        ("<START> 1\n<UNKNOWN> 2\n", "<PAD>"),
        ("<PAD> 0\n<START> 1\n", "<UNKNOWN>"),
        ("the 3\n", "<PAD> or <UNKNOWN>"),
    ],
)
def test_nl_vocabulary_needs_pad_and_unknown(tmp_path: Path, vocab: str, missing: str) -> None:
    problems = check(_nl_model(tmp_path, vocab))
    assert codes(problems) == ["vocabulary"]
    assert f"has no {missing} token" in problems[0].message


@pytest.mark.parametrize("bad_line", ["word", "word x", "word  1", "word 99999999999"])
def test_nl_vocabulary_lines_are_token_and_id(tmp_path: Path, bad_line: str) -> None:
    problems = check(_nl_model(tmp_path, f"<PAD> 0\n<UNKNOWN> 1\n{bad_line}\n"))
    assert codes(problems) == ["vocabulary"]
    assert "line 3 is not 'token id'" in problems[0].message


def test_nl_vocabulary_skips_empty_lines(tmp_path: Path) -> None:
    assert check(_nl_model(tmp_path, "\n<PAD> 0\n\n<UNKNOWN> 1\n\n")) == []


def test_nl_int32_input_needs_two_dimensions(tmp_path: Path) -> None:
    problems = check(_nl_model(tmp_path, input_shape=[8]))
    assert codes(problems) == ["input-shape"]
    assert problems[0].consumers == (MEDIAPIPE,)


def test_nl_int32_input_needs_the_tokenizer(tmp_path: Path) -> None:
    populated = populate_quietly(
        compat_nl.MetadataWriter.create_for_inference(build_nl(), None, [])
    )
    problems = check(populated, task="nl-classifier")
    assert codes(problems) == ["tokenizer"]
    assert problems[0].consumers == (TASK_LIBRARY, MEDIAPIPE)


def test_bert_rules_accept_a_good_model(text_files: Path) -> None:
    populated = populate_quietly(
        compat_bert.MetadataWriter.create_for_inference(
            build_bert(), info.BertTokenizerMd(text_files / "bert_vocab.txt"), []
        )
    )
    assert check(populated) == []
    assert _task_of(populated) == "bert-nl-classifier"


def test_bert_rules(text_files: Path) -> None:
    populated = populate_quietly(
        compat_bert.MetadataWriter.create_for_inference(build_bert(), None, [])
    )
    assert codes(check(populated, task="bert-nl-classifier")) == ["tokenizer"]
    ids_md = info.TensorMd("word_ids")
    input_md = info.BertInputTensorsMd(
        build_bert(),
        *BERT_NAMES,
        ids_md=ids_md,
        tokenizer_md=info.BertTokenizerMd(text_files / "bert_vocab.txt"),
    )
    populated = populate_quietly(
        compat_bert.MetadataWriter.create_from_metadata_info(build_bert(), None, input_md)
    )
    problems = check(populated)
    assert codes(problems) == ["input-name"]
    assert problems[0].consumers == (MEDIAPIPE,)


def test_bert_short_inputs(text_files: Path) -> None:
    populated = populate_quietly(
        compat_bert.MetadataWriter.create_for_inference(
            build_bert(seq_len=1), info.BertTokenizerMd(text_files / "bert_vocab.txt"), []
        )
    )
    problems = check(populated)
    assert codes(problems) == ["input-shape"]
    assert problems[0].consumers == (TASK_LIBRARY, MEDIAPIPE)


# -- the command line --------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    status = main([os.fspath(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_write_nl_classifier(
    capsys: pytest.CaptureFixture[str], text_files: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(build_nl())
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys,
        "write",
        "nl-classifier",
        model,
        "-o",
        out,
        "--regex",
        REGEX,
        "--vocab",
        text_files / "vocab.txt",
        "--labels",
        text_files / "labels.txt",
    )
    assert status == 0, err
    expected = compat_nl.MetadataWriter.create_for_inference(
        build_nl(),
        info.RegexTokenizerMd(REGEX, text_files / "vocab.txt"),
        [text_files / "labels.txt"],
    )
    assert ModelView(out.read_bytes()).metadata_buffer() is not None
    written = codec.decode(ModelView(out.read_bytes()).metadata_buffer())
    unit = written.subgraphMetadata[0].inputTensorMetadata[0].processUnits[0]
    assert unit.options.delimRegexPattern == REGEX.encode()
    assert out.read_bytes() == populate_quietly(expected)
    status, stdout, _ = run(capsys, "show", out)
    assert status == 0
    assert "  regex tokenizer, delimiter [^\\w\\']+, vocabulary vocab.txt (7 entries)\n" in stdout


def test_cli_write_nl_classifier_refuses_half_a_tokenizer(
    capsys: pytest.CaptureFixture[str], text_files: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(build_nl())
    status, _, err = run(
        capsys, "write", "nl-classifier", model, "-o", tmp_path / "o.tflite", "--regex", REGEX
    )
    assert status != 0
    assert "needs both its pattern and its vocabulary" in err


def test_cli_write_bert_nl_classifier(
    capsys: pytest.CaptureFixture[str], text_files: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(build_bert())
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys,
        "write",
        "bert-nl-classifier",
        model,
        "-o",
        out,
        "--vocab",
        text_files / "bert_vocab.txt",
        "--labels",
        text_files / "labels.txt",
    )
    assert status == 0, err
    expected = compat_bert.MetadataWriter.create_for_inference(
        build_bert(),
        info.BertTokenizerMd(text_files / "bert_vocab.txt"),
        [text_files / "labels.txt"],
    )
    assert out.read_bytes() == populate_quietly(expected)
    status, stdout, _ = run(capsys, "show", out)
    assert status == 0
    assert (
        "inputs:\n  BERT (word-piece) tokenizer, vocabulary bert_vocab.txt (9 entries)\n" in stdout
    )


def test_cli_bert_label_files_with_locales(
    capsys: pytest.CaptureFixture[str], text_files: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model.tflite"
    model.write_bytes(build_bert())
    french = tmp_path / "labels_fr.txt"
    french.write_bytes((text_files / "labels.txt").read_bytes().upper())
    out = tmp_path / "out.tflite"
    status, _, err = run(
        capsys, "write", "bert-nl-classifier", model, "-o", out,
        "--vocab", text_files / "bert_vocab.txt",
        "--labels", text_files / "labels.txt", "--labels", french, "--locale", "fr",
    )  # fmt: skip
    assert status == 0, err
    output = json.loads(MetadataDisplayer.with_model_file(out).get_metadata_json())[
        "subgraph_metadata"
    ][0]["output_tensor_metadata"][0]
    assert [(f["name"], f.get("locale")) for f in output["associated_files"]] == [
        ("labels.txt", None),
        ("labels_fr.txt", "fr"),
    ]
    status, _, err = run(capsys, "write", "bert-nl-classifier", model, "-o", out, "--locale", "fr")
    assert status == 2 and "gives the locale of the --labels before it" in err


def test_cli_bert_input_names_that_are_not_the_models_say_what_to_give(
    capsys: pytest.CaptureFixture[str], text_files: Path, tmp_path: Path
) -> None:
    from tflite_metadata import _model_builder as builder

    model = tmp_path / "model.tflite"
    model.write_bytes(builder.build_bert_classifier(input_names=("ids", "mask", "segment")))
    out = tmp_path / "out.tflite"
    vocab = text_files / "bert_vocab.txt"
    status, _, err = run(capsys, "write", "bert-nl-classifier", model, "-o", out, "--vocab", vocab)
    assert status == 2 and not out.exists()
    assert "the model's inputs are ['ids', 'mask', 'segment']" in err
    assert "--ids-name, --mask-name and --segment-name" in err
    names = ("--ids-name", "ids", "--mask-name", "mask", "--segment-name", "segment")
    status, _, err = run(
        capsys, "write", "bert-nl-classifier", model, "-o", out, "--vocab", vocab, *names
    )
    assert status == 0, err


def test_cli_write_bert_nl_classifier_score_threshold(
    capsys: pytest.CaptureFixture[str], text_files: Path, tmp_path: Path
) -> None:
    """``--score-threshold`` (or ``output.score_threshold``), as the other classifiers take it."""
    model = tmp_path / "model.tflite"
    model.write_bytes(build_bert())
    out = tmp_path / "out.tflite"
    common = ["write", "bert-nl-classifier", model, "-o", out, "--vocab"]
    common += [text_files / "bert_vocab.txt", "--labels", text_files / "labels.txt"]
    status, _, err = run(capsys, *common, "--score-threshold", "0.4")
    assert status == 0, err
    head = codec.decode(ModelView(out.read_bytes()).metadata_buffer())
    units = head.subgraphMetadata[0].outputTensorMetadata[0].processUnits
    assert [unit.options.globalScoreThreshold for unit in units] == [pytest.approx(0.4)]
    status, stdout, _ = run(capsys, "show", out)
    assert status == 0 and "  score threshold: 0.4\n" in stdout
    assert codes(check(out.read_bytes(), task="bert-nl-classifier")) == []

    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"output": {"score_threshold": 0.125}}))
    status, _, err = run(capsys, *common, "--spec", spec)
    assert status == 0, err
    head = codec.decode(ModelView(out.read_bytes()).metadata_buffer())
    units = head.subgraphMetadata[0].outputTensorMetadata[0].processUnits
    assert [unit.options.globalScoreThreshold for unit in units] == [0.125]
    spec.write_text(json.dumps({"output": {"score_threshold": "high"}}))
    status, _, err = run(capsys, *common, "--spec", spec)
    assert status != 0 and "output.score_threshold: expected a number" in err
    status, _, err = run(capsys, *common, "--score-threshold", "nan")
    assert status != 0 and "expected a finite number" in err


def test_sentence_piece_model_check() -> None:
    from tflite_metadata.tasks.text import sentence_piece_model_problem

    model = read_testdata(f"{BERT_DATA}/sentencepiece.model")
    assert sentence_piece_model_problem(model) is None
    assert sentence_piece_model_problem(model[: len(model) // 2]) is not None
    assert sentence_piece_model_problem(b"") == "it holds no piece (field 1)"
    assert "wire type 6" in str(sentence_piece_model_problem(b"not a model"))
    assert "field number 0" in str(sentence_piece_model_problem(b"\x00\x01"))
    assert "cut short" in str(sentence_piece_model_problem(b"\x0a\x80"))


@pytest.mark.parametrize(
    ("output_type", "consumers"),
    [("float32", None), ("uint8", None), ("int8", (MEDIAPIPE,)), ("int16", (MEDIAPIPE,))],
)
def test_text_output_types(output_type: str, consumers: Any) -> None:
    populated = populate_quietly(
        compat_nl.MetadataWriter.create_for_inference(build_nl(output_type=output_type), None, [])
    )
    problems = [p for p in check(populated, task="nl-classifier") if p.code == "output-type"]
    assert [p.consumers for p in problems] == ([] if consumers is None else [consumers])


def test_the_random_cases_reach_what_they_should() -> None:
    """The differential tests' strategies cover every path, tokenizer and the mismatch."""
    seen: dict[str, set[Any]] = {"nl": set(), "bert": set(), "order": set()}
    mismatches = tokenized = 0

    @settings(max_examples=250, derandomize=True, deadline=None, database=None)
    @given(case=_nl_cases())
    def collect_nl(case: dict[str, Any]) -> None:
        nonlocal tokenized
        seen["nl"].add((case["path"], case["model"]["output_type"]))
        tokenized += case["tokenizer"] is not None

    @settings(max_examples=250, derandomize=True, deadline=None, database=None)
    @given(case=_bert_cases())
    def collect_bert(case: dict[str, Any]) -> None:
        nonlocal mismatches
        seen["bert"].add((case["path"], case["tokenizer"]))
        seen["order"].add(case["model"]["order"])
        mismatches += sorted(case["names"]) != sorted(BERT_NAMES)

    collect_nl()
    collect_bert()
    assert {path for path, _ in seen["nl"]} == {"inference", "info", "default"}
    assert {kind for _, kind in seen["nl"]} == {"float32", "uint8", "int8"}
    assert tokenized >= 100
    assert {path for path, _ in seen["bert"]} == {"inference", "info", "default"}
    assert {kind for _, kind in seen["bert"]} == {
        None,
        "bert",
        "sentence_piece",
        "sentence_piece_vocab",
    }
    assert len(seen["order"]) == 6
    assert mismatches >= 10


def test_cli_spec_files(capsys: pytest.CaptureFixture[str], text_files: Path) -> None:
    """Spec-file keys of both text tasks; paths are relative to the spec."""

    nl_model = text_files / "nl.tflite"
    nl_model.write_bytes(build_nl())
    spec = text_files / "nl.json"
    spec.write_text(
        json.dumps(
            {
                "name": "Reviews",
                "input": {"regex": REGEX, "vocab": "vocab.txt", "name": "words"},
                "outputs": [{"labels": ["labels.txt"]}],
            }
        )
    )
    out = text_files / "nl_out.tflite"
    status, _, err = run(capsys, "write", "nl-classifier", nl_model, "-o", out, "--spec", spec)
    assert status == 0, err
    written = codec.decode(ModelView(out.read_bytes()).metadata_buffer())
    assert written.name == b"Reviews"
    assert written.subgraphMetadata[0].inputTensorMetadata[0].name == b"words"

    bert_model = text_files / "bert.tflite"
    bert_model.write_bytes(build_bert(order=(1, 0, 2)))
    spec = text_files / "bert.json"
    spec.write_text(
        json.dumps(
            {
                "input": {"vocab": "bert_vocab.txt"},
                "output": {"name": "sentiment", "labels": ["labels.txt"]},
            }
        )
    )
    out = text_files / "bert_out.tflite"
    status, _, err = run(
        capsys, "write", "bert-nl-classifier", bert_model, "-o", out, "--spec", spec
    )
    assert status == 0, err
    written = codec.decode(ModelView(out.read_bytes()).metadata_buffer())
    subgraph = written.subgraphMetadata[0]
    assert [t.name for t in subgraph.inputTensorMetadata] == [b"mask", b"ids", b"segment_ids"]
    assert subgraph.outputTensorMetadata[0].name == b"sentiment"
    spec.write_text(json.dumps({"input": {"ids_name": "nope"}}))
    status, _, err = run(
        capsys, "write", "bert-nl-classifier", bert_model, "-o", out, "--spec", spec
    )
    assert status != 0
    assert "needs its tokenizer" in err or "do not match" in err


def test_nl_without_metadata_is_told_it_lacks_the_tokenizer() -> None:
    problems = check(build_nl(), task="nl-classifier")
    assert codes(problems) == ["tokenizer"]
