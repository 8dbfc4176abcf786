"""Expected outcomes are logged as one line, without a traceback; unexpected ones in full."""

from __future__ import annotations

import logging

import pytest
from structlog.testing import capture_logs

from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import CREATE, PUBLISH, RENAME


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_refused_request_is_one_line_without_a_traceback(
    gql: GQL, caplog: pytest.LogCaptureFixture
) -> None:
    w = gql(CREATE, name="Logged")["createWorkflow"]["id"]
    with capture_logs() as logs, caplog.at_level(logging.DEBUG):
        for query, variables, code in (
            (PUBLISH, {"w": w}, "INVALID_WORKFLOW"),
            (RENAME, {"w": w, "name": "B", "ev": 9}, "CONFLICT"),
        ):
            with pytest.raises(GraphQLError) as refused:
                gql(query, **variables)
            assert refused.value.code == code
    refusals = [e for e in logs if e["event"] == "request refused"]
    assert [e["code"] for e in refusals] == ["INVALID_WORKFLOW", "CONFLICT"]
    assert all("exc_info" not in e and e["log_level"] == "info" for e in refusals)
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
