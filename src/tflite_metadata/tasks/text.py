"""What the text tasks share: the input text tensor and the tokenizers.

tflite-support's ``metadata_info`` text descriptions, used by :mod:`.nl_classifier`
(:class:`InputTextTensorMd` with a :class:`RegexTokenizerMd`) and
:mod:`.bert_nl_classifier` (:class:`BertInputTensorsMd` with a
:class:`BertTokenizerMd` or a :class:`SentencePieceTokenizerMd`).

A tokenizer records its files (the vocabulary, the SentencePiece model) inside
its options, named as given: a path stays a path in the metadata buffer, and
populating reduces it to its basename, as tflite-support does. The writers pack
those files (:meth:`BertInputTensorsMd.get_tokenizer_associated_files`).

Interface and output are tflite-support 0.4.4's. The differences are on purpose:

* a regex pattern is stored as given, never compiled (the consumers compile it
  with RE2, whose syntax differs from Python's ``re``); it must be a ``str``;
* a file path must be a ``str`` or ``os.PathLike``, and is checked when the
  description is made, not when the model is populated;
* :class:`BertInputTensorsMd`'s name-mismatch error names each list correctly
  (tflite-support called the model's names the arguments' and the reverse).
"""

from __future__ import annotations

import collections
import os
from typing import Any, Optional, Union

from ..errors import MetadataValidationError
from ..fileio import PathLike
from ..format.flatc_module import api as _fb
from ..model.reader import model_bytes
from .base import MetadataWriterBase, ModelSource, TensorMd
from .writer_utils import get_input_tensor_names, get_tokenizer_associated_files

__all__ = [
    "BertInputTensorsMd",
    "BertTokenizerMd",
    "InputTextTensorMd",
    "MediaPipeBertInputTensorsMd",
    "MediaPipeTextClassifierWriter",
    "RegexTokenizerMd",
    "SentencePieceTokenizerMd",
]

#: The input tensor names of BERT models made by Model Maker: the writers' defaults.
DEFAULT_ID_NAME = "serving_default_input_word_ids:0"
DEFAULT_MASK_NAME = "serving_default_input_mask:0"
DEFAULT_SEGMENT_ID_NAME = "serving_default_input_type_ids:0"

#: tflite-support's description of a tokenizer's vocabulary file.
VOCAB_FILE_DESCRIPTION = "Vocabulary file to convert natural language words to embedding vectors."


def _file_name(file_path: Any, what: str) -> str:
    """``file_path`` as the ``str`` the metadata records (checked to be a path)."""
    if isinstance(file_path, os.PathLike):
        file_path = os.fspath(file_path)
    if not isinstance(file_path, str):
        raise MetadataValidationError(
            f"{what} should be a file path (str or os.PathLike), but got "
            f"{type(file_path).__name__} ({file_path!r})."
        )
    if not os.path.basename(file_path):
        raise MetadataValidationError(f"{what} names no file: {file_path!r}.")
    return file_path


def _vocabulary_file(name: str, description: str) -> Any:
    vocab = _fb.AssociatedFileT()
    vocab.name = name
    vocab.description = description
    vocab.type = _fb.AssociatedFileType.VOCABULARY
    return vocab


