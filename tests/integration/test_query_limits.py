"""Query limits (depth, aliases, tokens) hold, and hold again when the document is cached."""

from __future__ import annotations

import pytest

from tests.integration.gql import GQL, GraphQLError

# The schema has no cycles, so no document reaches the depth limit through its fields, and the
# limiter ignores introspection; the token limit bounds deep introspection documents instead.
DEEP_INTROSPECTION = '{ __type(name: "Workflow") { ' + "ofType { " * 30 + "name" + " }" * 32
TOO_MANY_ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(51)) + " }"
TOO_MANY_TOKENS = "{ " + " ".join("__typename" for _ in range(5001)) + " }"


@pytest.mark.parametrize(
    ("document", "says"), [(TOO_MANY_ALIASES, "aliases"), (TOO_MANY_TOKENS, "token")]
)
def test_a_document_over_a_limit_is_refused_every_time(gql: GQL, document: str, says: str) -> None:
    for _ in range(2):  # the second time from the parser and validation caches
        with pytest.raises(GraphQLError) as refused:
            gql(document)
        assert refused.value.code == "BAD_USER_INPUT"
        assert says in refused.value.message


def test_a_query_within_the_limits_runs_every_time(gql: GQL) -> None:
    for _ in range(2):
        assert gql(DEEP_INTROSPECTION)["__type"]["ofType"] is None


def test_a_cached_document_still_checks_its_variables(gql: GQL) -> None:
    query = "query($id: UUID!) { workflow(id: $id) { id } }"
    assert gql(query, id="00000000-0000-0000-0000-000000000000")["workflow"] is None
    with pytest.raises(GraphQLError) as refused:
        gql(query, id="not a uuid")
    assert refused.value.code == "BAD_USER_INPUT"
