"""No wait on first use: the local embedding model loads on a thread of its own at start, and
an upload that comes before it is loaded says "loading" (the SPA: "Loading the embedding
model…") before its embedding starts. On PostgreSQL, through documentEvents."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import pytest
from starlette.testclient import TestClient

from application.ports import EmbedderSpec
from infrastructure.settings import Settings
from interfaces.app import create_app
from interfaces.bootstrap import bootstrap
from tests import pdfs
from tests.fakes.embedding import hashed_embedding
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    add_knowledge_base,
    document_events,
    new_workflow,
    settings,
    upload,
)
from tests.integration.gql import GQL

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def backend() -> str:
    return "postgres"


class GatedEmbedder:
    """A model that is "loading" until the test lets it finish: `release.set()`."""

    model_id = "gated/bag-of-words"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.embedded = 0

    @property
    def loaded(self) -> bool:
        return self.release.is_set()

    def load(self) -> None:
        assert self.release.wait(120), "the test never let the model load"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.load()
        self.embedded += len(texts)
        return [hashed_embedding(text, 32) for text in texts]


class OneEmbedder:
    def __init__(self, embedder: GatedEmbedder) -> None:
        self.embedder = embedder

    def for_spec(self, spec: EmbedderSpec) -> GatedEmbedder:
        return self.embedder


@pytest.fixture
def gated() -> GatedEmbedder:
    return GatedEmbedder()


@pytest.fixture
def client(settings: Settings, gated: GatedEmbedder) -> Iterator[TestClient]:
    services = bootstrap(settings, embedders=OneEmbedder(gated))
    services.start()
    try:
        with TestClient(create_app(settings, services)) as c:
            yield c
    finally:
        gated.release.set()  # a failed test must not leave the ingestion waiting
        services.stop()


def test_an_upload_says_the_model_is_loading_before_embedding_starts(
    client: TestClient, gql: GQL, gated: GatedEmbedder
) -> None:
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid)

    with document_events(client, wid) as events:
        uploaded = upload(client, wid, pdfs.multi_page_pdf(3))
        before = events.until(lambda d: (d["progress"] or {}).get("stage") == "loading")
        loading = before[-1]
        assert loading["status"] == "PENDING"
        assert loading["progress"]["chunkTotal"] > 0 and loading["progress"]["chunksEmbedded"] == 0
        assert "embedding" not in {(d["progress"] or {}).get("stage") for d in before}
        assert gated.embedded == 0

        gated.release.set()
        after = events.until(lambda d: d["status"] != "PENDING")

    stages = [d["progress"]["stage"] for d in before + after if d["progress"]]
    assert stages.index("loading") > stages.index("extracting")
    assert stages[stages.index("loading") + 1 :] and all(
        s == "embedding" for s in stages[stages.index("loading") + 1 :]
    )
    assert after[-1]["status"] == "INDEXED" and after[-1]["id"] == uploaded["id"]
    assert gated.embedded == after[-1]["chunkCount"]


def test_a_loaded_model_goes_straight_to_embedding(
    client: TestClient, gql: GQL, gated: GatedEmbedder
) -> None:
    gated.release.set()
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid)

    with document_events(client, wid) as events:
        upload(client, wid, pdfs.multi_page_pdf(2))
        seen = events.until(lambda d: d["status"] != "PENDING")

    stages = {d["progress"]["stage"] for d in seen if d["progress"]}
    assert "loading" not in stages and "embedding" in stages


@pytest.mark.slow
def test_the_local_model_loads_at_start_without_an_upload(tmp_path: object) -> None:
    from infrastructure.embedders import local
    from tests.conftest import make_settings

    own = make_settings(tmp_path / "data", None, genai_preload_embedder=True)  # type: ignore[operator]
    with TestClient(create_app(own)) as c:
        assert c.get("/healthz").status_code == 200
        loading = c.app.state.services.model_loading  # type: ignore[attr-defined]
        assert loading is not None and loading.name == "load-embedding-model"
        loading.join(120)
        assert local.model_loaded()