class RegexTokenizerMd:
    """A container for the regex tokenizer metadata information.

    The input text is split at each match of ``delim_regex_pattern``, and each
    token becomes its id in the vocabulary file (one ``token id`` pair a line).

    Args:
        delim_regex_pattern: the regular expression (RE2 syntax, as the consumers
            use) that separates tokens; stored as given, never compiled.
        vocab_file_path: path to the vocabulary file.

    Raises:
        MetadataValidationError: the pattern is not a ``str``, or the path not a path.
    """

    def __init__(self, delim_regex_pattern: str, vocab_file_path: PathLike) -> None:
        if not isinstance(delim_regex_pattern, str):
            raise MetadataValidationError(
                "delim_regex_pattern should be a str (a regular expression), but got "
                f"{type(delim_regex_pattern).__name__} ({delim_regex_pattern!r})."
            )
        self._delim_regex_pattern = delim_regex_pattern
        self._vocab_file_path = _file_name(vocab_file_path, "vocab_file_path")

    @property
    def delim_regex_pattern(self) -> str:
        """The delimiter pattern, as given."""
        return self._delim_regex_pattern

    @property
    def vocab_file_path(self) -> str:
        """The vocabulary file's path, as given."""
        return self._vocab_file_path

    def create_metadata(self) -> Any:
        """Create the regex tokenizer metadata.

        Returns:
            A ``ProcessUnitT`` holding ``RegexTokenizerOptionsT``.
        """
        options = _fb.RegexTokenizerOptionsT()
        options.delimRegexPattern = self._delim_regex_pattern
        options.vocabFile = [_vocabulary_file(self._vocab_file_path, VOCAB_FILE_DESCRIPTION)]
        tokenizer = _fb.ProcessUnitT()
        tokenizer.optionsType = _fb.ProcessUnitOptions.RegexTokenizerOptions
        tokenizer.options = options
        return tokenizer


class BertTokenizerMd:
    """A container for the BERT (word-piece) tokenizer metadata information.

    Args:
        vocab_file_path: path to the vocabulary file (one word piece a line).

    Raises:
        MetadataValidationError: the path is not a path.
    """

    def __init__(self, vocab_file_path: PathLike) -> None:
        self._vocab_file_path = _file_name(vocab_file_path, "vocab_file_path")

    @property
    def vocab_file_path(self) -> str:
        """The vocabulary file's path, as given."""
        return self._vocab_file_path

    def create_metadata(self) -> Any:
        """Create the BERT tokenizer metadata.

        Returns:
            A ``ProcessUnitT`` holding ``BertTokenizerOptionsT``.
        """
        options = _fb.BertTokenizerOptionsT()
        options.vocabFile = [_vocabulary_file(self._vocab_file_path, VOCAB_FILE_DESCRIPTION)]
        tokenizer = _fb.ProcessUnitT()
        tokenizer.optionsType = _fb.ProcessUnitOptions.BertTokenizerOptions
        tokenizer.options = options
        return tokenizer


class SentencePieceTokenizerMd:
    """A container for the SentencePiece tokenizer metadata information.

    Args:
        sentence_piece_model_path: path to the SentencePiece model file.
        vocab_file_path: path to the vocabulary file (optional: the consumers
            tokenize with the model alone).

    Raises:
        MetadataValidationError: a path is not a path.
    """

    _SP_MODEL_DESCRIPTION = "The sentence piece model file."
    _SP_VOCAB_FILE_DESCRIPTION = VOCAB_FILE_DESCRIPTION + (
        " This file is optional during tokenization, while the sentence piece model is mandatory."
    )

    def __init__(
        self, sentence_piece_model_path: PathLike, vocab_file_path: Optional[PathLike] = None
    ) -> None:
        self._sentence_piece_model_path = _file_name(
            sentence_piece_model_path, "sentence_piece_model_path"
        )
        # tflite-support leaves out a vocabulary given as "" (or None).
        self._vocab_file_path = (
            _file_name(vocab_file_path, "vocab_file_path") if vocab_file_path else None
        )

    @property
    def sentence_piece_model_path(self) -> str:
        """The SentencePiece model's path, as given."""
        return self._sentence_piece_model_path

    @property
    def vocab_file_path(self) -> Optional[str]:
        """The vocabulary file's path, as given, or None."""
        return self._vocab_file_path

    def create_metadata(self) -> Any:
        """Create the SentencePiece tokenizer metadata.

        Returns:
            A ``ProcessUnitT`` holding ``SentencePieceTokenizerOptionsT``.
        """
        options = _fb.SentencePieceTokenizerOptionsT()
        model = _fb.AssociatedFileT()
        model.name = self._sentence_piece_model_path
        model.description = self._SP_MODEL_DESCRIPTION
        options.sentencePieceModel = [model]
        if self._vocab_file_path:
            options.vocabFile = [
                _vocabulary_file(self._vocab_file_path, self._SP_VOCAB_FILE_DESCRIPTION)
            ]
        tokenizer = _fb.ProcessUnitT()
        tokenizer.optionsType = _fb.ProcessUnitOptions.SentencePieceTokenizerOptions
        tokenizer.options = options
        return tokenizer


