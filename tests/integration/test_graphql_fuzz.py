"""Fuzzing: schemathesis draws queries and mutations from the served schema (every root field,
arguments of every shape the types allow) and sends them to a running `genai-stack serve`.
Whatever it sends, the server answers without an HTTP 5xx and without INTERNAL: bad input is
refused with a contract code. A bounded number of examples per field, the same on every run
(the repeatable hypothesis profile), so that CI stays within its time."""

from __future__ import annotations

import os
import string
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from interfaces.graphql.schema import schema as served_graphql_schema
from tests.integration.gql import GQL
from tests.integration.servers import Server
from tests.integration.workflow_ops import CREATE

pytestmark = pytest.mark.slow

EXAMPLES_PER_FIELD = 20


def _json_node() -> st.SearchStrategy[graphql.ValueNode]:
    """JSON values as GraphQL literals: what a client may put in a JSON argument."""
    keys = st.text(string.ascii_letters + "_", min_size=1, max_size=12)
    leaves = st.one_of(
        st.just(nodes.Null),
        st.booleans().map(nodes.Boolean),
        st.integers(-(2**40), 2**40).map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.text(max_size=40).map(nodes.String),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(nodes.List),
            st.dictionaries(keys, inner, max_size=4).map(
                lambda d: nodes.Object(
                    [
                        graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
                        for k, v in d.items()
                    ]
                )
            ),
        ),
        max_leaves=12,
    )


schemathesis.graphql.scalar("UUID", st.uuids().map(nodes.String))
schemathesis.graphql.scalar(
    "DateTime", st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat()))
)
schemathesis.graphql.scalar("Date", st.dates().map(lambda d: nodes.String(d.isoformat())))
schemathesis.graphql.scalar("JSON", _json_node())
# A JSON request cannot carry a file, only null or a string: both must be refused cleanly.
schemathesis.graphql.scalar(
    "Upload", st.one_of(st.just(nodes.Null), st.text(max_size=300).map(nodes.String))
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    logs = tmp_path_factory.mktemp("fuzz")
    env = {**os.environ, "GENAI_DATA_DIR": str(logs / "data"), "GENAI_POLL_SECONDS": "0.2"}
    server = Server(env, Path(logs))
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def test_no_request_fails_inside_the_server(served: str) -> None:
    schema = schemathesis.graphql.from_url(f"{served}/graphql")
    found: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    served_schema = served_graphql_schema._schema
    assert {o.label for o in operations} == {  # every root query and mutation field
        f"{root.name}.{name}"
        for root in (served_schema.query_type, served_schema.mutation_type)
        if root is not None
        for name in root.fields
    }

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_FIELD, deadline=None, suppress_health_check=list(HealthCheck)
        )
        @given(operation.as_strategy())
        def answered_with_a_code(case: Any) -> None:
            response = case.call(timeout=30)
            assert response.status_code < 500, f"HTTP {response.status_code} for {case.body}"
            body = response.json()
            codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
            assert "INTERNAL" not in codes and None not in codes, f"{case.body} -> {body}"

        try:
            answered_with_a_code()
        except AssertionError as failure:
            found[operation.label] = str(failure)
    assert not found, "\n\n".join(f"{label}: {failure}" for label, failure in found.items())


# What the fuzzing found, kept as regression tests.
UPLOAD = "mutation($w: UUID!, $f: Upload!) { uploadDocument(workflowId: $w, file: $f) { id } }"


@pytest.mark.parametrize("file", ["", "not a file", "x" * 300])
def test_an_upload_sent_as_a_string_is_refused(gql: GQL, file: str) -> None:
    w = gql(CREATE, name="Fuzzed")["createWorkflow"]["id"]
    body = gql.raw(UPLOAD, w=w, f=file)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


ADD_NODE = """mutation($w: UUID!, $c: JSON) {
  addNode(workflowId: $w, kind: KNOWLEDGE_BASE, position: {x: 0, y: 0}, config: $c) { id }
}"""


@pytest.mark.parametrize("config", [[{"topK": 3}], "topK", 7])
def test_a_node_config_that_is_not_an_object_is_refused(gql: GQL, config: Any) -> None:
    w = gql(CREATE, name="Fuzzed")["createWorkflow"]["id"]
    body = gql.raw(ADD_NODE, w=w, c=config)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert "config must be a JSON object" in body["errors"][0]["message"]
