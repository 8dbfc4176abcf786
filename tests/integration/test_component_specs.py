"""The component specs the SPA draws its forms from, pinned: the settings' types and bounds
come from the domain and the form hints from the interface, and what the SPA receives stays
exactly this (key order included, since the form shows the settings in that order)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from interfaces.app import create_app
from tests.conftest import make_settings

SERVED = Path(__file__).with_name("served_component_specs.json")
QUERY = "{ components { kind title description configSchema inputs outputs } }"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path / "data", None))) as c:
        yield c


def test_the_served_component_specs_are_exactly_the_pinned_ones(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": QUERY})
    served = response.json()["data"]["components"]
    pinned = json.loads(SERVED.read_text(encoding="utf-8"))
    # dumps keeps key order and tells 1000 from 1000.0 and True from 1: a plain == would not
    assert json.dumps(served, ensure_ascii=False) == json.dumps(pinned, ensure_ascii=False)
