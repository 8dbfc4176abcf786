from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.integration.gql import GQL


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def gql(client: TestClient) -> GQL:
    return GQL(client)
