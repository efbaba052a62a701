"""The text classifier rules against the real consumers, and results end to end.

* end to end: ``movie_review`` (regex tokenizer) in the Task Library ``NLClassifier``
  and MediaPipe's ``TextClassifier``, and the builder's small BERT model (BERT and
  SentencePiece tokenizers) in the Task Library ``BertNLClassifier`` and MediaPipe's
  ``TextClassifier``: with our populated model and tflite-support's, each consumer gives
  identical results;
* each rule of ``check`` for the text tasks: the consumers that refuse a model are
  exactly those ``check`` names.

Each model runs in a process of its own: a consumer that crashes on a model (the
Task Library aborts on some vocabularies) counts as refusing it.
"""

from __future__ import annotations

import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest

import consumer_env
from shared_data import TESTDATA
from tflite_metadata import _model_builder as model_builder
from tflite_metadata.check import MEDIAPIPE, TASK_LIBRARY, check
from tflite_metadata.errors import ConsumerCompatibilityWarning
from tflite_metadata.metadata_writers import bert_nl_classifier, metadata_info, nl_classifier

pytestmark = pytest.mark.consumers

REGEX = r"[^\w\']+"
TEXTS = [
    "This movie was wonderful, the best I have seen this year!",
    "boring, too long and badly acted",
    "",
    "the movie the movie the movie",
]
BERT_VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nmovie\nwas\ngood\nbad\nbest\nboring\n" + (
    "too\nlong\n##s\nthis\ni\n,\n!\n"
)
CONSUMERS = (TASK_LIBRARY, MEDIAPIPE)


def _shared(relative: str) -> Path:
    path = TESTDATA / relative
    if not path.is_file():
        pytest.skip(f"test data {relative} is absent")
    return path


def _populate(metadata_writer: Any) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConsumerCompatibilityWarning)
        return bytes(metadata_writer.populate())


def classify(consumer: str, kind: str, paths: list[Path], tmp: Path) -> dict[str, Any]:
    """model path -> the consumer's answer (``{"texts": ...}``, ``{"error", "stage"}``)."""
    if consumer == TASK_LIBRARY:
        python, runner = consumer_env.reference_python(), "task_library_runner.py"
    else:
        python, runner = consumer_env.mediapipe_python(), "mediapipe_runner.py"
    consumer_env.require(python is not None, consumer)
    assert python is not None

    def run(numbered: tuple[int, Path]) -> dict[str, Any]:
        number, path = numbered
        folder = tmp / f"{runner[:-3]}-{number}"
        folder.mkdir(parents=True, exist_ok=True)
        request = {"task": "text", "kind": kind, "models": [str(path)], "texts": TEXTS}
        try:
            return consumer_env.run_runner(python, runner, request, folder, timeout=300)
        except AssertionError as exc:  # the runner died: a crash of the native library
            return {str(path): {"stage": "crash", "error": str(exc)[:500]}}

    answers: dict[str, Any] = {}
    with ThreadPoolExecutor(4) as pool:
        for answer in pool.map(run, enumerate(paths)):
            answers.update(answer)
    return answers


# -- end to end: ours and tflite-support's give the same results ---------------------------------


def _reference() -> Any:
    try:
        from tflite_support.metadata_writers import bert_nl_classifier as ref_bert
        from tflite_support.metadata_writers import metadata_info as ref_info
        from tflite_support.metadata_writers import nl_classifier as ref_nl
    except ImportError:
        consumer_env.require(False, "tflite-support 0.4.4 (import tflite_support)")
    return ref_nl, ref_bert, ref_info


def _end_to_end(kind: str, ours: bytes, theirs: bytes, tmp_path: Path) -> None:
    paths = [tmp_path / "ours.tflite", tmp_path / "theirs.tflite"]
    paths[0].write_bytes(ours)
    paths[1].write_bytes(theirs)
    assert check(ours) == []
    for consumer in CONSUMERS:
        answers = classify(consumer, kind, paths, tmp_path / consumer.replace(" ", "_"))
        mine, reference = answers[str(paths[0])], answers[str(paths[1])]
        assert "texts" in mine, (consumer, mine)
        assert mine == reference, consumer
        # The scores differ between texts: the tokenizer is used.
        first = mine["texts"][0]["heads"][0]["categories"]
        assert len(first) == 2
        assert {c[1] for c in first} <= {"Negative", "Positive", "negative", "positive"}


