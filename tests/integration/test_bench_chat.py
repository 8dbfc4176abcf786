"""The chat bench (bench/chat.py) in a quick run: every figure it promises is in its JSON.
Speeds are the bench's business, never asserted here; and the fake's pacing it relies on."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from bench import chat
from tests.fakes import FakeOpenAIServer

pytestmark = pytest.mark.timeout(480)


def test_the_fake_streams_the_reply_in_the_pieces_asked_for() -> None:
    reply = " ".join(f"w{i}" for i in range(10))
    with FakeOpenAIServer(reply=reply) as fake:
        fake.pieces, fake.piece_gap = 3, 0.001
        sdk = openai.OpenAI(api_key="k", base_url=fake.base_url, max_retries=0)
        stream = sdk.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        deltas = [c.choices[0].delta.content for c in stream if c.choices]

    content = [d for d in deltas if d]
    assert len(content) == 3
    assert "".join(content) == reply


def phase_shape(phase: dict[str, object], whose: set[str]) -> None:
    assert {"turns", "turns_per_second", "turn_ms", "token_events_per_turn"} <= phase.keys()
    assert {f"{w}_cpu_ms_per_turn" for w in whose} <= phase.keys()
    for w in whose:
        assert phase[f"{w}_cpu_ms_per_turn"] >= 0  # type: ignore[operator]


def test_a_quick_run_reports_every_figure_as_json() -> None:
    args = chat.parse_args(
        ["--turns", "2", "--words", "12", "--pieces", "3", "--gap-ms", "5"]
        + ["--concurrency", "2", "--seconds", "0.5", "--scale-chats", "2"]
        + ["--backends", "embedded", "postgres", "--processes", "1", "2", "--pool-size", "2"]
    )

    result = json.loads(json.dumps(asyncio.run(chat.run(args))))

    assert result["reply"] == {"words": 12, "pieces": 3, "gap_ms": 5.0}
    assert set(result["backends"]) == {"embedded", "postgres"}
    for name, backend in result["backends"].items():
        whose = {"server", "database"} if name == "postgres" else {"server"}
        sequential = backend["sequential"]
        assert sequential["turns"] == 2
        assert {"ttft_ms", "turn_ms"} <= sequential["stack"].keys() & sequential["direct"].keys()
        assert {"p50", "p95", "mean"} == sequential["overhead_ms"].keys()
        assert {f"{w}_cpu_ms_per_turn" for w in whose} <= sequential.keys()
        assert sequential["token_events_per_turn"] >= 1  # the answers stream
        phase_shape(backend["concurrent"]["2"]["stack"], whose)
        assert backend["concurrent"]["2"]["direct"]["turns"] > 0
        assert {"idle", "after", "peak"} == backend["memory_mb"].keys()
    ratios = result["postgres_to_embedded"]
    assert set(ratios["cpu_ms_per_turn"]) == {"sequential", "2"}
    assert ratios["goal"]["max"] == 1.25 and isinstance(ratios["goal"]["met"], bool)
    processes = result["processes"]
    assert processes["chats"] == 2
    for count in ("1", "2"):
        phase_shape(processes[count], {"server", "balancer", "database"})
    assert processes["ratio"] > 0
