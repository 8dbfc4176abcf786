"""A fake SerpAPI (`GET /search.json` or `/search`) on loopback.

`GET /search?q=...&api_key=...&engine=google&num=N` answers
`{"search_metadata": {...}, "search_parameters": {...}, "organic_results": [{"position",
"title", "link", "snippet"}, ...]}`. The results are `results` (a list of dicts with title,
link and snippet, or a function of the query returning one), or by default N (10 unless
`num` says otherwise) made-up results that mention the query: title `Result {i} for {q}`,
link `https://example.test/{i}`, snippet `About {q}: finding {i}.`.

When the server is given `api_key`, any other key gets SerpAPI's 401
`{"error": "Invalid API key. ... (got <key>)"}`, quoting the key so tests can prove adapters
strip it; an empty query gets a 400 `{"error": "Missing query `q` parameter."}`. Failures
are scripted with `fail_next(Failure...)` (see `tests.fakes._server`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes._server import Exchange, FakeServer

Results = list[dict[str, str]] | Callable[[str], list[dict[str, str]]]


class FakeSearchServer(FakeServer):
    def __init__(self, results: Results | None = None, api_key: str | None = None) -> None:
        super().__init__()
        self.results = results
        self.api_key = api_key

    def error_body(self, status: int, message: str) -> Any:
        return {"error": message}

    def check_key(self, exchange: Exchange) -> bool:
        offered = exchange.request.query.get("api_key", "")
        if self.api_key is None or offered == self.api_key:
            return True
        message = (
            "Invalid API key. Your API key should be here: "
            f"https://serpapi.com/manage-api-key (got {offered})"
        )
        exchange.send_json(401, self.error_body(401, message))
        return False

    def route(self, exchange: Exchange, cut: int | None) -> bool:
        request = exchange.request
        if request.method != "GET" or request.path not in ("/search", "/search.json"):
            return False
        query = request.query.get("q", "")
        if not query.strip():
            exchange.send_json(400, self.error_body(400, "Missing query `q` parameter."))
            return True
        num = int(request.query.get("num") or 10)
        found = self._results_for(query, num)
        organic = [{"position": i + 1, **result} for i, result in enumerate(found[:num])]
        payload: dict[str, Any] = {
            "search_metadata": {"status": "Success", "id": "fake-search"},
            "search_parameters": {k: v for k, v in request.query.items() if k != "api_key"},
        }
        if organic:
            payload["organic_results"] = organic
        else:
            # SerpAPI answers 200 with an error string when Google found nothing.
            payload["error"] = "Google hasn't returned any results for this query."
        exchange.send_json(200, payload)
        return True

    def _results_for(self, query: str, num: int) -> list[dict[str, str]]:
        if callable(self.results):
            return self.results(query)
        if self.results is not None:
            return self.results
        return [
            {
                "title": f"Result {i} for {query}",
                "link": f"https://example.test/{i}",
                "snippet": f"About {query}: finding {i}.",
            }
            for i in range(1, num + 1)
        ]