def test_movie_review_end_to_end(tmp_path: Path) -> None:
    ref_nl, _, ref_info = _reference()
    model = _shared("tflite-support/nl_classifier/movie_review.tflite").read_bytes()
    vocab = str(_shared("tflite-support/nl_classifier/vocab.txt"))
    labels = [str(_shared("tflite-support/nl_classifier/labels.txt"))]
    ours = _populate(
        nl_classifier.MetadataWriter.create_for_inference(
            model, metadata_info.RegexTokenizerMd(REGEX, vocab), labels
        )
    )
    theirs = ref_nl.MetadataWriter.create_for_inference(
        model, ref_info.RegexTokenizerMd(REGEX, vocab), labels
    ).populate()
    _end_to_end("nl", ours, theirs, tmp_path)


@pytest.mark.parametrize("tokenizer", ["bert", "sentence_piece"])
def test_bert_end_to_end(tmp_path: Path, tokenizer: str) -> None:
    _, ref_bert, ref_info = _reference()
    model = bytes(model_builder.build_bert_classifier(seq_len=16))
    labels = tmp_path / "labels.txt"
    labels.write_text("negative\npositive\n")
    if tokenizer == "bert":
        vocab = tmp_path / "vocab.txt"
        vocab.write_text(BERT_VOCAB)
        ours_md: Any = metadata_info.BertTokenizerMd(str(vocab))
        theirs_md: Any = ref_info.BertTokenizerMd(str(vocab))
    else:
        sp = str(_shared("tflite-support/bert_nl_classifier/sentencepiece.model"))
        ours_md = metadata_info.SentencePieceTokenizerMd(sp)
        theirs_md = ref_info.SentencePieceTokenizerMd(sp)
    ours = _populate(
        bert_nl_classifier.MetadataWriter.create_for_inference(model, ours_md, [str(labels)])
    )
    theirs = ref_bert.MetadataWriter.create_for_inference(
        model, theirs_md, [str(labels)]
    ).populate()
    _end_to_end("bert", ours, theirs, tmp_path)


def test_litert_outputs_equal_the_original_models(tmp_path: Path) -> None:
    """LiteRT runs the populated models (ours and tflite-support's) as the originals."""
    python = consumer_env.mediapipe_python()
    consumer_env.require(python is not None, "LiteRT (ai-edge-litert)")
    assert python is not None
    ref_nl, ref_bert, ref_info = _reference()
    vocab = tmp_path / "vocab.txt"
    vocab.write_text(BERT_VOCAB)
    bert = bytes(model_builder.build_bert_classifier(seq_len=16))
    movie = _shared("tflite-support/nl_classifier/movie_review.tflite").read_bytes()
    regex_vocab = str(_shared("tflite-support/nl_classifier/vocab.txt"))
    models = {
        "bert": bert,
        "bert-ours": _populate(
            bert_nl_classifier.MetadataWriter.create_for_inference(
                bert, metadata_info.BertTokenizerMd(str(vocab)), []
            )
        ),
        "bert-theirs": ref_bert.MetadataWriter.create_for_inference(
            bert, ref_info.BertTokenizerMd(str(vocab)), []
        ).populate(),
        "movie": movie,
        "movie-ours": _populate(
            nl_classifier.MetadataWriter.create_for_inference(
                movie, metadata_info.RegexTokenizerMd(REGEX, regex_vocab), []
            )
        ),
        "movie-theirs": ref_nl.MetadataWriter.create_for_inference(
            movie, ref_info.RegexTokenizerMd(REGEX, regex_vocab), []
        ).populate(),
    }
    paths = []
    for name, data in models.items():
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(data)
        paths.append(path)
    inputs = tmp_path / "inputs.f32"
    inputs.write_bytes(b"".join(struct.pack("<f", float(i % 97)) for i in range(3 * 256)))
    request = {"models": [str(p) for p in paths], "inputs": str(inputs)}
    answers = consumer_env.run_runner(python, "litert_runner.py", request, tmp_path)
    for base in ("bert", "movie"):
        original = answers[str(tmp_path / f"{base}.tflite")]
        assert "outputs" in original, original
        for variant in ("ours", "theirs"):
            assert answers[str(tmp_path / f"{base}-{variant}.tflite")] == original


# -- each rule: the consumers refuse exactly when check says so ----------------------------------

REGEX_VOCAB = "<PAD> 0\n<START> 1\n<UNKNOWN> 2\nthe 3\nmovie 4\ngood 5\n"