#: The tokenizers of a BERT model.
BertTokenizer = Union[BertTokenizerMd, SentencePieceTokenizerMd]


class InputTextTensorMd(TensorMd):
    """A container for the input text tensor metadata information.

    Attributes:
        tokenizer_md: the tokenizer of the input text, if any (a :class:`RegexTokenizerMd`;
            BERT models take :class:`BertInputTensorsMd`).
        (and those of :class:`TensorMd`)

    Args:
        name: name of the tensor metadata.
        description: description of what the tensor is.
        tokenizer_md: as the attribute.
        tensor_name: name of the corresponding tensor in the model (see :class:`TensorMd`).
    """

    def __init__(
        self,
        name: Optional[str] = None,
        description: Optional[str] = None,
        tokenizer_md: Optional[RegexTokenizerMd] = None,
        tensor_name: Optional[str] = None,
    ) -> None:
        super().__init__(name, description, tensor_name=tensor_name)
        self.tokenizer_md = tokenizer_md

    def create_metadata(self) -> Any:
        """Create the input text tensor metadata.

        Returns:
            A ``TensorMetadataT``; with a tokenizer, its process unit too.

        Raises:
            MetadataValidationError: ``tokenizer_md`` is not a :class:`RegexTokenizerMd`
                (tflite-support's message; a ``ValueError`` too).
        """
        if not isinstance(self.tokenizer_md, (type(None), RegexTokenizerMd)):
            raise MetadataValidationError(
                f"The type of tokenizer_options, {type(self.tokenizer_md)}, is unsupported"
            )
        tensor_metadata = super().create_metadata()
        if self.tokenizer_md:
            tensor_metadata.processUnits = [self.tokenizer_md.create_metadata()]
        return tensor_metadata


