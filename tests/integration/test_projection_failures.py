"""An event a projection cannot apply is recorded as failed for its aggregate, and the
projection goes on with every other one: lists keep following the log, /readyz says it is
degraded and by how much, /metrics counts it, and a rebuild gets through it.

The event is written past the edge (by the service, as an older server or a bug might have
written it): PostgreSQL's text refuses NUL, so its row can never be written."""

from __future__ import annotations

import os
import subprocess

import pytest
from starlette.testclient import TestClient

from application.workflow.commands import CreateWorkflow, RenameWorkflow
from infrastructure.settings import Settings
from tests.integration.gql import GQL
from tests.integration.servers import GENAI_STACK
from tests.integration.workflow_ops import CREATE, LIST, wait_for

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def test_an_event_no_row_can_hold_is_gone_past_and_reported(
    client: TestClient, gql: GQL, settings: Settings
) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    worker = services.worker("workflows")
    poisoned = services.workflows.create(CreateWorkflow(actor="tester", name="bad\x00name"))
    gql(CREATE, name="Made after")
    last = services.event_log.max_notification_id()
    wait_for(lambda: worker.position >= last, timeout=60)  # it moved past the poisoned event

    assert [w["name"] for w in gql(LIST)["workflows"]] == ["Made after"]
    assert client.get("/readyz").json() == {
        "ready": True,
        "degraded": {"projectionFailures": {"workflows": {"aggregates": 1, "events": 1}}},
    }
    assert 'genai_projection_failed_events_total{projection="workflows"} 1.0' in (
        client.get("/metrics").text
    )

    # the aggregate's next event makes a row it can hold: it is listed again
    services.workflows.rename(
        RenameWorkflow(actor="tester", workflow_id=poisoned.id, name="Mended")
    )
    gql(CREATE, name="Made last")
    assert sorted(w["name"] for w in gql(LIST)["workflows"]) == [
        "Made after",
        "Made last",
        "Mended",
    ]

    env = {**os.environ, "GENAI_DATA_DIR": str(settings.genai_data_dir)}
    env["DATABASE_URL"] = settings.database_url or ""
    done = subprocess.run(
        [GENAI_STACK, "projections", "rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"workflows: replayed {last + 2} events" in done.stdout
    assert "workflows: 1 events of 1 aggregates could not be applied" in done.stdout
    assert sorted(w["name"] for w in gql(LIST)["workflows"]) == [
        "Made after",
        "Made last",
        "Mended",
    ]
