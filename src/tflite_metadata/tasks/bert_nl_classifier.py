"""The BERT NL classifier task: tflite-support's ``bert_nl_classifier`` writer.

Three INT32 inputs (the token ids, the mask and the segment ids, each ``[1,
length]``), described by :class:`~.text.BertInputTensorsMd` and found by their
tensor names; the tokenizer (:class:`~.text.BertTokenizerMd` or
:class:`~.text.SentencePieceTokenizerMd`) is a process unit of the subgraph, its
files packed in the model; one classification head.

Example::

    writer = BertNLClassifierWriter.create_for_inference(
        model, BertTokenizerMd("vocab.txt"), ["labels.txt"]
    )
    populated = writer.populate()

Interface and output are tflite-support 0.4.4's. The differences are on purpose:
the caller's descriptions are never modified (tflite-support set
``output_md.associated_files``); the name-mismatch error names each list correctly.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import MetadataValidationError, UsageError
from ..fileio import PathLike
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..format.model_schema import TensorType, tensor_type_name
from ..model.reader import model_bytes
from . import Task
from .base import AssociatedFileSource, GeneralMd, LabelFileMd, MetadataWriter, ModelSource
from .classification import (
    SCORE_THRESHOLD_HELP,
    ClassificationTensorMd,
    add_label_file_arguments,
    check_output_metadata,
    label_file_md,
    label_files_in_spec,
    score_argument,
    score_thresholding_md,
)
from .rules import BOTH, MEDIAPIPE, TASK_LIBRARY, Checker, Code, plural, quoted, shape_text
from .spec import (
    GENERAL_KEYS,
    Spec,
    command_line_path,
    general_md,
    merge_input_options,
    resolve,
)
from .text import (
    DEFAULT_ID_NAME,
    DEFAULT_MASK_NAME,
    DEFAULT_SEGMENT_ID_NAME,
    BertInputTensorsMd,
    BertTokenizer,
    BertTokenizerMd,
    SentencePieceTokenizerMd,
    check_sequence_inputs,
    check_text_output_tensors,
    sentence_piece_model_problem,
)
from .writer_utils import get_input_tensor_names, get_output_tensor_types

__all__ = [
    "DEFAULT_ID_NAME",
    "DEFAULT_MASK_NAME",
    "DEFAULT_SEGMENT_ID_NAME",
    "MODEL_DESCRIPTION",
    "MODEL_NAME",
    "OUTPUT_DESCRIPTION",
    "OUTPUT_NAME",
    "BertNLClassifierWriter",
]

# tflite-support's names and descriptions (Model Maker's tensor names are in .text).
MODEL_NAME = "BertNLClassifier"
MODEL_DESCRIPTION = "Classify the input text into a set of known categories."
OUTPUT_NAME = "probability"
OUTPUT_DESCRIPTION = "Probabilities of the labels respectively."

_UNITS = schema.UNIONS["ProcessUnitOptions"]
BERT_TOKENIZER_UNIT = _UNITS.type_of("BertTokenizerOptions")
SENTENCE_PIECE_UNIT = _UNITS.type_of("SentencePieceTokenizerOptions")


class BertNLClassifierWriter(MetadataWriter):
    """Writes metadata into a BERT NL classifier.

    tflite-support's ``bert_nl_classifier.MetadataWriter``: ``create_for_inference``
    and ``create_from_metadata_info``. The label files are packed first, then the
    tokenizer's files.
    """

    task = "bert-nl-classifier"

    @classmethod
    def create_from_metadata_info(  # type: ignore[override]
        cls,
        model_buffer: ModelSource,
        general_md: Optional[GeneralMd] = None,
        input_md: Optional[BertInputTensorsMd] = None,
        output_md: Optional[ClassificationTensorMd] = None,
    ) -> BertNLClassifierWriter:
        """Create a writer from the typed descriptions.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            general_md: the model's general information (default: ``"BertNLClassifier"``).
            input_md: the three inputs and the tokenizer (default: the default tensor
                names, no tokenizer: an empty list of process units).
            output_md: the classification tensor (default: ``"probability"``, no stats).

        Returns:
            A writer; its associated files are the output's, then the tokenizer's.

        Raises:
            MetadataValidationError: the default tensor names are not the model's,
                or a description holds an invalid value.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        if general_md is None:
            general_md = GeneralMd(name=MODEL_NAME, description=MODEL_DESCRIPTION)
        if input_md is None:
            input_md = BertInputTensorsMd(
                model, DEFAULT_ID_NAME, DEFAULT_MASK_NAME, DEFAULT_SEGMENT_ID_NAME
            )
        if output_md is None:
            output_md = ClassificationTensorMd(name=OUTPUT_NAME, description=OUTPUT_DESCRIPTION)
        files: list[AssociatedFileSource] = list(output_md.associated_files or [])
        files.extend(name for name in input_md.get_tokenizer_associated_files() if name)
        writer = cls.create_from_metadata(
            model,
            model_metadata=general_md.create_metadata(),
            input_metadata=input_md.create_input_tesnor_metadata(),
            output_metadata=[output_md.create_metadata()],
            associated_files=files,
            input_process_units=input_md.create_input_process_unit_metadata(),
        )
        assert isinstance(writer, BertNLClassifierWriter)
        return writer

    @classmethod
    def create_for_inference(
        cls,
        model_buffer: ModelSource,
        tokenizer_md: BertTokenizer,
        label_file_paths: Sequence[Union[PathLike, LabelFileMd]],
        ids_name: str = DEFAULT_ID_NAME,
        mask_name: str = DEFAULT_MASK_NAME,
        segment_name: str = DEFAULT_SEGMENT_ID_NAME,
    ) -> BertNLClassifierWriter:
        """Create the metadata the Task Library and MediaPipe need for inference.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            tokenizer_md: the tokenizer: :class:`BertTokenizerMd` or
                :class:`SentencePieceTokenizerMd`.
            label_file_paths: the label files of the output, one per locale:
                paths, or :class:`LabelFileMd`. Empty if the model has no labels.
            ids_name: the model's tensor of token ids (default: Model Maker's name).
            mask_name: the model's tensor of the mask.
            segment_name: the model's tensor of the segment ids.

        Returns:
            A writer; the output's stats follow its tensor type (``UINT8``:
            0..255, ``FLOAT32``: 0.0..1.0, other: none).

        Raises:
            MetadataValidationError: the names are not the model's inputs, the
                tokenizer is of another type, or the model has no output.
            ModelFormatError: the model cannot be read.
        """
        model = model_bytes(model_buffer)
        if isinstance(label_file_paths, (str, os.PathLike)):
            raise MetadataValidationError(
                "label_file_paths should be a list of label files, but got a single path; "
                "wrap it in a list."
            )
        input_md = BertInputTensorsMd(
            model, ids_name, mask_name, segment_name, tokenizer_md=tokenizer_md
        )
        output_types = get_output_tensor_types(model)
        if not output_types:
            raise MetadataValidationError(
                "The model has no output tensor to classify with (expected one)."
            )
        output_md = ClassificationTensorMd(
            name=OUTPUT_NAME,
            description=OUTPUT_DESCRIPTION,
            label_files=[
                source if isinstance(source, LabelFileMd) else LabelFileMd(file_path=source)
                for source in label_file_paths or []
            ],
            tensor_type=output_types[0],
        )
        return cls.create_from_metadata_info(model, input_md=input_md, output_md=output_md)


