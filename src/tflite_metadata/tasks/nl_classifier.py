"""The NL classifier task: tflite-support's ``nl_classifier`` writer.

One input text tensor: INT32 token ids, made by a regex tokenizer whose
vocabulary is packed in the model (:class:`~.text.RegexTokenizerMd`), or a
STRING tensor fed the text itself; one or more classification heads (see
:mod:`.classification`).

Example::

    writer = NLClassifierWriter.create_for_inference(
        model, RegexTokenizerMd(r"[^\\w\\']+", "vocab.txt"), ["labels.txt"]
    )
    populated = writer.populate()

Interface and output are tflite-support 0.4.4's. The differences are on purpose:
the caller's descriptions are never modified (tflite-support set
``output_md.associated_files``); the regex pattern is stored, never compiled.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

from ..fileio import PathLike
from ..format import metadata_schema as schema
from ..format.flatbuf import BufferLike
from ..format.model_schema import TensorType, tensor_type_name
from ..model.reader import model_bytes
from . import Task
from .base import AssociatedFileSource, LabelFileMd, ModelSource, TensorMd
from .classification import (
    HEADS_SPEC_HELP,
    ClassifierWriter,
    add_head_arguments,
    check_output_metadata,
    heads_from_spec,
    merge_head_arguments,
)
from .rules import BOTH, MEDIAPIPE, Checker, Code, plural, quoted
from .spec import (
    GENERAL_KEYS,
    Spec,
    command_line_path,
    general_md,
    merge_input_options,
    resolve,
)
from .text import (
    InputTextTensorMd,
    RegexTokenizerMd,
    check_sequence_inputs,
    check_text_output_tensors,
)
from .writer_utils import get_tokenizer_associated_files

__all__ = [
    "INPUT_DESCRIPTION",
    "INPUT_NAME",
    "MODEL_DESCRIPTION",
    "MODEL_NAME",
    "OUTPUT_DESCRIPTION",
    "OUTPUT_NAME",
    "REQUIRED_REGEX_TOKENS",
    "NLClassifierWriter",
    "check_regex_vocabulary",
    "regex_tokenizer_from_spec",
]

# tflite-support's names and descriptions.
MODEL_NAME = "NLClassifier"
MODEL_DESCRIPTION = "Classify the input text into a set of known categories."
INPUT_NAME = "input_text"
INPUT_DESCRIPTION = "Embedding vectors representing the input text to be classified."
OUTPUT_NAME = "probability"
OUTPUT_DESCRIPTION = "Probabilities of the labels respectively."

REGEX_TOKENIZER_UNIT = schema.UNIONS["ProcessUnitOptions"].type_of("RegexTokenizerOptions")


class NLClassifierWriter(ClassifierWriter):
    """Writes metadata into an NL classifier.

    tflite-support's ``nl_classifier.MetadataWriter``: ``create_for_inference``,
    and (from :class:`~.classification.ClassifierWriter`) ``create_from_metadata_info``
    and ``create_from_metadata_info_for_multihead``. The tokenizer's vocabulary is
    packed after the heads' files.

    Defaults: the model is named ``"NLClassifier"``, its input ``"input_text"``
    (no tokenizer) and its output ``"probability"``, with tflite-support's descriptions.
    """

    task = "nl-classifier"
    MODEL_NAME = MODEL_NAME
    MODEL_DESCRIPTION = MODEL_DESCRIPTION
    OUTPUT_NAME = OUTPUT_NAME
    OUTPUT_DESCRIPTION = OUTPUT_DESCRIPTION

    @classmethod
    def default_input_md(cls) -> InputTextTensorMd:
        """``"input_text"``, with tflite-support's description and no tokenizer."""
        return InputTextTensorMd(name=INPUT_NAME, description=INPUT_DESCRIPTION)

    @classmethod
    def input_associated_files(cls, input_md: TensorMd) -> list[AssociatedFileSource]:
        """The files of the input's tokenizer (its vocabulary), as tflite-support packs them."""
        tokenizer_md = getattr(input_md, "tokenizer_md", None)
        if not tokenizer_md:
            return []
        names = get_tokenizer_associated_files(tokenizer_md.create_metadata().options)
        return [name for name in names if name is not None]

    @classmethod
    def create_for_inference(
        cls,
        model_buffer: ModelSource,
        tokenizer_md: Optional[RegexTokenizerMd],
        label_file_paths: Sequence[Union[PathLike, LabelFileMd]],
    ) -> NLClassifierWriter:
        """Create the metadata the Task Library and MediaPipe need for inference.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            tokenizer_md: the regex tokenizer of the input (None for a model whose
                input is the text itself, a STRING tensor).
            label_file_paths: the label files of the output, one per locale:
                paths, or :class:`LabelFileMd`. Empty if the model has no labels.

        Returns:
            A writer; the output's stats follow its tensor type (``UINT8``:
            0..255, ``FLOAT32``: 0.0..1.0, other: none).

        Raises:
            MetadataValidationError: the tokenizer is not a :class:`RegexTokenizerMd`,
                or the model has no output.
            ModelFormatError: the model cannot be read.
        """
        input_md = InputTextTensorMd(INPUT_NAME, INPUT_DESCRIPTION, tokenizer_md)
        input_md.create_metadata()  # the tokenizer's type is checked before anything is read
        return cls.for_inference(model_bytes(model_buffer), input_md, label_file_paths, None)