class BertInputTensorsMd:
    """A container for the three input tensors of a BERT model and their tokenizer.

    ``ids_name``, ``mask_name`` and ``segment_name`` are the names of the model's
    tensors (``Tensor.name``): they decide which description goes on which input,
    whatever the model's input order.

    Args:
        model_buffer: the model (bytes, bytearray, memoryview or a path).
        ids_name: the tensor of the token ids of the input text.
        mask_name: the tensor of the mask: 1 for real tokens, 0 for padding.
        segment_name: the tensor of the segment ids: 0 for the first sequence,
            1 for the second, if any.
        ids_md: the ids tensor's description (default: ``"ids"``).
        mask_md: the mask tensor's description (default: ``"mask"``).
        segment_ids_md: the segment ids tensor's description (default: ``"segment_ids"``).
        tokenizer_md: the tokenizer (:class:`BertTokenizerMd` or
            :class:`SentencePieceTokenizerMd`), if any.

    Raises:
        MetadataValidationError: the three names are not the model's input names,
            or the tokenizer is of another type.
        ModelFormatError: the model cannot be read.
    """

    _IDS_NAME = "ids"
    _IDS_DESCRIPTION = "Tokenized ids of the input text."
    _MASK_NAME = "mask"
    _MASK_DESCRIPTION = "Mask with 1 for real tokens and 0 for padding tokens."
    _SEGMENT_IDS_NAME = "segment_ids"
    _SEGMENT_IDS_DESCRIPTION = "0 for the first sequence, 1 for the second sequence if exists."

    def __init__(
        self,
        model_buffer: ModelSource,
        ids_name: str,
        mask_name: str,
        segment_name: str,
        ids_md: Optional[TensorMd] = None,
        mask_md: Optional[TensorMd] = None,
        segment_ids_md: Optional[TensorMd] = None,
        tokenizer_md: Optional[BertTokenizer] = None,
    ) -> None:
        self._input_names = [ids_name, mask_name, segment_name]
        self._ordered_input_names = get_input_tensor_names(model_bytes(model_buffer))
        if not all(isinstance(name, str) for name in self._input_names) or collections.Counter(
            self._ordered_input_names
        ) != collections.Counter(self._input_names):
            # tflite-support's message, with each list under its own name (a name that is
            # not a str, even an unhashable one, is one that does not match).
            raise MetadataValidationError(
                f"The input tensor names ({self._input_names}) do not match the tensor "
                f"names read from the model ({self._ordered_input_names})."
            )
        if ids_md is None:
            ids_md = TensorMd(name=self._IDS_NAME, description=self._IDS_DESCRIPTION)
        if mask_md is None:
            mask_md = TensorMd(name=self._MASK_NAME, description=self._MASK_DESCRIPTION)
        if segment_ids_md is None:
            segment_ids_md = TensorMd(
                name=self._SEGMENT_IDS_NAME, description=self._SEGMENT_IDS_DESCRIPTION
            )
        self._input_md = [ids_md, mask_md, segment_ids_md]
        if not isinstance(tokenizer_md, (type(None), BertTokenizerMd, SentencePieceTokenizerMd)):
            raise MetadataValidationError(
                f"The type of tokenizer_options, {type(tokenizer_md)}, is unsupported"
            )
        self._tokenizer_md = tokenizer_md

    @property
    def tokenizer_md(self) -> Optional[BertTokenizer]:
        """The tokenizer, if any."""
        return self._tokenizer_md

    def create_input_tesnor_metadata(self) -> list[Any]:
        """The three inputs' ``TensorMetadataT``, in the model's input order.

        (The name is tflite-support's, misspelling included.)
        """
        by_name = dict(zip(self._input_names, self._input_md))
        return [by_name[name].create_metadata() for name in self._ordered_input_names]

    def create_input_process_unit_metadata(self) -> list[Any]:
        """The subgraph's input process units: the tokenizer's, or none (an empty list)."""
        if self._tokenizer_md:
            return [self._tokenizer_md.create_metadata()]
        return []

    def get_tokenizer_associated_files(self) -> list[Optional[str]]:
        """The names (paths, as given) of the files the tokenizer records."""
        if self._tokenizer_md:
            return get_tokenizer_associated_files(self._tokenizer_md.create_metadata().options)
        return []


class MediaPipeBertInputTensorsMd(BertInputTensorsMd):
    """MediaPipe's ``BertInputTensorsMd``: the three BERT inputs, by tensor name.

    MediaPipe's signature (the tokenizer fifth, no custom descriptions) and its
    :attr:`input_md`, the three descriptions with the ``tensor_name`` of the
    input each describes; otherwise :class:`BertInputTensorsMd`.

    Args:
        model_buffer: the model (bytes, bytearray, memoryview or a path).
        ids_name: the tensor of the token ids of the input text.
        mask_name: the tensor of the mask: 1 for real tokens, 0 for padding.
        segment_name: the tensor of the segment ids.
        tokenizer_md: the tokenizer (:class:`BertTokenizerMd` or
            :class:`SentencePieceTokenizerMd`), if any.

    Raises:
        As :class:`BertInputTensorsMd`.
    """

    def __init__(
        self,
        model_buffer: ModelSource,
        ids_name: str,
        mask_name: str,
        segment_name: str,
        tokenizer_md: Optional[BertTokenizer] = None,
    ) -> None:
        super().__init__(model_buffer, ids_name, mask_name, segment_name, tokenizer_md=tokenizer_md)
        for md, name in zip(self._input_md, self._input_names):
            md.tensor_name = name

    @property
    def input_md(self) -> list[TensorMd]:
        """The ids, mask and segment ids descriptions, each with its ``tensor_name``."""
        return list(self._input_md)


