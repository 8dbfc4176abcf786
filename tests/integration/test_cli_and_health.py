"""The command line and the health endpoints."""

from __future__ import annotations

import os
import subprocess

from starlette.testclient import TestClient

from application.workflow import commands as c
from domain.graph import Position
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from tests.integration.servers import GENAI_STACK


def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"ready": True}
    client.post("/graphql", json={"query": "{ workflows { id } }"})
    metrics = client.get("/metrics").text
    assert 'genai_http_requests_total{method="POST",path="/graphql",status="200"}' in metrics


def test_a_multipart_post_without_the_preflight_header_is_refused(client: TestClient) -> None:
    response = client.post(
        "/graphql", files={"operations": (None, '{"query": "{ workflows { id } }"}')}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_projections_rebuild_replays_the_log(settings: Settings) -> None:
    services = bootstrap(settings)
    try:
        wf = services.workflows.create(c.CreateWorkflow(name="Rebuilt", actor="tester"))
        services.workflows.add_node(
            c.AddNode(
                workflow_id=wf.id,
                node_id="q",
                kind="USER_QUERY",
                position=Position(0, 0),
                actor="tester",
            )
        )
        services.workflows.rename(
            c.RenameWorkflow(workflow_id=wf.id, name="Rebuilt twice", actor="tester")
        )
    finally:
        services.stop()
    env = {
        **os.environ,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    done = subprocess.run(
        [GENAI_STACK, "projections", "rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "workflows: replayed 3 events" in done.stdout
    # on PostgreSQL the chats read model is rebuilt by the database, and the output says so
    rebuilt = "rebuilt by the database from" if settings.database_url else "replayed"
    assert f"chats: {rebuilt} 3 events" in done.stdout
    services = bootstrap(settings)
    try:
        [row] = services.workflows.list_all()
        assert (row.name, row.version, [n.id for n in row.nodes]) == ("Rebuilt twice", 3, ["q"])
    finally:
        services.stop()


def test_schema_prints_the_sdl() -> None:
    sdl = subprocess.run([GENAI_STACK, "schema"], capture_output=True, text=True, timeout=60).stdout
    assert "type Mutation" in sdl and "workflowEvents(workflowId: UUID!): WorkflowEvent!" in sdl