# -- the consumers' rules ------------------------------------------------------------------------
# The Task Library BertNLClassifier of tflite-support 0.4.4 (bert_nl_classifier.cc,
# bert_preprocessor.cc, bert_utils.cc, tokenizer_utils.cc) and MediaPipe's TextClassifier
# (text_model_utils.cc, text_preprocessing_graph.cc, bert_preprocessor_calculator.cc,
# sentencepiece_preprocessor_calculator.cc, tokenizer_utils.cc).

#: The names MediaPipe finds the three inputs by, in their metadata.
BERT_INPUT_NAMES = ("ids", "mask", "segment_ids")


def _recognizes(metadata: Any) -> bool:
    """A BERT or SentencePiece tokenizer among the subgraph's input process units."""
    subgraphs = metadata.subgraphMetadata or []
    units = (subgraphs[0].inputProcessUnits if subgraphs else None) or []
    return any(unit.optionsType in (BERT_TOKENIZER_UNIT, SENTENCE_PIECE_UNIT) for unit in units)


def _check_model(checker: Checker) -> None:
    model = checker.model
    if model.subgraph_count != 1:
        checker.add(
            Code.SUBGRAPH_COUNT,
            "model",
            f"has {plural(model.subgraph_count, 'subgraph')}; BERT classifiers need exactly 1",
            (MEDIAPIPE,),
        )
    if len(model.inputs) != 3:
        checker.add(
            Code.INPUT_COUNT,
            "model",
            f"has {plural(len(model.inputs), 'input')}; BERT classifiers need 3 (ids, mask "
            "and segment ids)",
            BOTH if len(model.inputs) < 3 else (MEDIAPIPE,),
        )
    for tensor in model.inputs:
        if tensor.type != TensorType.INT32:
            checker.add(
                Code.INPUT_TYPE,
                f"input {tensor.index}",
                f"tensor {quoted(tensor.name)} has type {tensor_type_name(tensor.type)}; "
                "BERT classifiers need INT32",
            )
    reported = len(checker.problems)
    check_sequence_inputs(checker, BOTH)
    if len(model.inputs) == 3 and len(checker.problems) == reported:
        _check_sequence_length(checker)
    if len(model.outputs) != 1:
        checker.add(
            Code.OUTPUT_COUNT,
            "model",
            f"has {plural(len(model.outputs), 'output')}; the Task Library's BERT classifier "
            "needs exactly 1",
            (TASK_LIBRARY,),
        )
    check_text_output_tensors(checker)


