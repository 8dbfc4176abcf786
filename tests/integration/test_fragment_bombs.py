"""A query whose fragments spread the previous one twice is tiny and expands to 2^n fields: it
is measured without being expanded, refused with BAD_USER_INPUT, and the server goes on
answering others meanwhile (once, 39 levels hung it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import make_settings
from tests.integration.gql import GQL
from tests.integration.servers import serve

HANG_GUARD = 60  # seconds: only so that a server that hangs fails the test instead of stalling it


def bomb(levels: int, base: str = "__typename") -> str:
    fragments = [f"fragment F0 on Query {{ {base} }}"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)
    ]
    return f"query Bomb {{ ...F{levels} }}\n" + "\n".join(fragments)


def test_a_fragment_bomb_is_refused_while_the_server_answers_others(tmp_path: Path) -> None:
    with (
        serve(make_settings(tmp_path / "data", None)) as base,
        httpx.Client(base_url=base, timeout=HANG_GUARD) as http,
    ):

        def attack(levels: int) -> httpx.Response:
            return http.post("/graphql", json={"query": bomb(levels, "workflows { id name }")})

        with ThreadPoolExecutor(4) as pool:
            attacks = [pool.submit(attack, levels) for levels in (20, 39, 39, 20, 39, 39)]
            health = [http.get("/healthz") for _ in range(5)]
            answers = [a.result() for a in attacks]
        assert [h.json() for h in health] == [{"status": "ok"}] * 5
        for answer in answers:
            assert answer.status_code == 200
            [error] = answer.json()["errors"]
            assert error["extensions"]["code"] == "BAD_USER_INPUT"
            assert error["message"].startswith("'Bomb' would select about ")
            assert "at most 2000 are allowed" in error["message"]


def test_fragments_spread_a_few_times_count_each_time_and_pass(gql: GQL) -> None:
    # 2^10 fields once spread: within the limit, and the answer is the one field, merged
    assert gql(bomb(10)) == {"__typename": "Query"}
    document = bomb(11, "__typename workflows { id }")  # 2^11 x 3 fields
    refused = gql.raw(document)["errors"][0]
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["message"] == (
        "'Bomb' would select 6144 fields once its fragments are spread; at most 2000 are allowed"
    )


def test_depth_and_aliases_reached_through_fragments_are_counted(gql: GQL) -> None:
    aliases = "fragment A on Query { " + " ".join(f"a{i}: __typename" for i in range(26)) + " }"
    refused = gql.raw("{ ...A ...B }\n" + aliases + "\n" + aliases.replace("A on", "B on"))
    assert refused["errors"][0]["message"] == "52 aliases found. Allowed: 50"
    deep = "fragment D on Node { id }\nquery { workflows { nodes { ...D } } }"
    assert gql(deep) == {"workflows": []}
