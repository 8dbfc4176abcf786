"""Property: whatever GraphQL commands made the log (failed ones included), the server's
audit chain covers every stored event and verifies."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from infrastructure.audit_chain import SqlAuditChain, stored_events, verify_log
from tests.integration.gql import GQL
from tests.integration.test_audit_chain import fully_chained
from tests.integration.workflow_ops import (
    ADD,
    CONFIGURE,
    CREATE,
    DELETE,
    MOVE,
    PUBLISH,
    REMOVE,
    RENAME,
)

names = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=30)
stacks = st.integers(0, 3)  # which of the stacks made so far (modulo their number)
node_ids = st.sampled_from(["q", "kb", "llm", "out"])
kinds = st.sampled_from(["USER_QUERY", "KNOWLEDGE_BASE", "LLM_ENGINE", "OUTPUT"])
coordinates = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
commands = st.lists(
    st.one_of(
        st.tuples(st.just("create"), names),
        st.tuples(st.just("add"), stacks, kinds, node_ids),
        st.tuples(st.just("move"), stacks, node_ids, coordinates, coordinates),
        st.tuples(st.just("configure"), stacks, node_ids, st.integers(1, 50)),
        st.tuples(st.just("remove"), stacks, node_ids),
        st.tuples(st.just("rename"), stacks, names),
        st.tuples(st.just("publish"), stacks),
        st.tuples(st.just("delete"), stacks),
    ),
    min_size=1,
    max_size=30,
)


def run(gql: GQL, stack_ids: list[str], command: tuple[Any, ...]) -> None:
    kind, *args = command
    if kind == "create":
        body = gql.raw(CREATE, name=args[0])
        if body.get("data"):
            stack_ids.append(body["data"]["createWorkflow"]["id"])
        return
    if not stack_ids:
        return
    w = stack_ids[args[0] % len(stack_ids)]
    operations = {
        "add": lambda: gql.raw(ADD, w=w, kind=args[1], x=0, y=0, id=args[2]),
        "move": lambda: gql.raw(MOVE, w=w, n=args[1], x=args[2], y=args[3]),
        "configure": lambda: gql.raw(CONFIGURE, w=w, n=args[1], c={"topK": args[2]}),
        "remove": lambda: gql.raw(REMOVE, w=w, n=args[1]),
        "rename": lambda: gql.raw(RENAME, w=w, name=args[1]),
        "publish": lambda: gql.raw(PUBLISH, w=w),
        "delete": lambda: gql.raw(DELETE, w=w),
    }
    body = operations[kind]()
    assert "INTERNAL" not in str(body), body


def test_any_history_made_through_graphql_verifies(gql: GQL, client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    chain = SqlAuditChain(services.read_db)
    stack_ids: list[str] = []

    @settings(max_examples=12)
    @given(commands)
    def history_verifies(steps: list[tuple[Any, ...]]) -> None:
        for step in steps:
            run(gql, stack_ids, step)
        fully_chained(services)
        verdict = verify_log(services.event_log, chain)
        assert verdict.finding is None
        assert verdict.checked == len(list(stored_events(services.event_log))) == chain.length()
        assert verdict.pending == 0

    history_verifies()