def _check_sequence_length(checker: Checker) -> None:
    """A static length of at least 2, or a dynamic one (-1) on every input.

    Both consumers read the length from the inputs' shapes, then from their
    ``shape_signature``: -1 on all three means the inputs are resized to each
    text's tokens, and the length in the shapes (the converter writes 1) does
    not matter. Both refuse -1 on some inputs only. The Task Library
    (``BertPreprocessor::Init``) reads the signatures only when all three have 2
    dimensions (else the length is static); MediaPipe (``HasDynamicInputTensors``)
    refuses signatures on some inputs only, or not of 2 dimensions.
    """
    inputs = checker.model.inputs
    signatures = [t.shape_signature for t in inputs]
    # The Task Library sees no dims_signature (0 dimensions) where the model has none
    # (measured: a -1 on the ids alone, no other signature, is read as static).
    task_library = [s or () for s in signatures]
    dynamic = {TASK_LIBRARY: False, MEDIAPIPE: False}
    if all(len(s) == 2 for s in task_library):
        ends = [s[1] == -1 for s in task_library]
        dynamic[TASK_LIBRARY] = all(ends)
        if any(ends) and not all(ends):
            checker.add(
                Code.INPUT_SHAPE,
                "model",
                "the inputs' shape signatures "
                + ", ".join(shape_text(s) for s in task_library)
                + " make some lengths dynamic (-1) and others not; the consumers need "
                "all or none",
            )
    if None not in signatures:
        given = [s for s in signatures if s is not None]
        if any(len(s) != 2 for s in given):
            checker.add(
                Code.INPUT_SHAPE,
                "model",
                "the inputs' shape signatures are "
                + ", ".join(shape_text(s) for s in given)
                + "; MediaPipe needs 2 dimensions",
                (MEDIAPIPE,),
            )
        else:
            dynamic[MEDIAPIPE] = all(s[1] == -1 for s in given)
    elif any(s is not None for s in signatures):
        checker.add(
            Code.INPUT_SHAPE,
            "model",
            f"{sum(s is not None for s in signatures)} of the 3 inputs have a shape "
            "signature; MediaPipe needs all or none to have one",
            (MEDIAPIPE,),
        )
    length = inputs[0].shape[1]
    refusing = tuple(consumer for consumer in BOTH if not dynamic[consumer])
    if length < 2 and refusing:
        checker.add(
            Code.INPUT_SHAPE,
            f"input {inputs[0].index}",
            f"the inputs have length {length} and no dynamic length (-1 in their shape "
            "signatures); the consumers need at least 2 ([CLS] and [SEP])",
            refusing,
        )