# -- MediaPipe's text classifier writer ---------------------------------------------------------

#: The model name and description MediaPipe's text classifier writer gives.
TEXT_CLASSIFIER_NAME = "TextClassifier"
TEXT_CLASSIFIER_DESCRIPTION = "Classify the input text into a set of known categories."


class MediaPipeTextClassifierWriter(MetadataWriterBase):
    """MediaPipe's ``text_classifier.MetadataWriter``: regex and BERT text classifiers.

    Each method fills a builder (:class:`tflite_metadata.tasks.builder.MetadataWriter`)
    with what MediaPipe Tasks' ``TextClassifier`` needs: the general info, the
    text input(s) with their tokenizer, and one classification output.
    """

    @classmethod
    def create_for_regex_model(
        cls, model_buffer: ModelSource, regex_tokenizer: Any, labels: Any
    ) -> MediaPipeTextClassifierWriter:
        """A writer for a model whose one input is the ids of a regex tokenizer.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            regex_tokenizer: a ``RegexTokenizer`` (its pattern and vocabulary file).
            labels: the output's ``Labels``.

        Raises:
            As the builder's ``add_*`` methods.
        """
        from .builder import MetadataWriter

        writer = MetadataWriter(model_buffer)
        writer.task = "nl-classifier"
        writer.add_general_info(TEXT_CLASSIFIER_NAME, TEXT_CLASSIFIER_DESCRIPTION)
        writer.add_regex_text_input(regex_tokenizer)
        writer.add_classification_output(labels)
        return cls(writer)

    @classmethod
    def create_for_bert_model(
        cls,
        model_buffer: ModelSource,
        tokenizer: Any,
        labels: Any,
        ids_name: str = DEFAULT_ID_NAME,
        mask_name: str = DEFAULT_MASK_NAME,
        segment_name: str = DEFAULT_SEGMENT_ID_NAME,
    ) -> MediaPipeTextClassifierWriter:
        """A writer for a BERT model: three inputs, found by their tensor names.

        Args:
            model_buffer: the model (bytes, bytearray, memoryview or a path).
            tokenizer: a ``BertTokenizer`` or a ``SentencePieceTokenizer``.
            labels: the output's ``Labels``.
            ids_name: the tensor name of the token ids (default: Model Maker's).
            mask_name: the tensor name of the mask.
            segment_name: the tensor name of the segment ids.

        Raises:
            As the builder's ``add_*`` methods.
        """
        from .builder import MetadataWriter

        writer = MetadataWriter(model_buffer)
        writer.task = "bert-nl-classifier"
        writer.add_general_info(TEXT_CLASSIFIER_NAME, TEXT_CLASSIFIER_DESCRIPTION)
        writer.add_bert_text_input(tokenizer, ids_name, mask_name, segment_name)
        writer.add_classification_output(labels)
        return cls(writer)


# -- the consumers' rules every text task shares ------------------------------------------------