def _nl(folder: Path, vocab: str = REGEX_VOCAB, tokenizer: bool = True, **model: Any) -> bytes:
    (folder / "vocab.txt").write_text(vocab)
    (folder / "labels.txt").write_text("negative\npositive\n")
    make = model.pop("make", None)
    model.setdefault("input_samples", 8)
    built = (
        make()
        if make is not None
        else bytes(
            model_builder.build_audio_classifier(
                heads=[2], input_type=model.pop("input_type", "int32"), input_name="input", **model
            )
        )
    )
    md = metadata_info.RegexTokenizerMd(REGEX, folder / "vocab.txt") if tokenizer else None
    return _populate(
        nl_classifier.MetadataWriter.create_for_inference(built, md, [folder / "labels.txt"])
    )


def _bert(
    folder: Path,
    seq_len: int = 16,
    tokenizer: bool = True,
    ids: str = "ids",
    vocab: str = BERT_VOCAB,
    signatures: list[list[int] | None] | None = None,
    subgraphs: int = 1,
) -> bytes:
    (folder / "vocab.txt").write_bytes(vocab.encode("latin-1"))
    built = bytes(
        model_builder.build_bert_classifier(
            seq_len=seq_len, shape_signatures=signatures, subgraphs=subgraphs
        )
    )
    md = metadata_info.BertInputTensorsMd(
        built,
        "serving_default_input_word_ids:0",
        "serving_default_input_mask:0",
        "serving_default_input_type_ids:0",
        ids_md=metadata_info.TensorMd(ids),
        tokenizer_md=metadata_info.BertTokenizerMd(folder / "vocab.txt") if tokenizer else None,
    )
    return _populate(bert_nl_classifier.MetadataWriter.create_from_metadata_info(built, None, md))


def _transplant(populated: bytes, model: bytes, change: Callable[[Any], None]) -> bytes:
    """``populated``'s metadata after ``change`` and its packed files, spliced into ``model``.

    For models the writers refuse (another number of inputs or outputs): the
    metadata goes in as it is, as a converter or another tool might leave it.
    """
    from tflite_metadata.archive.associated_files import build_zip, find_zip
    from tflite_metadata.format import codec
    from tflite_metadata.metadata import get_metadata_buffer
    from tflite_metadata.model.reader import ModelView
    from tflite_metadata.model.splice import plan_splice

    buffer = get_metadata_buffer(populated)
    assert buffer is not None
    metadata = codec.decode(buffer)
    change(metadata)
    tail = find_zip(populated)
    assert tail is not None
    files = {name: bytes(tail.read(name)) for name in tail.names()}
    splice = plan_splice(ModelView(model), codec.encode(metadata), len(model))
    return bytes(splice.to_bytes(model, build_zip(files, splice.output_size)))


def _bert_other(folder: Path, **model: Any) -> bytes:
    """The builder's BERT model with ``model``'s changes (more or fewer inputs or outputs,
    another input type), with the metadata of the standard one, each tensor described."""
    import copy

    names = list(model.get("input_names", model_builder.BERT_INPUT_NAMES))
    outputs = int(model.get("outputs", 1))

    def change(metadata: Any) -> None:
        subgraph = metadata.subgraphMetadata[0]
        inputs = subgraph.inputTensorMetadata
        subgraph.inputTensorMetadata = (inputs + [copy.deepcopy(inputs[-1])] * len(names))[
            : len(names)
        ]
        for extra in subgraph.inputTensorMetadata[3:]:
            extra.name = b"extra"
        subgraph.outputTensorMetadata = subgraph.outputTensorMetadata * outputs

    return _transplant(_bert(folder), bytes(model_builder.build_bert_classifier(**model)), change)


def _nl_other(folder: Path, inputs: int = 1, subgraphs: int = 1) -> bytes:
    """A one-head INT32 text model of ``inputs`` inputs (the first read) and our NL metadata.

    The builder's BERT-shaped model with other inputs; more than one input is
    described (each a copy of the first's metadata) and spliced in, as the writer
    describes one.
    """
    import copy

    names = ["input", *(f"input_{n}" for n in range(1, inputs))]
    built = bytes(
        model_builder.build_bert_classifier(
            seq_len=8, input_names=names, output_name="scores", subgraphs=subgraphs
        )
    )
    if inputs == 1:
        return _nl(folder, make=lambda: built)

    def change(metadata: Any) -> None:
        described = metadata.subgraphMetadata[0].inputTensorMetadata
        described.extend(copy.deepcopy(described[0]) for _ in range(inputs - 1))

    single = bytes(model_builder.build_bert_classifier(seq_len=8, input_names=["input"]))
    return _transplant(_nl(folder, make=lambda: single), built, change)