# -- the consumers' rules ------------------------------------------------------------------------
# The Task Library NLClassifier of tflite-support 0.4.4 (nl_classifier.cc,
# regex_preprocessor.cc, regex_tokenizer.cc, common_utils.cc) and MediaPipe's
# TextClassifier (text_classifier_graph.cc, text_preprocessing_graph.cc,
# text_model_utils.cc, regex_preprocessor_calculator.cc, regex_tokenizer.cc).

#: The tokens a regex vocabulary must hold (both consumers look them up).
REQUIRED_REGEX_TOKENS = ("<PAD>", "<UNKNOWN>")
#: A line as the consumers read it: split at spaces, the second field through
#: ``std::stoi`` (leading white space, a sign, digits; what follows them is ignored).
_VOCAB_LINE = re.compile(rb"[^ ]* [\t\n\v\f\r]*([+-]?[0-9]+)")
_INT32 = range(-(2**31), 2**31)


def _regex_units(tensor_metadata: Any) -> list[Any]:
    return [
        unit
        for unit in (getattr(tensor_metadata, "processUnits", None) or [])
        if unit.optionsType == REGEX_TOKENIZER_UNIT
    ]


def _recognizes(metadata: Any) -> bool:
    """A regex tokenizer on the first input means an NL classifier."""
    subgraphs = metadata.subgraphMetadata or []
    inputs = (subgraphs[0].inputTensorMetadata if subgraphs else None) or []
    return bool(inputs) and bool(_regex_units(inputs[0]))


def _check_model(checker: Checker) -> None:
    model = checker.model
    if model.subgraph_count != 1:
        checker.add(
            Code.SUBGRAPH_COUNT,
            "model",
            f"has {plural(model.subgraph_count, 'subgraph')}; NL classifiers need exactly 1",
            (MEDIAPIPE,),
        )
    if len(model.inputs) != 1:
        checker.add(
            Code.INPUT_COUNT,
            "model",
            f"has {plural(len(model.inputs), 'input')}; NL classifiers need exactly 1 "
            "(the Task Library reads the first; MediaPipe takes 3 INT32 inputs for BERT)",
            (MEDIAPIPE,),
        )
    if model.inputs:
        tensor = model.inputs[0]
        if tensor.type not in (TensorType.INT32, TensorType.STRING):
            checker.add(
                Code.INPUT_TYPE,
                f"input {tensor.index}",
                f"tensor {quoted(tensor.name)} has type {tensor_type_name(tensor.type)}; NL "
                "classifiers need INT32 (token ids) or STRING (the text)",
            )
        elif tensor.type == TensorType.INT32 and not _has_regex_tokenizer(checker):
            checker.add(
                Code.TOKENIZER,
                f"input {tensor.index}",
                f"tensor {quoted(tensor.name)} is INT32 and its metadata has no "
                "RegexTokenizerOptions; the consumers need the tokenizer that turns text "
                "into its ids",
            )
        if tensor.type == TensorType.INT32:
            # MediaPipe's regex models take [1, length] (the Task Library also reads [length]).
            check_sequence_inputs(checker, (MEDIAPIPE,))
    check_text_output_tensors(checker)


def _has_regex_tokenizer(checker: Checker) -> bool:
    if not checker.model.metadata:
        return False
    inputs = checker.tensor_metadata("input") or []
    return bool(inputs) and bool(_regex_units(inputs[0]))


def _check_metadata(checker: Checker) -> None:
    inputs = checker.tensor_metadata("input") or []
    if inputs and checker.model.inputs:
        tensor = checker.model.inputs[0]
        for unit in _regex_units(inputs[0])[:1]:
            if tensor.type == TensorType.INT32:
                _check_regex_tokenizer(checker, f"input {tensor.index}", unit.options)
    check_output_metadata(checker, names_required=False)


def _check_regex_tokenizer(checker: Checker, where: str, options: Any) -> None:
    if options is None or options.delimRegexPattern is None:
        checker.add(
            Code.TOKENIZER,
            where,
            "RegexTokenizerOptions has no delim_regex_pattern; the consumers need one",
        )
    files = [] if options is None else options.vocabFile or []
    if not files or files[0].name is None:
        checker.add(
            Code.TOKENIZER,
            where,
            "RegexTokenizerOptions has no vocabulary file; the consumers need one",
        )
        return
    name = files[0].name
    name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
    data = checker.examine_packed(where, "vocabulary", name)
    if data is None:
        if name not in checker.packed_names():
            checker.add(
                Code.FILE_MISSING,
                where,
                f"vocabulary {quoted(name)} is not packed in the model",
            )
        return
    check_regex_vocabulary(checker, where, name, data)


