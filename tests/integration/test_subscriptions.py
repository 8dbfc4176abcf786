"""workflowEvents: every stored event reaches subscribers, across processes with PostgreSQL."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from tests.integration.gql import GQL
from tests.integration.servers import serve
from tests.integration.workflow_ops import ADD, CREATE, MOVE, RENAME, wait_for
from tests.integration.ws import InProcessSubscription, next_payload, subscribe

SUBSCRIPTION = """subscription($w: UUID!) {
  workflowEvents(workflowId: $w) { workflowId version type timestamp actor data } }"""


def test_a_subscriber_sees_each_event_in_order(client: TestClient, gql: GQL) -> None:
    w = gql(CREATE, name="Live")["createWorkflow"]["id"]
    sub = InProcessSubscription(client, SUBSCRIPTION, {"w": w})
    try:
        hub = client.app.state.services.hub
        wait_for(lambda: hub.subscriber_count(f"workflow:{w}") == 1)
        gql(ADD, w=w, kind="USER_QUERY", x=1, y=2, id="q")
        gql(MOVE, w=w, n="q", x=3, y=4)
        gql(RENAME, w=w, name="Live!")
        events = [sub.next()["data"]["workflowEvents"] for _ in range(3)]
    finally:
        sub.close()
    assert [(e["version"], e["type"]) for e in events] == [
        (2, "NodeAdded"),
        (3, "NodeMoved"),
        (4, "WorkflowRenamed"),
    ]
    assert events[1]["data"] == {"node_id": "q", "position": {"x": 3.0, "y": 4.0}}
    assert events[2]["workflowId"] == w and events[2]["actor"] == "local"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_subscriber_on_one_process_sees_a_mutation_made_through_another(
    settings: Settings,
) -> None:
    with serve(settings) as first, serve(settings) as second:

        def call(base: str, query: str, **variables: object) -> dict:
            body = httpx.post(
                f"{base}/graphql", json={"query": query, "variables": variables}, timeout=30
            ).json()
            assert "errors" not in body, body
            return body["data"]

        w = call(second, CREATE, name="Shared")["createWorkflow"]["id"]

        async def scenario() -> list[dict]:
            ws = await subscribe(first.replace("http", "ws") + "/graphql", SUBSCRIPTION, {"w": w})
            try:
                received: list[dict] = []
                for attempt in range(40):  # until the subscription is surely in place
                    await asyncio.to_thread(call, second, RENAME, w=w, name=f"Shared {attempt}")
                    try:
                        received.append(await asyncio.wait_for(next_payload(ws), 0.5))
                        break
                    except TimeoutError:
                        continue
                await asyncio.to_thread(call, second, ADD, w=w, kind="OUTPUT", x=0, y=0, id="out")
                while received[-1]["data"]["workflowEvents"]["type"] != "NodeAdded":
                    received.append(await asyncio.wait_for(next_payload(ws), 10))
                return [r["data"]["workflowEvents"] for r in received]
            finally:
                await ws.close()

        events = asyncio.run(scenario())
        assert events[0]["type"] == "WorkflowRenamed"
        assert events[-1]["type"] == "NodeAdded" and events[-1]["data"]["node_id"] == "out"
        versions = [e["version"] for e in events]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
