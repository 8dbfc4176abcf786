"""Chat benchmark: what answering through GraphQL and a subscription adds to an LLM call.

    python -m bench.chat [--turns 40] [--words 60] [--concurrency 8 32] [--seconds 10]
                         [--database-url postgresql://…]

Prints JSON. A `genai-stack serve` process (the embedded default unless --database-url)
answers with a published User Query → LLM Engine (openai) → Output workflow whose model is a
zero-delay fake OpenAI server on loopback (the test fake, through the real `openai` SDK).
Each turn is `sendMessage` over HTTP, then `chatEvents` over a graphql-transport-ws socket
until the stored answer arrives. The baseline is the same fake called with the `openai` SDK
directly, in the same run, turn for turn:

- `sequential`: `--turns` turns, each a direct call then a turn through the stack.
  `ttft_ms` is the time to the first token, `turn_ms` to the whole answer (through the
  stack: to the stored answer's ChatMessageAdded). `overhead_ms` is, per turn, the stack's
  time minus the direct call's (goal: p50 under 15 ms).
- `concurrent`: N chats at once for `--seconds`, each sending its next message when the
  previous answer arrived: `turns_per_second`, and the same for N direct SDK callers.
- `memory_mb`: the API process's resident memory after start-up (`idle`) and its peak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import websockets

from tests.fakes import FakeOpenAIServer
from tests.integration.servers import running

GOAL_OVERHEAD_P50_MS = 15.0
PROTOCOL = "graphql-transport-ws"

CREATE = "mutation($n: String!) { createWorkflow(name: $n) { id } }"
ADD = """mutation($w: UUID!, $k: NodeKind!, $id: String!, $c: JSON) {
  addNode(workflowId: $w, kind: $k, nodeId: $id, position: {x: 0, y: 0}, config: $c) { id } }"""
CONNECT = "mutation($w: UUID!, $s: String!, $t: String!) { connectNodes(workflowId: $w, source: $s, target: $t) { id } }"
PUBLISH = "mutation($w: UUID!) { publishWorkflow(workflowId: $w) { number } }"
START = "mutation($w: UUID!) { startChat(workflowId: $w) { id } }"
SEND = "mutation($s: UUID!, $c: String!) { sendMessage(sessionId: $s, content: $c) { id } }"
EVENTS = """subscription($s: UUID!) { chatEvents(sessionId: $s) { __typename
  ... on ChatMessageAdded { message { role } } ... on ChatFailed { code error: message } } }"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 0.95), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The server's environment: a temporary data directory, no key of this shell's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "OPENAI_API_KEY", "GEMINI_API_KEY", "SERPAPI_API_KEY")
    }
    env.update({"GENAI_DATA_DIR": str(data_dir), "GENAI_LOG_LEVEL": "WARNING"})
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.AsyncClient(base_url=base, timeout=60)

    async def call(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]

    async def workflow(self, fake: FakeOpenAIServer) -> str:
        w = (await self.call(CREATE, n="bench"))["createWorkflow"]["id"]
        llm = {"provider": "openai", "model": "gpt-4o-mini", "baseUrl": fake.base_url}
        for kind, node_id, config in (
            ("USER_QUERY", "q", None),
            ("LLM_ENGINE", "llm", llm),
            ("OUTPUT", "out", None),
        ):
            await self.call(ADD, w=w, k=kind, id=node_id, c=config)
        await self.call(CONNECT, w=w, s="q", t="llm")
        await self.call(CONNECT, w=w, s="llm", t="out")
        await self.call(PUBLISH, w=w)
        return w


