"""Eight editors on one workflow at once: without expectedVersion nobody loses an edit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.integration.gql import GQL
from tests.integration.workflow_ops import ADD, CREATE, GET, HISTORY, listed, wait_for

EDITORS, EDITS = 8, 6


def test_eight_concurrent_editors_lose_nothing(gql: GQL) -> None:
    w = gql(CREATE, name="Busy canvas")["createWorkflow"]["id"]

    def editor(n: int) -> None:
        for i in range(EDITS):
            gql(ADD, w=w, kind="KNOWLEDGE_BASE", x=n * 10, y=i * 10, id=f"kb-{n}-{i}")

    with ThreadPoolExecutor(EDITORS) as pool:
        list(pool.map(editor, range(EDITORS)))

    wf = gql(GET, w=w)["workflow"]
    expected = {f"kb-{n}-{i}" for n in range(EDITORS) for i in range(EDITS)}
    assert {n["id"] for n in wf["nodes"]} == expected
    assert wf["version"] == 1 + EDITORS * EDITS
    history = gql(HISTORY, w=w)["workflowHistory"]
    assert [h["version"] for h in history] == list(range(1, 2 + EDITORS * EDITS))
    row = wait_for(lambda: (r := listed(gql, w)) and r["version"] == wf["version"] and r)
    assert {n["id"] for n in row["nodes"]} == expected