def check_regex_vocabulary(checker: Checker, where: str, name: str, data: bytes) -> None:
    """A regex vocabulary: lines of ``token id``, holding ``<PAD>`` and ``<UNKNOWN>``."""
    tokens = set()
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line:
            continue  # the consumers skip empty lines
        match = _VOCAB_LINE.match(line)
        if not match or int(match.group(1)) not in _INT32:
            checker.add(
                Code.VOCABULARY,
                where,
                f"vocabulary {quoted(name)} line {number} is not 'token id' (a token, a "
                "space, a whole number that fits 32 bits); the consumers fail reading it",
            )
            return
        tokens.add(line.split(b" ", 1)[0])
    missing = [token for token in REQUIRED_REGEX_TOKENS if token.encode() not in tokens]
    if missing:
        checker.add(
            Code.VOCABULARY,
            where,
            f"vocabulary {quoted(name)} has no {' or '.join(missing)} token; the consumers "
            "need both to pad and to stand for unknown words",
            BOTH,
        )


# -- the command line and spec files -----------------------------------------------------------

_INPUT_KEYS = frozenset(("name", "description", "regex", "vocab"))
_SPEC_KEYS = frozenset((*GENERAL_KEYS, "input", "outputs"))

_SPEC_HELP = (
    """\
spec file (JSON; TOML with Python 3.11+): every key is optional, paths are relative to the
spec file, command-line options override it:
  {
    "name": "NLClassifier", "version": "1", "description": "...",
    "author": "...", "license": "...",
    "input": {"name": "input_text", "description": "...",
              "regex": "[^\\\\w\\\\']+", "vocab": "vocab.txt"},
"""
    + HEADS_SPEC_HELP
)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "text input",
        "An INT32 input takes token ids: give the regex tokenizer's delimiter pattern and "
        "vocabulary (lines of 'token id'). A STRING input takes the text, and neither.",
    )
    group.add_argument(
        "--regex", metavar="PATTERN", help="the delimiter pattern (RE2), for example [^\\w\\']+"
    )
    group.add_argument("--vocab", metavar="FILE", help="the tokenizer's vocabulary file")
    group.add_argument("--input-name", metavar="TEXT", help=f"default: {INPUT_NAME}")
    group.add_argument("--input-description", metavar="TEXT")
    add_head_arguments(parser, OUTPUT_NAME)


def _merge_arguments(args: argparse.Namespace, document: dict[str, Any]) -> None:
    if args.vocab is not None:
        args.vocab = command_line_path(args.vocab)
    merge_input_options(
        args,
        document,
        (
            ("regex", "regex"),
            ("vocab", "vocab"),
            ("input_name", "name"),
            ("input_description", "description"),
        ),
    )
    merge_head_arguments(args, document)


def regex_tokenizer_from_spec(
    spec: Spec, table: dict[str, Any], base: Optional[Path]
) -> Optional[RegexTokenizerMd]:
    """The regex tokenizer of a spec's input table (``regex`` and ``vocab``), or None."""
    regex = spec.text(table, "regex", "input")
    vocab = spec.text(table, "vocab", "input")
    if (regex is None) != (vocab is None):
        spec.fail(
            "input",
            "a regex tokenizer needs both its pattern and its vocabulary: give --regex and "
            "--vocab (or input.regex and input.vocab), or neither",
        )
    if regex is None or vocab is None:
        return None
    return RegexTokenizerMd(regex, resolve(base, vocab))


def _build_writer(
    model: BufferLike, document: dict[str, Any], spec: Spec, base: Optional[Path]
) -> NLClassifierWriter:
    document = spec.table(document, "spec", _SPEC_KEYS)
    general = general_md(spec, document, MODEL_NAME, MODEL_DESCRIPTION)
    input_table = spec.table(document.get("input", {}), "input", _INPUT_KEYS)
    input_md = InputTextTensorMd(
        spec.text_or(input_table, "name", "input", INPUT_NAME),
        spec.text_or(input_table, "description", "input", INPUT_DESCRIPTION),
        regex_tokenizer_from_spec(spec, input_table, base),
    )
    heads = heads_from_spec(model, spec, document, base, OUTPUT_NAME, OUTPUT_DESCRIPTION)
    return NLClassifierWriter.create_from_metadata_info_for_multihead(
        model, general, input_md, heads
    )


TASK = Task(
    name="nl-classifier",
    writer=NLClassifierWriter,
    recognizes=_recognizes,
    check_model=_check_model,
    check_metadata=_check_metadata,
    add_arguments=_add_arguments,
    merge_arguments=_merge_arguments,
    build_writer=_build_writer,
    spec_help=_SPEC_HELP,
    description=(
        "Write NL classifier metadata into MODEL, as tflite-support's "
        "nl_classifier.MetadataWriter does, and save the result as OUT. OUT is checked "
        "against the rules of the Task Library NLClassifier and MediaPipe TextClassifier "
        "first, and not written if they would refuse it (unless --no-check). An INT32 input "
        "needs --regex and --vocab. Options describe one classification head; for a model "
        "with several outputs, start each head with --head, or describe everything in a spec "
        "file (--spec)."
    ),
    model_name=MODEL_NAME,
    # A model whose input is the text (STRING) needs no metadata; an INT32 one is told
    # that it lacks its tokenizer.
    requires_metadata=False,
)