def _check_metadata(checker: Checker) -> None:
    subgraph = checker.subgraph_metadata
    units = (None if subgraph is None else subgraph.inputProcessUnits) or []
    if not units or units[0].optionsType not in (BERT_TOKENIZER_UNIT, SENTENCE_PIECE_UNIT):
        found = "none" if not units else (_UNITS.member(int(units[0].optionsType)) or "?")
        checker.add(
            Code.TOKENIZER,
            "metadata",
            f"the subgraph's first input process unit is {found}; BERT classifiers need "
            "BertTokenizerOptions or SentencePieceTokenizerOptions",
        )
    else:
        _check_tokenizer_files(checker, units[0])
    inputs = checker.tensor_metadata("input") or []
    names = [
        name.decode("utf-8", "replace") if isinstance(name, bytes) else name
        for name in (metadata.name for metadata in inputs)
    ]
    missing = [name for name in BERT_INPUT_NAMES if names.count(name) != 1]
    if missing:
        checker.add(
            Code.INPUT_NAME,
            "metadata",
            f"the input tensor metadata are named {', '.join(quoted(n) for n in names)}; "
            "MediaPipe finds the inputs by the names 'ids', 'mask' and 'segment_ids', once "
            "each",
            (MEDIAPIPE,),
        )
    check_output_metadata(checker, names_required=False)


def _check_tokenizer_files(checker: Checker, unit: Any) -> None:
    options = unit.options
    if unit.optionsType == BERT_TOKENIZER_UNIT:
        files, what = (None if options is None else options.vocabFile), "vocabulary"
    else:
        files, what = (
            (None if options is None else options.sentencePieceModel),
            "SentencePiece model",
        )
    if not files or files[0].name is None:
        checker.add(
            Code.TOKENIZER,
            "metadata",
            f"the tokenizer names no {what}; the consumers need one",
        )
        return
    name = files[0].name
    name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
    if name not in checker.packed_names():
        checker.add(Code.FILE_MISSING, "metadata", f"{what} {quoted(name)} is not packed")
        return
    if unit.optionsType != SENTENCE_PIECE_UNIT:
        return  # any vocabulary loads, even an empty one (measured)
    data = checker.examine_packed("metadata", what, name)
    problem = None if data is None else sentence_piece_model_problem(data)
    if problem is not None:
        checker.add(
            Code.VOCABULARY,
            "metadata",
            f"{what} {quoted(name)} is not a SentencePiece model ({problem}); the consumers "
            "abort loading it",
        )


# -- the command line and spec files -----------------------------------------------------------

_INPUT_KEYS = frozenset(("vocab", "sentence_piece_model", "ids_name", "mask_name", "segment_name"))
_OUTPUT_KEYS = frozenset(("name", "description", "labels", "score_threshold"))
_SPEC_KEYS = frozenset((*GENERAL_KEYS, "input", "output"))

_SPEC_HELP = """\
spec file (JSON; TOML with Python 3.11+): every key is optional, paths are relative to the
spec file, command-line options override it:
  {
    "name": "BertNLClassifier", "version": "1", "description": "...",
    "author": "...", "license": "...",
    "input": {"vocab": "vocab.txt",                      (a BERT word-piece tokenizer)
              "sentence_piece_model": "sp.model",         (or a SentencePiece one,
                                                            "vocab" then optional)
              "ids_name": "serving_default_input_word_ids:0",
              "mask_name": "serving_default_input_mask:0",
              "segment_name": "serving_default_input_type_ids:0"},
    "output": {"name": "probability", "description": "...",
               "labels": ["labels.txt", {"file": "labels_fr.txt", "locale": "fr"}],
               "score_threshold": 0.3}
  }
"score_threshold" is the score below which results are dropped (MediaPipe's score
thresholding).
"""


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "BERT inputs",
        "Give the word-piece vocabulary (--vocab) for a BERT tokenizer, or the SentencePiece "
        "model (--sentence-piece-model, with an optional --vocab).",
    )
    group.add_argument("--vocab", metavar="FILE", help="the tokenizer's vocabulary file")
    group.add_argument("--sentence-piece-model", metavar="FILE")
    group.add_argument("--ids-name", metavar="TENSOR", help=f"default: {DEFAULT_ID_NAME}")
    group.add_argument("--mask-name", metavar="TENSOR", help=f"default: {DEFAULT_MASK_NAME}")
    group.add_argument(
        "--segment-name", metavar="TENSOR", help=f"default: {DEFAULT_SEGMENT_ID_NAME}"
    )
    output = parser.add_argument_group("output")
    add_label_file_arguments(output, "a label file, one label a line (repeat per locale)")
    output.add_argument(
        "--score-threshold", type=score_argument, metavar="X", help=SCORE_THRESHOLD_HELP
    )
    output.add_argument("--output-name", metavar="TEXT", help=f"default: {OUTPUT_NAME}")
    output.add_argument("--output-description", metavar="TEXT")