class Chat:
    """One session with its chatEvents socket."""

    def __init__(self, api: Api, session_id: str, ws: Any) -> None:
        self.api, self.session_id, self.ws = api, session_id, ws

    @classmethod
    async def open(cls, api: Api, workflow_id: str) -> Chat:
        session = (await api.call(START, w=workflow_id))["startChat"]["id"]
        ws = await websockets.connect(
            api.base.replace("http", "ws") + "/graphql", subprotocols=[PROTOCOL]
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"query": EVENTS, "variables": {"s": session}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        listening = json.loads(await asyncio.wait_for(ws.recv(), 60))  # the server is in place
        assert listening["payload"]["data"]["chatEvents"]["__typename"] == "ChatListening"
        chat = cls(api, session, ws)
        await chat.turn("warm up")
        return chat

    async def turn(self, content: str) -> tuple[float, float]:
        """Sends a message; returns (seconds to the first token, to the stored answer)."""
        started = time.perf_counter()
        await self.api.call(SEND, s=self.session_id, c=content)
        first = None
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
            if message["type"] != "next":
                raise RuntimeError(message)
            event = message["payload"]["data"]["chatEvents"]
            kind = event["__typename"]
            if kind == "ChatToken" and first is None:
                first = time.perf_counter() - started
            elif kind == "ChatFailed":
                raise RuntimeError(event)
            elif kind == "ChatMessageAdded" and event["message"]["role"] == "ASSISTANT":
                total = time.perf_counter() - started
                return (first if first is not None else total), total

    async def close(self) -> None:
        await self.ws.close()


class Direct:
    """The baseline: the fake called with the openai SDK, one client reused."""

    def __init__(self, fake: FakeOpenAIServer) -> None:
        self.client = openai.AsyncOpenAI(api_key="bench", base_url=fake.base_url, max_retries=0)

    async def turn(self, content: str) -> tuple[float, float]:
        started = time.perf_counter()
        first = None
        stream = await self.client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": content}],
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter() - started
        total = time.perf_counter() - started
        return (first if first is not None else total), total


async def sequential(chat: Chat, direct: Direct, turns: int) -> dict[str, Any]:
    stack_ttft, stack_turn, direct_ttft, direct_turn, overhead, ttft_overhead = (
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for i in range(turns):
        d_first, d_total = await direct.turn(f"question {i}")
        s_first, s_total = await chat.turn(f"question {i}")
        direct_ttft.append(d_first * 1000)
        direct_turn.append(d_total * 1000)
        stack_ttft.append(s_first * 1000)
        stack_turn.append(s_total * 1000)
        overhead.append((s_total - d_total) * 1000)
        ttft_overhead.append((s_first - d_first) * 1000)
    return {
        "turns": turns,
        "direct": {"ttft_ms": summary(direct_ttft), "turn_ms": summary(direct_turn)},
        "stack": {"ttft_ms": summary(stack_ttft), "turn_ms": summary(stack_turn)},
        "overhead_ms": summary(overhead),
        "ttft_overhead_ms": summary(ttft_overhead),
    }


async def for_seconds(
    workers: list[Callable[[str], Awaitable[tuple[float, float]]]], seconds: float
) -> dict[str, Any]:
    done: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop(turn: Callable[[str], Awaitable[tuple[float, float]]], n: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            _, total = await turn(f"chat {n} question {i}")
            done.append(total * 1000)
            i += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(w, n) for n, w in enumerate(workers)))
    elapsed = time.perf_counter() - started
    return {
        "turns": len(done),
        "turns_per_second": round(len(done) / elapsed, 1),
        "turn_ms": summary(done),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    reply = " ".join(f"token{i}" for i in range(args.words))
    with (
        tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp,
        FakeOpenAIServer(reply=reply) as fake,
    ):
        # The fake's listen backlog (5) would refuse connections of 32 callers starting at
        # once, which would measure the fake, not either client.
        fake._httpd.socket.listen(256)
        with running(server_env(Path(tmp) / "data", args.database_url), Path(tmp)) as (
            base,
            server,
        ):
            idle = rss_mb(server.pid)
            api = Api(base)
            workflow = await api.workflow(fake)
            direct = Direct(fake)
            chat = await Chat.open(api, workflow)
            for _ in range(5):  # warm both paths
                await direct.turn("warm up")
                await chat.turn("warm up")
            result: dict[str, Any] = {
                "benchmark": "chat",
                "backend": "postgresql" if args.database_url else "sqlite (embedded)",
                "reply_words": args.words,
                "sequential": await sequential(chat, direct, args.turns),
                "concurrent": {},
            }
            await chat.close()
            for n in args.concurrency:
                chats = [await Chat.open(api, workflow) for _ in range(n)]
                through = await for_seconds([c.turn for c in chats], args.seconds)
                for c in chats:
                    await c.close()
                baseline = await for_seconds([direct.turn] * n, min(args.seconds, 5))
                result["concurrent"][str(n)] = {
                    "stack": through,
                    "direct": baseline,
                }
            result["memory_mb"] = {
                "idle": idle,
                "after": rss_mb(server.pid),
                "peak": rss_mb(server.pid, "VmHWM"),
            }
            p50 = result["sequential"]["overhead_ms"]["p50"]
            result["goal"] = {
                "overhead_p50_ms": GOAL_OVERHEAD_P50_MS,
                "met": p50 < GOAL_OVERHEAD_P50_MS,
            }
            await api.http.aclose()
            return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chat", description=__doc__)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--words", type=int, default=60, help="words in each answer")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
