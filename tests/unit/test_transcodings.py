"""Every type the event store's transcoder knows comes back from JSON as the value it left as,
of the same type at every depth (a string equals a string enum, so == alone proves nothing)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given
from hypothesis import strategies as st

from application.eventlog.log import EventLog
from application.eventlog.transcodings import TypedJSONTranscoder, dataclass_transcoding
from domain.chat import Question, Turn
from domain.components import NodeKind
from domain.document import DocumentIndex, DocumentStatus, Stage
from domain.graph import Edge, Node, Position
from domain.knowledge_base import IndexSettings
from domain.workflow import PublishedVersion
from domain.workspace import Budget, Invitation, Role, Scope, TokenGrant


@pytest.fixture(scope="module")
def transcoder() -> Iterator[JSONTranscoder]:
    store = EventLog(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})  # in memory
    transcoder = store.mapper.transcoder
    assert isinstance(transcoder, JSONTranscoder)
    yield transcoder
    store.close()


NODE = Node(
    "kb",
    NodeKind.KNOWLEDGE_BASE,
    "Manuals",
    Position(1.5, -2.0),
    {"topK": 4, "temperature": 1.0, "nested": {"list": [1, 2.5, "x", None, True]}},
)
EDGE = Edge("e1", "q", "kb", "query", "query")
AT = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)
LOCAL = IndexSettings("local", "", 1000, 150)
SAMPLES: dict[type, list[Any]] = {
    UUID: [uuid4()],
    Decimal: [Decimal("1.10")],
    datetime: [AT, AT.astimezone(timezone(timedelta(hours=-5)))],
    NodeKind: list(NodeKind),
    DocumentStatus: list(DocumentStatus),
    Stage: list(Stage),
    Position: [Position(0.0, 0.0), Position(-1e6, 3.25)],
    Node: [NODE, Node("q", NodeKind.USER_QUERY, "Ask", Position(0.0, 0.0), {})],
    Edge: [EDGE],
    PublishedVersion: [PublishedVersion(2, 17, AT, "first", (NODE,), (EDGE,))],
    Question: [
        Question(uuid4(), "What is the torque?", AT),
        Question(
            uuid4(),
            "And the weight?",
            AT,
            (Turn("user", "What is the torque?"), Turn("assistant", "40 Nm.")),
            "Answer briefly.",
        ),
    ],
    Turn: [Turn("user", "Hi"), Turn("assistant", "Hello")],
    IndexSettings: [
        LOCAL,
        IndexSettings("openai", "text-embedding-3-small", 500, 0, "http://x", "sec_1"),
    ],
    DocumentIndex: [
        DocumentIndex(LOCAL, 1),
        DocumentIndex(LOCAL, 3, DocumentStatus.INDEXED, 12, 40, "local/all-MiniLM-L6-v2"),
        DocumentIndex(LOCAL, 4, DocumentStatus.FAILED, failed_stage="embed", error="no key"),
    ],
    Role: list(Role),
    Scope: list(Scope),
    Invitation: [
        Invitation("inv-1", Role.EDITOR, "ab" * 32, AT),
        Invitation("inv-2", Role.VIEWER, "cd" * 32, AT, "bob@example.com"),
    ],
    TokenGrant: [
        TokenGrant("tok-1", "ci", (Scope.CHAT, Scope.READ), None, None, "local"),
        TokenGrant("tok-2", "bot", (Scope.EDIT,), "stack-1", AT, "user-1", revoked=True),
        TokenGrant(
            "tok-3",
            "site",
            (Scope.CHAT,),
            "stack-1",
            None,
            "ada",
            allowed_origins=("https://shop.example.com", "http://localhost:3000"),
        ),
    ],
    Budget: [Budget(), Budget(1_000_000, None), Budget(None, 12.5), Budget(500, 0.25)],
}


def assert_same(decoded: Any, original: Any, where: str = "value") -> None:
    assert type(decoded) is type(original), f"{where}: {type(decoded)} is not {type(original)}"
    if dataclasses.is_dataclass(original):
        for f in dataclasses.fields(original):
            assert_same(getattr(decoded, f.name), getattr(original, f.name), f"{where}.{f.name}")
    elif isinstance(original, dict):
        assert list(decoded) == list(original), where
        for key, value in original.items():
            assert_same(decoded[key], value, f"{where}[{key!r}]")
    elif isinstance(original, list | tuple):
        assert len(decoded) == len(original), where
        for i, (d, o) in enumerate(zip(decoded, original, strict=True)):
            assert_same(d, o, f"{where}[{i}]")
    else:
        assert decoded == original, where


def round_trip(transcoder: JSONTranscoder, value: Any) -> Any:
    return transcoder.decode(transcoder.encode(value))


def test_every_registered_type_has_samples_here(transcoder: JSONTranscoder) -> None:
    assert set(transcoder.types) == set(SAMPLES)


@pytest.mark.parametrize(
    "value",
    [v for values in SAMPLES.values() for v in values],
    ids=lambda v: type(v).__name__,
)
def test_a_registered_value_comes_back_equal_and_of_its_type_at_every_depth(
    transcoder: JSONTranscoder, value: Any
) -> None:
    assert_same(round_trip(transcoder, value), value)
    # as a snapshot holds them: inside an aggregate's state, in dicts and lists
    state = {"nodes": {"a": value}, "published": [value, (value,)]}
    decoded = round_trip(transcoder, state)
    assert_same(decoded["nodes"]["a"], value)
    assert_same(decoded["published"][0], value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
nodes = st.builds(
    Node,
    id=st.text(min_size=1, max_size=10),
    kind=st.sampled_from(NodeKind),
    label=st.text(max_size=20),
    position=st.builds(Position, st.floats(-1e7, 1e7), st.floats(-1e7, 1e7)),
    config=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
)


@given(node=nodes, enum=st.sampled_from([*DocumentStatus, *Stage, *NodeKind]))
def test_any_node_and_any_enum_come_back_as_they_left(
    transcoder: JSONTranscoder, node: Node, enum: Enum
) -> None:
    state = {"node": node, "status": enum}
    assert_same(round_trip(transcoder, state), state)


def test_an_enum_without_a_transcoding_is_refused_rather_than_written_as_a_string(
    transcoder: JSONTranscoder,
) -> None:
    class Colour(StrEnum):
        RED = "red"

    with pytest.raises(TranscodingNotRegisteredError):
        transcoder.encode({"colour": Colour.RED})


def test_a_snapshot_written_before_enums_were_tagged_still_decodes_to_real_types(
    transcoder: JSONTranscoder,
) -> None:
    """The broken version's JSON encoder wrote a node's kind as a plain string."""
    old = JSONTranscoder()
    for value_object in (Position, Node, Edge, PublishedVersion, Question):
        old.register(dataclass_transcoding(value_object))
    old.register(next(t for t in transcoder.types.values() if t.name == "datetime_iso"))
    published = SAMPLES[PublishedVersion][0]
    written = old.encode({"nodes": {"kb": NODE}, "published": [published]})
    assert b'"kind":"KNOWLEDGE_BASE"' in written

    state = transcoder.decode(written)
    assert_same(state["nodes"]["kb"], NODE)
    assert_same(state["published"][0], published)


def test_value_objects_give_their_fields_their_types_whoever_builds_them() -> None:
    node = Node("q", "USER_QUERY", "Ask", {"x": 1, "y": 2})  # type: ignore[arg-type]
    assert type(node.kind) is NodeKind and node.position == Position(1.0, 2.0)
    assert type(node.position.x) is float
    published = PublishedVersion(1, 5, AT, "", [node.to_dict()], [EDGE.to_dict()])  # type: ignore[arg-type]
    assert published.nodes == (node,) and published.edges == (EDGE,)
    question = Question(str(SAMPLES[Question][0].id), "?", AT.isoformat())  # type: ignore[arg-type]
    assert type(question.id) is UUID and question.asked_at == AT
    index = DocumentIndex(LOCAL, 2, "INDEXED")  # type: ignore[arg-type]
    assert type(index.status) is DocumentStatus
    with pytest.raises(ValueError):
        Node("q", "NO_SUCH_KIND", "Ask", Position(0, 0))  # type: ignore[arg-type]


# JSON as stored events hold it: scalars, lists, objects, and tagged values among them
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        | st.builds(lambda n: {"_type_": "uuid_hex", "_data_": n.hex}, st.uuids())
        | st.builds(lambda v: {"_type_": "node_kind", "_data_": v}, st.sampled_from(list(NodeKind)))
        | st.builds(
            lambda d: {"_type_": "position", "_data_": {"x": d, "y": 1.5}}, st.floats(-9, 9)
        )
        | st.builds(lambda d: {"_data_": d, "_type_": "datetime_iso"}, st.just(AT.isoformat()))
    ),
    max_leaves=12,
)


def library_decode(transcoder: JSONTranscoder, data: bytes) -> Any:
    return JSONTranscoder.decode(transcoder, data)  # the library's own: json and its hook


@given(value=json_values)
def test_the_fast_decoder_gives_what_the_librarys_decoder_gives(
    transcoder: JSONTranscoder, value: Any
) -> None:
    import json

    data = json.dumps(value).encode()
    expected = library_decode(transcoder, data)
    assert_same(transcoder.decode(data), expected)


@pytest.mark.parametrize(
    "data",
    [b'{"x": NaN}', b'{"big": 123456789012345678901234567890}', b'{"s": "\\ud800"}'],
)
def test_what_orjson_refuses_is_decoded_by_the_librarys_decoder(
    transcoder: JSONTranscoder, data: bytes
) -> None:
    decoded = transcoder.decode(data)
    expected = library_decode(transcoder, data)
    if data.startswith(b'{"x"'):
        assert decoded["x"] != decoded["x"] and expected["x"] != expected["x"]  # both NaN
    else:
        assert decoded == expected


def test_an_unknown_tag_is_refused_by_the_fast_decoder_too(transcoder: JSONTranscoder) -> None:
    with pytest.raises(TranscodingNotRegisteredError):
        transcoder.decode(b'{"_type_": "no_such_type", "_data_": 1}')


class Colour(StrEnum):  # an enum without a transcoding: refused on either path
    RED = "red"


class Label(str):  # a str subclass that is not an enum: `json` writes it as a string
    pass


registered = st.sampled_from([v for values in SAMPLES.values() for v in values])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too
    | st.floats()  # NaN, infinities, 1e16, 1e-5, -0.0 too
    | st.text()
    | st.text(st.characters(codec=None, categories=["Cs"]), min_size=1, max_size=2)  # surrogates
    | st.uuids()
    | st.datetimes(timezones=st.just(UTC))
    | st.decimals(allow_nan=False)
    | registered
    | st.sampled_from([Colour.RED, Label("l")])
)
encodable = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        | st.dictionaries(st.integers(0, 9), inner, min_size=1, max_size=2)  # int keys
    ),
    max_leaves=12,
)


def library_encode(transcoder: JSONTranscoder, value: Any) -> bytes | type[Exception]:
    try:
        return TypedJSONTranscoder._library_encode(transcoder, value)  # type: ignore[arg-type]
    except Exception as error:
        return type(error)


@given(value=encodable)
def test_the_fast_encoder_writes_the_bytes_the_librarys_encoder_writes(
    transcoder: JSONTranscoder, value: Any
) -> None:
    """Byte for byte, or the same refusal: stored events and snapshots are as before."""
    expected = library_encode(transcoder, value)
    if isinstance(expected, bytes):
        assert transcoder.encode(value) == expected
    else:
        with pytest.raises(expected):
            transcoder.encode(value)


def test_the_fast_encoder_takes_the_common_values_itself(transcoder: JSONTranscoder) -> None:
    """What events and snapshots hold is written by orjson, not handed to the library."""
    assert isinstance(transcoder, TypedJSONTranscoder)
    state = {
        "samples": [v for values in SAMPLES.values() for v in values],
        "score": 0.87,
        "tokens": 2**40,
        "text": 'naïve\n"quoted" \u2028 😀',
    }
    assert transcoder._plain(state)["score"] == 0.87  # no fallback raised
    assert transcoder.encode(state) == library_encode(transcoder, state)