def check_sequence_inputs(checker: Any, consumers: tuple[str, ...]) -> None:
    """The token inputs' shapes: each ``[1, length]``, every length the same.

    MediaPipe's text preprocessing (``GetMaxSeqLen``) refuses anything else for
    regex and BERT models; the Task Library's BERT preprocessor too, and it also
    needs a length of at least 2 (``[CLS]`` and ``[SEP]``).

    Args:
        checker: the model (a :class:`~.rules.Checker`).
        consumers: the consumers that refuse it.
    """
    from .rules import Code, shape_text

    lengths = []
    for tensor in checker.model.inputs:
        shape = tensor.shape
        if len(shape) != 2 or shape[0] != 1:
            checker.add(
                Code.INPUT_SHAPE,
                f"input {tensor.index}",
                f"shape {shape_text(shape)}; text models need [1, length] (a batch of 1)",
                consumers,
            )
            return
        lengths.append(shape[1])
    if len(set(lengths)) > 1:
        checker.add(
            Code.INPUT_SHAPE,
            "model",
            f"the inputs have lengths {', '.join(str(n) for n in lengths)}; the consumers "
            "need the same length for every input",
            consumers,
        )


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """The protobuf varint at ``pos`` and the position after it; ValueError if cut or too long."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("a varint is cut short or too long")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def sentence_piece_model_problem(data: bytes) -> Optional[str]:
    """Why ``data`` cannot be a SentencePiece model, or None if it may be one.

    A model is a serialized ``ModelProto``: a protobuf message whose field 1 (the
    pieces) is repeated. Both consumers abort the process on a file that does not
    parse, or has no piece (measured: junk, an empty file, a model cut in half).
    Only the wire format is read: every field's tag, length and value must fit.
    """
    pos = pieces = 0
    try:
        while pos < len(data):
            tag, pos = _varint(data, pos)
            field, wire = tag >> 3, tag & 7
            if field == 0:
                return f"byte {pos - 1} holds field number 0"
            if wire == 0:
                _, pos = _varint(data, pos)
            elif wire == 1:
                pos += 8
            elif wire == 2:
                size, pos = _varint(data, pos)
                pos += size
            elif wire == 5:
                pos += 4
            else:
                return f"field {field} has wire type {wire}, which a model does not use"
            if pos > len(data):
                return f"field {field} runs past the end of the file"
            pieces += field == 1
    except ValueError as exc:
        return str(exc)
    if not pieces:
        return "it holds no piece (field 1)"
    return None


def check_text_output_tensors(checker: Any) -> None:
    """The score outputs' types, as the text classifiers read them.

    The Task Library's NL and BERT classifiers (``BuildResults``) read UINT8, INT8,
    INT16 (dequantized), FLOAT32, FLOAT64 and BOOL scores; MediaPipe's
    ``TextClassifier`` (its classification post-processing) UINT8, FLOAT32 and BOOL,
    all of the outputs quantized (UINT8, BOOL) or none (measured: INT8 and INT16
    refused by MediaPipe alone).
    """
    from ..format.model_schema import TensorType, tensor_type_name
    from .rules import MEDIAPIPE, TASK_LIBRARY, Code, quoted

    task_library = {
        TensorType.UINT8,
        TensorType.INT8,
        TensorType.INT16,
        TensorType.FLOAT32,
        TensorType.FLOAT64,
        TensorType.BOOL,
    }
    mediapipe = {TensorType.UINT8, TensorType.FLOAT32, TensorType.BOOL}
    outputs = checker.model.outputs
    for tensor in outputs:
        refusing = tuple(
            consumer
            for consumer, accepted in ((TASK_LIBRARY, task_library), (MEDIAPIPE, mediapipe))
            if tensor.type not in accepted
        )
        if refusing:
            checker.add(
                Code.OUTPUT_TYPE,
                f"output {tensor.index}",
                f"tensor {quoted(tensor.name)} has type {tensor_type_name(tensor.type)}; the "
                "Task Library reads UINT8, INT8, INT16, FLOAT32, FLOAT64 or BOOL scores, "
                "MediaPipe UINT8, FLOAT32 or BOOL",
                refusing,
            )
    quantized = sum(t.type in (TensorType.UINT8, TensorType.BOOL) for t in outputs)
    if 0 < quantized < len(outputs):
        checker.add(
            Code.OUTPUT_TYPE,
            "model",
            f"{quantized} of {len(outputs)} outputs are quantized; MediaPipe needs all or "
            "none of them quantized",
            (MEDIAPIPE,),
        )