def _merge_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    for option in ("vocab", "sentence_piece_model"):
        if getattr(args, option) is not None:
            setattr(args, option, command_line_path(getattr(args, option)))
    merge_input_options(
        args,
        document,
        (
            ("vocab", "vocab"),
            ("sentence_piece_model", "sentence_piece_model"),
            ("ids_name", "ids_name"),
            ("mask_name", "mask_name"),
            ("segment_name", "segment_name"),
        ),
    )
    output = document.get("output")
    if output is None:
        output = document["output"] = {}
    if isinstance(output, dict):
        if args.labels:
            output["labels"] = label_files_in_spec(args.labels)
        if args.score_threshold is not None:
            output["score_threshold"] = args.score_threshold
        if args.output_name is not None:
            output["name"] = args.output_name
        if args.output_description is not None:
            output["description"] = args.output_description


def _tokenizer_from_spec(spec: Spec, table: dict[str, Any], base: Optional[Path]) -> BertTokenizer:
    vocab = spec.text(table, "vocab", "input")
    model = spec.text(table, "sentence_piece_model", "input")
    if model is not None:
        return SentencePieceTokenizerMd(
            resolve(base, model), None if vocab is None else resolve(base, vocab)
        )
    if vocab is None:
        spec.fail(
            "input",
            "a BERT classifier needs its tokenizer: give --vocab (a word-piece vocabulary) "
            "or --sentence-piece-model (or input.vocab or input.sentence_piece_model)",
        )
    return BertTokenizerMd(resolve(base, vocab))


def _build_writer(
    model: BufferLike, document: dict[str, Any], spec: Spec, base: Optional[Path]
) -> BertNLClassifierWriter:
    document = spec.table(document, "spec", _SPEC_KEYS)
    general = general_md(spec, document, MODEL_NAME, MODEL_DESCRIPTION)
    input_table = spec.table(document.get("input", {}), "input", _INPUT_KEYS)
    output_table = spec.table(document.get("output", {}), "output", _OUTPUT_KEYS)
    names = [
        spec.text(input_table, "ids_name", "input") or DEFAULT_ID_NAME,
        spec.text(input_table, "mask_name", "input") or DEFAULT_MASK_NAME,
        spec.text(input_table, "segment_name", "input") or DEFAULT_SEGMENT_ID_NAME,
    ]
    tokenizer_md = _tokenizer_from_spec(spec, input_table, base)
    if sorted(names) != sorted(get_input_tensor_names(model)):
        raise UsageError(
            f"the three inputs are the tensors {names}, but the model's inputs are "
            f"{get_input_tensor_names(model)}; name them with --ids-name, --mask-name and "
            "--segment-name (or the spec's input.ids_name, input.mask_name and "
            "input.segment_name)"
        )
    input_md = BertInputTensorsMd(model, names[0], names[1], names[2], tokenizer_md=tokenizer_md)
    labels = [
        label_file_md(entry, f"output.labels[{index}]", spec, base)
        for index, entry in enumerate(spec.items(output_table, "labels", "output"))
    ]
    output_types = get_output_tensor_types(model)
    output_md = ClassificationTensorMd(
        spec.text_or(output_table, "name", "output", OUTPUT_NAME),
        spec.text_or(output_table, "description", "output", OUTPUT_DESCRIPTION),
        labels,
        output_types[0] if output_types else None,
        score_thresholding_md=score_thresholding_md(output_table, "output", spec),
    )
    return BertNLClassifierWriter.create_from_metadata_info(model, general, input_md, output_md)


TASK = Task(
    name="bert-nl-classifier",
    writer=BertNLClassifierWriter,
    recognizes=_recognizes,
    check_model=_check_model,
    check_metadata=_check_metadata,
    add_arguments=_add_arguments,
    merge_arguments=_merge_arguments,
    build_writer=_build_writer,
    spec_help=_SPEC_HELP,
    description=(
        "Write BERT NL classifier metadata into MODEL, as tflite-support's "
        "bert_nl_classifier.MetadataWriter does, and save the result as OUT. OUT is checked "
        "against the rules of the Task Library BertNLClassifier and MediaPipe TextClassifier "
        "first, and not written if they would refuse it (unless --no-check). The model's "
        "three INT32 inputs are found by their tensor names (--ids-name, --mask-name, "
        "--segment-name; Model Maker's by default)."
    ),
    model_name=MODEL_NAME,
)