def _unpacked(model: bytes) -> bytes:
    """``model`` without its packed files (its metadata still records them)."""
    from test_image_consumers import unpacked

    return unpacked(model)


def _sentence_piece(folder: Path, data: bytes | None = None) -> bytes:
    sp = _shared("tflite-support/bert_nl_classifier/sentencepiece.model").read_bytes()
    (folder / "sp.model").write_bytes(sp if data is None else data(sp))  # type: ignore[operator]
    built = bytes(model_builder.build_bert_classifier(seq_len=16))
    return _populate(
        bert_nl_classifier.MetadataWriter.create_for_inference(
            built, metadata_info.SentencePieceTokenizerMd(folder / "sp.model"), []
        )
    )


RULE_CASES: dict[str, tuple[str, Callable[[Path], bytes]]] = {
    "nl good": ("nl", lambda f: _nl(f)),
    "nl vocabulary without <PAD>": ("nl", lambda f: _nl(f, "<START> 1\n<UNKNOWN> 2\nthe 3\n")),
    "nl vocabulary without <UNKNOWN>": ("nl", lambda f: _nl(f, "<PAD> 0\nthe 3\n")),
    "nl vocabulary line without id": ("nl", lambda f: _nl(f, REGEX_VOCAB + "word\n")),
    "nl vocabulary line with a word id": ("nl", lambda f: _nl(f, REGEX_VOCAB + "word x\n")),
    "nl vocabulary id with a tail": ("nl", lambda f: _nl(f, REGEX_VOCAB + "word 7.5\n")),
    "nl vocabulary empty lines": ("nl", lambda f: _nl(f, "\n" + REGEX_VOCAB + "\n\n")),
    "nl without tokenizer": ("nl", lambda f: _nl(f, tokenizer=False)),
    "nl without metadata": (
        "nl",
        lambda f: bytes(
            model_builder.build_audio_classifier(input_samples=8, heads=[2], input_type="int32")
        ),
    ),
    "nl files not packed": ("nl", lambda f: _unpacked(_nl(f))),
    "nl two subgraphs": ("nl", lambda f: _nl_other(f, subgraphs=2)),
    "nl 2 inputs": ("nl", lambda f: _nl_other(f, inputs=2)),
    "nl 1-D input": ("nl", lambda f: _nl(f, input_shape=[8])),
    "nl float input": ("nl", lambda f: _nl(f, input_type="float32")),
    "nl uint8 output": ("nl", lambda f: _nl(f, output_type="uint8")),
    "nl int8 output": ("nl", lambda f: _nl(f, output_type="int8")),
    "nl int16 output": ("nl", lambda f: _nl(f, output_type="int16")),
    "nl float64 output": ("nl", lambda f: _nl(f, output_type="float64")),
    "bert good": ("bert", lambda f: _bert(f)),
    "bert without tokenizer": ("bert", lambda f: _bert(f, tokenizer=False)),
    "bert ids misnamed": ("bert", lambda f: _bert(f, ids="word_ids")),
    "bert length 1": ("bert", lambda f: _bert(f, seq_len=1)),
    "bert empty vocabulary": ("bert", lambda f: _bert(f, vocab="")),
    "bert binary vocabulary": (
        "bert",
        lambda f: _bert(f, vocab=bytes(range(256)).decode("latin-1")),
    ),
    # [CLS] and [SEP] are looked up without a check: both take id 0 when absent.
    "bert vocabulary without [CLS] and [SEP]": (
        "bert",
        lambda f: _bert(f, vocab=BERT_VOCAB.replace("[CLS]\n", "").replace("[SEP]\n", "")),
    ),
    "bert inputs of lengths 16, 16, 8": (
        "bert",
        lambda f: _bert_other(f, input_shapes=[[1, 16], [1, 16], [1, 8]]),
    ),
    "bert inputs [2, 16]": ("bert", lambda f: _bert_other(f, input_shapes=[[2, 16]] * 3)),
    "bert inputs [1, 1, 16]": ("bert", lambda f: _bert_other(f, input_shapes=[[1, 1, 16]] * 3)),
    "bert inputs [16]": ("bert", lambda f: _bert_other(f, input_shapes=[[16]] * 3)),
    "bert files not packed": ("bert", lambda f: _unpacked(_bert(f))),
    "bert two subgraphs": ("bert", lambda f: _bert(f, subgraphs=2)),
    "bert int64 inputs": ("bert", lambda f: _bert_other(f, input_type="int64")),
    "bert float32 inputs": ("bert", lambda f: _bert_other(f, input_type="float32")),
    "bert 2 inputs": (
        "bert",
        lambda f: _bert_other(f, input_names=model_builder.BERT_INPUT_NAMES[:2]),
    ),
    "bert 4 inputs": (
        "bert",
        lambda f: _bert_other(f, input_names=[*model_builder.BERT_INPUT_NAMES, "extra:0"]),
    ),
    "bert 2 outputs": ("bert", lambda f: _bert_other(f, outputs=2)),
    # Dynamic lengths (shape_signature -1, the converter's shape [1, 1]).
    "bert dynamic length": ("bert", lambda f: _bert(f, seq_len=1, signatures=[[1, -1]] * 3)),
    "bert dynamic length, shape 16": (
        "bert",
        lambda f: _bert(f, signatures=[[1, -1]] * 3),
    ),
    "bert dynamic batch and length": (
        "bert",
        lambda f: _bert(f, seq_len=1, signatures=[[-1, -1]] * 3),
    ),
    "bert static signatures": ("bert", lambda f: _bert(f, signatures=[[1, 16]] * 3)),
    "bert dynamic ids only": (
        "bert",
        lambda f: _bert(f, signatures=[[1, -1], [1, 16], [1, 16]]),
    ),
    "bert signature on ids only": ("bert", lambda f: _bert(f, signatures=[[1, 16], None, None])),
    "bert dynamic ids, no other signature": (
        "bert",
        lambda f: _bert(f, signatures=[[1, -1], None, None]),
    ),
    "bert dynamic ids and mask, no segment signature": (
        "bert",
        lambda f: _bert(f, signatures=[[1, -1], None, [1, -1]]),
    ),
    "bert 3-D signatures": ("bert", lambda f: _bert(f, signatures=[[1, 1, 16]] * 3)),
    "bert 3-D dynamic signatures, length 1": (
        "bert",
        lambda f: _bert(f, seq_len=1, signatures=[[1, 1, -1]] * 3),
    ),
    "sentence piece good": ("bert", lambda f: _sentence_piece(f)),
    "sentence piece junk": ("bert", lambda f: _sentence_piece(f, lambda sp: b"not a model")),
    "sentence piece empty": ("bert", lambda f: _sentence_piece(f, lambda sp: b"")),
    "sentence piece cut": ("bert", lambda f: _sentence_piece(f, lambda sp: sp[: len(sp) // 2])),
}


@pytest.mark.parametrize("kind", ["nl", "bert"])
def test_rules_agree_with_the_consumers(tmp_path: Path, kind: str) -> None:
    paths, expected = [], {}
    for number, (name, (case_kind, make)) in enumerate(RULE_CASES.items()):
        if case_kind != kind:
            continue
        folder = tmp_path / f"case{number}"
        folder.mkdir()
        path = folder / "model.tflite"
        model = make(folder)
        path.write_bytes(model)
        paths.append(path)
        refusing: set[str] = set()
        for problem in check(model, task=f"{'bert-' if kind == 'bert' else ''}nl-classifier"):
            refusing.update(problem.consumers)
        expected[str(path)] = (name, refusing)
    verdicts: dict[str, set[str]] = {str(p): set() for p in paths}
    answers = {c: classify(c, kind, paths, tmp_path / c.replace(" ", "_")) for c in CONSUMERS}
    for consumer, by_path in answers.items():
        # Every model gets an answer: a missing one must not pass for "accepted".
        assert set(by_path) == set(verdicts), consumer
        for path, answer in by_path.items():
            if "texts" not in answer:
                verdicts[path].add(consumer)
    mismatches = {
        name: {"check": sorted(refusing), "consumers": sorted(verdicts[path])}
        for path, (name, refusing) in expected.items()
        if refusing != verdicts[path]
    }
    assert mismatches == {}, {
        name: (m, {c: answers[c][p] for c in CONSUMERS})
        for p, (name, _) in expected.items()
        for m in [mismatches.get(name)]
        if m
    }
