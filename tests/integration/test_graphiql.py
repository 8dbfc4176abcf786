"""GraphiQL at GET /graphql: the page built with the SPA, which loads nothing from a CDN."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from interfaces import app as app_module
from interfaces.app import SPA_DIR, create_app
from tests.conftest import make_settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


class _References(HTMLParser):
    """Every address a page makes the browser load: scripts, stylesheets, preloads, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        url = named.get("src") if tag == "script" else named.get("href") if tag == "link" else None
        if url:
            self.urls.append(url)


def _references(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    return parser.urls


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path / "data", None))) as c:
        yield c


@pytest.fixture
def built() -> None:
    # `make test` builds the web app first; only a bare `pytest` may find it missing.
    if not (SPA_DIR / "index.html").is_file():
        pytest.skip("frontend/dist is not built (`npm --prefix frontend run build`)")
    assert (SPA_DIR / "graphiql.html").is_file(), "frontend/dist predates graphiql.html: rebuild"


@pytest.mark.usefixtures("built")
def test_a_browser_gets_graphiql_built_with_the_web_app(client: TestClient) -> None:
    response = client.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<title>GenAI Stack — GraphiQL</title>" in page
    assert "unpkg" not in page and "jsdelivr" not in page
    urls = _references(page)
    assert any(url.endswith(".js") for url in urls) and any(url.endswith(".css") for url in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not on this server"
        assert client.get(url).status_code == 200, f"{url} is referenced but not served"


@pytest.mark.usefixtures("built")
def test_graphiql_leaves_the_api_and_the_web_app_as_they_were(client: TestClient) -> None:
    over_get = client.get("/graphql", params={"query": "{ __typename }"})
    assert over_get.json() == {"data": {"__typename": "Query"}}
    over_post = client.post("/graphql", json={"query": "{ __typename }"}, headers=BROWSER)
    assert over_post.json() == {"data": {"__typename": "Query"}}

    for route in ("/", "/stacks/4b1a6b5e-0000-4000-8000-000000000000"):
        spa = client.get(route, headers=BROWSER)
        assert spa.status_code == 200
        assert '<div id="root">' in spa.text and "GraphiQL" not in spa.text


def test_without_a_built_web_app_strawberrys_graphiql_remains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "SPA_DIR", tmp_path / "no-dist")
    with TestClient(create_app(make_settings(tmp_path / "data", None))) as client:
        response = client.get("/graphql", headers=BROWSER)

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert "GenAI Stack — GraphiQL" not in response.text
