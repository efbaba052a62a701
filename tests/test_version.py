"""``min_parser_version``: tflite-support's minimum metadata parser version, in pure Python.

The rule (``metadata_version.cc``) is driven by the annotations in ``schema.py``;
the tests pin those annotations, check each rule on a hand-built buffer, compare
random buffers with tflite-support 0.4.4's ``GetMinimumMetadataParserVersion``,
and check that malformed buffers (also in fields the rule does not look at)
raise ``MetadataFormatError``.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_json_format import (
    RICH,
    Reference,
    Spec,
    build_reference_object,
    load_reference,
    make,
    pack,
    shared_string_bomb,
    table_strategy,
)
from tflite_metadata.errors import MetadataFormatError
from tflite_metadata.format import metadata_schema as schema
from tflite_metadata.format.flatbuf import FlatBufferReader
from tflite_metadata.format.version import DEFAULT_VERSION, min_parser_version


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference()


def version_of(obj: Any, *, force_defaults: bool = False) -> str:
    return min_parser_version(pack(obj, force_defaults=force_defaults))


def model(**fields: Any) -> Any:
    return make("ModelMetadata", **fields)


def subgraph(**fields: Any) -> Any:
    return model(subgraphMetadata=[make("SubGraphMetadata", **fields)])


def tensor(**fields: Any) -> Any:
    return subgraph(outputTensorMetadata=[make("TensorMetadata", **fields)])


def unit(options_type: int, options: Any = None) -> Any:
    return make("ProcessUnit", optionsType=options_type, options=options)


def vocabulary(**fields: Any) -> Any:
    return make("AssociatedFile", name="vocab.txt", type=5, **fields)


# -- the annotations ----------------------------------------------------------------------


def test_annotations_match_metadata_version_cc() -> None:
    # Every member tflite-support's metadata_version.cc knows, with its version.
    fields = {
        f"{table.name}.{field.name}": field.min_version
        for table in schema.TABLES.values()
        for field in table.fields
        if field.min_version
    }
    assert fields == {
        "AssociatedFile.version": "1.4.1",
        "SubGraphMetadata.input_process_units": "1.1.0",
        "SubGraphMetadata.output_process_units": "1.1.0",
        "SubGraphMetadata.input_tensor_groups": "1.2.0",
        "SubGraphMetadata.output_tensor_groups": "1.2.0",
        "SubGraphMetadata.custom_metadata": "1.5.0",
    }
    enums = {
        name: dict(enum.min_versions) for name, enum in schema.ENUMS.items() if enum.min_versions
    }
    assert enums == {"AssociatedFileType": {"VOCABULARY": "1.0.1", "SCANN_INDEX_FILE": "1.4.0"}}
    unions = {name: dict(u.min_versions) for name, u in schema.UNIONS.items() if u.min_versions}
    assert unions == {
        "ContentProperties": {"AudioProperties": "1.3.0"},
        "ProcessUnitOptions": {
            "BertTokenizerOptions": "1.1.0",
            "SentencePieceTokenizerOptions": "1.1.0",
            "RegexTokenizerOptions": "1.2.1",
        },
    }
    walked = {
        f"{table.name}.{field.name}"
        for table in schema.TABLES.values()
        for field in table.fields
        if field.walk
    }
    assert walked == {
        "ModelMetadata.subgraph_metadata",
        "ModelMetadata.associated_files",
        "SubGraphMetadata.input_tensor_metadata",
        "SubGraphMetadata.output_tensor_metadata",
        "SubGraphMetadata.associated_files",
        "SubGraphMetadata.input_process_units",
        "SubGraphMetadata.output_process_units",
        "TensorMetadata.content",
        "TensorMetadata.process_units",
        "TensorMetadata.associated_files",
    }


# -- each rule ----------------------------------------------------------------------------


CASES = [
    pytest.param(model(), "1.0.0", id="empty"),
    pytest.param(
        model(name="m", associatedFiles=[make("AssociatedFile", type=2)]), "1.0.0", id="labels"
    ),
    pytest.param(model(associatedFiles=[vocabulary()]), "1.0.1", id="vocabulary-model"),
    pytest.param(subgraph(associatedFiles=[vocabulary()]), "1.0.1", id="vocabulary-subgraph"),
    pytest.param(tensor(associatedFiles=[vocabulary()]), "1.0.1", id="vocabulary-tensor"),
    pytest.param(
        model(associatedFiles=[make("AssociatedFile", type=6)]), "1.4.0", id="scann-index"
    ),
    pytest.param(
        tensor(associatedFiles=[make("AssociatedFile", version="")]),
        "1.4.1",
        id="file-version-empty-string",
    ),
    pytest.param(subgraph(inputProcessUnits=[]), "1.1.0", id="input-process-units-empty"),
    pytest.param(subgraph(outputProcessUnits=[unit(1)]), "1.1.0", id="output-process-units"),
    pytest.param(subgraph(inputTensorGroups=[]), "1.2.0", id="input-tensor-groups"),
    pytest.param(
        subgraph(outputTensorGroups=[make("TensorGroup")]), "1.2.0", id="output-tensor-groups"
    ),
    pytest.param(subgraph(customMetadata=[]), "1.5.0", id="custom-metadata"),
    pytest.param(tensor(processUnits=[unit(4)]), "1.1.0", id="bert-type-without-value"),
    pytest.param(
        tensor(processUnits=[unit(5, make("SentencePieceTokenizerOptions"))]),
        "1.1.0",
        id="sentencepiece",
    ),
    pytest.param(tensor(processUnits=[unit(6)]), "1.2.1", id="regex"),
    pytest.param(tensor(processUnits=[unit(2), unit(1)]), "1.0.0", id="old-options"),
    pytest.param(tensor(processUnits=[unit(200)]), "1.0.0", id="unknown-options-type"),
    pytest.param(
        tensor(content=make("Content", contentPropertiesType=4)),
        "1.3.0",
        id="audio-type-without-value",
    ),
    pytest.param(tensor(content=make("Content", contentPropertiesType=2)), "1.0.0", id="image"),
    # Not walked: files inside tokenizer options, tensor groups' contents.
    pytest.param(
        subgraph(
            inputProcessUnits=[
                unit(4, make("BertTokenizerOptions", vocabFile=[vocabulary(version="2")]))
            ]
        ),
        "1.1.0",
        id="file-inside-tokenizer-not-counted",
    ),
    pytest.param(
        tensor(
            processUnits=[
                unit(6, make("RegexTokenizerOptions", vocabFile=[make("AssociatedFile", type=6)]))
            ]
        ),
        "1.2.1",
        id="scann-inside-tokenizer-not-counted",
    ),
    # The largest wins, compared as numbers.
    pytest.param(
        subgraph(
            customMetadata=[],
            inputTensorGroups=[],
            associatedFiles=[make("AssociatedFile", version="v")],
        ),
        "1.5.0",
        id="largest",
    ),
]


@pytest.mark.parametrize(("metadata", "expected"), CASES)
def test_rule(metadata: Any, expected: str) -> None:
    assert version_of(metadata) == expected


@pytest.mark.reference
@pytest.mark.parametrize(("metadata", "expected"), CASES)
def test_rule_agrees_with_reference(reference: Reference, metadata: Any, expected: str) -> None:
    # Our object API packs the same bytes as tflite-support's; its C++ rule must agree.
    assert reference.version(pack(metadata)) == expected


def test_stored_defaults_do_not_count() -> None:
    # A builder forcing defaults stores type 0 (UNKNOWN / NONE): still 1.0.0.
    metadata = tensor(
        associatedFiles=[make("AssociatedFile")], processUnits=[unit(0)], content=make("Content")
    )
    assert version_of(metadata, force_defaults=True) == DEFAULT_VERSION


def test_version_written_in_the_buffer_is_ignored() -> None:
    assert version_of(model(minParserVersion="9.9.9")) == "1.0.0"


# -- hostile ------------------------------------------------------------------------------


def test_wrong_identifier() -> None:
    with pytest.raises(MetadataFormatError, match="expected b'M001', found b'TFL3'"):
        min_parser_version(pack(model(), identifier=b"TFL3"))


@pytest.mark.parametrize("size", [0, 7, 8, 12, 20])
def test_truncated(size: int) -> None:
    with pytest.raises(MetadataFormatError):
        min_parser_version(RICH[:size])


def test_every_truncation_fails_or_gives_the_same_version() -> None:
    full = min_parser_version(RICH)
    assert full == "1.5.0"
    for size in range(len(RICH)):
        try:
            version = min_parser_version(RICH[:size])
        except MetadataFormatError:
            continue
        assert version == full


def test_malformed_field_the_rule_does_not_look_at_is_still_refused() -> None:
    # tflite-support verifies the whole buffer first; a lying length inside a
    # tensor group's names (never counted) fails too.
    reader = FlatBufferReader(RICH)
    group = reader.root("root").vector(3, 4).table(0).vector(7, 4).table(0)  # input_tensor_groups
    pos = group.field_pos(1)  # tensor_names
    buffer = bytearray(RICH)
    names = pos + struct.unpack_from("<I", RICH, pos)[0]
    element = names + 4 + struct.unpack_from("<I", RICH, names + 4)[0]
    struct.pack_into("<I", buffer, element, 0x7FFFFFFF)
    with pytest.raises(MetadataFormatError, match=r"tensor_names\[0\]: 2147483647 bytes"):
        min_parser_version(bytes(buffer))


def test_shared_offsets_are_checked_without_copying() -> None:
    # 20000 references to one 4 KiB string: each is bounds-checked, none is copied,
    # so the work stays proportional to the buffer (to_json refuses this one).
    assert min_parser_version(shared_string_bomb(20000, 4096)) == "1.0.0"


def test_invalid_utf8_is_not_a_format_error_here() -> None:
    # The verifier does not check UTF-8, and neither does the version rule.
    assert version_of(model(name=b"\xff", associatedFiles=[vocabulary()])) == "1.0.1"


# -- differential against tflite-support 0.4.4 --------------------------------------------

#: Fields that raise the version whenever present; dropping them from some trees
#: lets the other rules decide the answer.
LOUD_FIELDS = ("version", "custom_metadata", "input_tensor_groups", "output_tensor_groups")


def without(spec: Spec, dropped: frozenset[str]) -> Spec:
    """``spec`` with the fields named in ``dropped`` removed everywhere."""
    name, values = spec
    result: dict[str, Any] = {}
    for field in schema.TABLES[name].fields:
        value = values[field.name]
        if field.name in dropped:
            value = None
        elif value is not None and field.kind == "union" and value[1] is not None:
            value = (value[0], without(value[1], dropped))
        elif value is not None and field.kind == "table":
            value = without(value, dropped)
        elif value is not None and field.kind == "tables":
            value = [without(item, dropped) for item in value]
        result[field.name] = value
    return (name, result)


@pytest.mark.reference
@settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    spec=table_strategy(schema.ROOT_TABLE),
    dropped=st.frozensets(st.sampled_from(LOUD_FIELDS)),
    force_defaults=st.booleans(),
)
def test_differential_against_tflite_support(
    reference: Reference, spec: Spec, dropped: frozenset[str], force_defaults: bool
) -> None:
    metadata = build_reference_object(without(spec, dropped), reference.generated)
    buffer = pack(metadata, force_defaults=force_defaults)
    assert min_parser_version(buffer) == reference.version(buffer)
