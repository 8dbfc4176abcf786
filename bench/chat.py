"""Chat benchmark: what answering through GraphQL and a subscription adds to an LLM call,
in server CPU per turn, on the embedded default and on PostgreSQL, and with 1 and 2 API
processes on one PostgreSQL database.

    python -m bench.chat [--turns 40] [--words 60] [--pieces 9] [--gap-ms 10]
                         [--concurrency 8 32] [--seconds 10]
                         [--backends embedded postgres] [--database-url postgresql://…]
                         [--processes 1 2] [--scale-chats 32] [--pool-size 5]
                         [--baseline CHECKOUT]

Prints JSON. `genai-stack serve` processes answer with a published User Query → LLM Engine
(openai) → Output workflow whose model is the test fake OpenAI server on loopback (through
the real `openai` SDK), streaming like a real model: the `--words`-word answer in
`--pieces` deltas, `--gap-ms` apart (the role chunk at once, the end right after the last
delta). Each turn is `sendMessage` over HTTP, then `chatEvents` over a graphql-transport-ws
socket until the stored answer arrives. The baseline is the same fake, with the same
pacing, called with the `openai` SDK directly, in the same run.

For each backend (`embedded`: SQLite in a temporary directory; `postgres`: a database made
for the run on the server of $GENAI_BENCH_PG (default: postgres@127.0.0.1:5432) and dropped
after, or `--database-url`'s):

- `sequential`: `--turns` turns, each a direct call then a turn through the stack.
  `ttft_ms` is the time to the first token, `turn_ms` to the whole answer (through the
  stack: to the stored answer's ChatMessageAdded). `overhead_ms` is, per turn, the stack's
  time minus the direct call's (goal: p50 under 15 ms).
- `concurrent`: N chats at once for `--seconds`, each sending its next message when the
  previous answer arrived: `turns_per_second`, and the same for N direct SDK callers.
- `server_cpu_ms_per_turn` (in both): the API process's CPU time (user + system, from
  /proc, its children included) over the phase, divided by the phase's turns; on
  PostgreSQL also `database_cpu_ms_per_turn`, the same for the database's server processes
  serving this database.
- `token_events_per_turn` (in both): the ChatToken events a chat received per turn. The
  server coalesces the deltas of its token window (15 ms at the baseline), so a loaded machine sends
  fewer, and spends less CPU per turn: compare CPU per turn at like token events per turn.
  `token_span_ms`: from a turn's first ChatToken to its last, as the chat received them
  (a model streaming slower, or a server sending later, makes it longer, and more windows).
- `memory_mb`: the API process's resident memory after start-up (`idle`) and its peak.

`postgres_to_embedded`: PostgreSQL's CPU per turn over the embedded one's, per phase (goal:
at most 1.25, i.e. PostgreSQL within 80 % of the embedded speed).

`--baseline CHECKOUT`: each backend is measured first with servers running that checkout's
code (a git worktree of main, say: its directory first on their PYTHONPATH, the same
virtualenv), then this one's; `baseline.backends` holds its figures and `to_baseline` this
checkout's server CPU per turn over the baseline's, per backend and phase (goal: 0.5).

`processes`: `--scale-chats` chats on the PostgreSQL database through a loopback
round-robin TCP balancer (`bench.balancer`, which keeps each client address on one process; every chat connects
from its own loopback address) in front of 1, then 2 API processes:
`turns_per_second`, CPU per turn (all API processes together, and the balancer's), and
`ratio`, 2 processes' turns/s over 1's. A machine with 2 cores, shared with the bench's
clients and PostgreSQL, caps it well under 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import openai
import psycopg
import websockets

from tests.fakes import FakeOpenAIServer
from tests.integration.servers import running

GOAL_OVERHEAD_P50_MS = 15.0
GOAL_POSTGRES_CPU_RATIO = 1.25  # PostgreSQL within 80 % of the embedded speed
GOAL_BASELINE_CPU_RATIO = 0.5  # half the CPU per turn of the baseline
PROTOCOL = "graphql-transport-ws"
PG_ADMIN = os.environ.get("GENAI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

CREATE = "mutation($n: String!) { createWorkflow(name: $n) { id } }"
ADD = """mutation($w: UUID!, $k: NodeKind!, $id: String!, $c: JSON) {
  addNode(workflowId: $w, kind: $k, nodeId: $id, position: {x: 0, y: 0}, config: $c) { id } }"""
CONNECT = "mutation($w: UUID!, $s: String!, $t: String!) { connectNodes(workflowId: $w, source: $s, target: $t) { id } }"
PUBLISH = "mutation($w: UUID!) { publishWorkflow(workflowId: $w) { number } }"
START = "mutation($w: UUID!) { startChat(workflowId: $w) { id } }"
SEND = "mutation($s: UUID!, $c: String!) { sendMessage(sessionId: $s, content: $c) { id } }"
EVENTS = """subscription($s: UUID!) { chatEvents(sessionId: $s) { __typename
  ... on ChatMessageAdded { message { role } } ... on ChatFailed { code error: message } } }"""


def progress(text: str) -> None:
    """What the bench is doing, on stderr (the JSON goes to stdout)."""
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


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


# ---------------------------------------------------------------- CPU time


def cpu_ms(pid: int, system_only: bool = False) -> float:
    """A process's CPU time so far (user + system, or system alone: the kernel's work for
    it, such as its threads' wake-ups and socket calls; its reaped children's too), from
    /proc/PID/stat; 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    ticks = stime + cstime if system_only else utime + stime + cutime + cstime
    return ticks * 1000 / CLOCK_TICKS


def context_switches(pid: int) -> float:
    """How many times the process's threads have left a core so far, waiting (for a lock, a
    socket, a wake-up) or pushed off: from /proc/PID/task/*/status; 0 when it is gone."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        with suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                    total += int(line.split()[1])
    return float(total)


def descendants(pid: int) -> list[int]:
    """The process and its live descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return found


@dataclass
class Processes:
    """Whose CPU a phase is charged: the API processes (with their children), the
    balancer, and PostgreSQL's server processes connected to `database`."""

    api: list[int]
    balancer: int | None = None
    database: Backends | None = None

    def sample(self) -> dict[str, dict[int, float]]:
        api = {p: cpu_ms(p) for root in self.api for p in descendants(root)}
        taken: dict[str, dict[int, float]] = {"server": api}
        # The same processes' system CPU and context switches: where threads hand work to
        # each other (a thread hop, a wake-up, a lock), the kernel's share grows.
        taken["server_system"] = {p: cpu_ms(p, system_only=True) for p in api}
        taken["server_switches"] = {p: context_switches(p) for p in api}
        if self.balancer is not None:
            taken["balancer"] = {self.balancer: cpu_ms(self.balancer)}
        if self.database is not None:
            taken["database"] = {p: cpu_ms(p) for p in self.database.pids()}
            taken["database_sessions"] = {0: self.database.sessions()}
        return taken

    def measure(self) -> Meter:
        return Meter(self, self.sample())


_PER_TURN = {
    "server_switches": "server_context_switches_per_turn",
    "database_sessions": "database_connections_opened_per_turn",
}


@dataclass
class Meter:
    processes: Processes
    before: dict[str, dict[int, float]]

    def per_turn(self, turns: int) -> dict[str, float]:
        """`<whose>_cpu_ms_per_turn` since the meter started; a process that came up during
        the phase counts whole, one that went away is lost (none do, in this bench)."""
        after = self.processes.sample()
        return {
            _PER_TURN.get(whose, f"{whose}_cpu_ms_per_turn"): round(
                sum(ms - self.before[whose].get(p, 0.0) for p, ms in now.items()) / max(turns, 1),
                2,
            )
            for whose, now in after.items()
        }


class Backends:
    """PostgreSQL's server processes serving one database, found through one admin
    connection kept for the run (the server's connection slots are shared and may be
    scarce when a phase starts)."""

    def __init__(self, conn: psycopg.Connection[Any], database: str) -> None:
        self.conn, self.database = conn, database

    def pids(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.database,),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def sessions(self) -> float:
        """How many connections to the database have been opened so far (PostgreSQL's
        statistics, as of its last report: they lag by up to half a second)."""
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (self.database,)
        ).fetchone()
        return float(row[0]) if row else 0.0


@contextmanager
def postgres_database(given: str | None) -> Iterator[tuple[str, Backends]]:
    """`given`, or a new empty database at PG_ADMIN's server, dropped afterwards; with the
    watch on its server processes."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if given:
            yield given, Backends(conn, urlsplit(given).path.lstrip("/"))
            return
        name = f"genai_bench_{uuid.uuid4().hex[:12]}"
        conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", Backends(conn, name)
        finally:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- processes


@contextmanager
def sampled(pids: list[int], label: str) -> Iterator[None]:
    """Only with `BENCH_CHAT_PROFILE=<dir>`: py-spy (`BENCH_PY_SPY`, default `py-spy` on
    the PATH) samples each API process over the phase into `<dir>/<label>-<pid>.txt`
    (collapsed stacks; `python -m bench.chat_profile` summarises them). It reads the
    process from outside without pausing it (`--nonblocking`), so the process's own CPU
    figure stays close to an unprofiled run's; the machine's throughput does not."""
    folder = os.environ.get("BENCH_CHAT_PROFILE")
    if not folder:
        yield
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    spy = os.environ.get("BENCH_PY_SPY", "py-spy")
    samplers = [
        subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--rate", "200", "--nonblocking"]
            + ["--format", "raw", "--output", f"{folder}/{label}-{pid}.txt"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]
    try:
        yield
    finally:
        for sampler in samplers:
            sampler.send_signal(signal.SIGINT)  # py-spy writes its file and exits
            sampler.wait(60)


def server_env(data_dir: Path, database_url: str | None, pool_size: int = 5) -> dict[str, str]:
    """The server's environment: a temporary data directory, no key of this shell's, and
    no embedding model loading in the background (the chat does not use it, and its
    loading would be charged to the phases' CPU), room for every chat's socket (they all
    come from one local user), and GENAI_DB_POOL_SIZE `pool_size` (each pool at most twice
    that many connections): with the default 10, two processes under 32 chats held ~60 of
    the PostgreSQL server's 100 connection slots, which the machine's other users then ran
    out of."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "OPENAI_API_KEY", "GEMINI_API_KEY", "SERPAPI_API_KEY")
    }
    env.update(
        {
            "GENAI_DATA_DIR": str(data_dir),
            "GENAI_LOG_LEVEL": "WARNING",
            "GENAI_PRELOAD_EMBEDDER": "false",
            "GENAI_MAX_CONNECTIONS_PER_USER": "1000",
            "GENAI_DB_POOL_SIZE": str(pool_size),
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextmanager
def balancer(bases: list[str]) -> Iterator[tuple[str, int]]:
    """`bench.balancer` in front of `bases`; yields its base URL and its process id."""
    targets = [urlsplit(b).netloc for b in bases]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.balancer", *targets],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        found = re.search(r"listening on (\S+)", line)
        if not found:
            raise RuntimeError(f"the balancer did not start: {line!r}")
        yield f"http://{found.group(1)}", process.pid
    finally:
        process.terminate()
        process.wait(10)


# ---------------------------------------------------------------- clients


class Api:
    """GraphQL over HTTP from `address` (a loopback address of its own, so that the
    balancer can keep a chat's connections on one process)."""

    def __init__(self, base: str, address: str | None = None) -> None:
        self.base, self.address = base, address
        # An idle connection is dropped before uvicorn's 5 s keep-alive ends it.
        self.http = httpx.AsyncClient(
            base_url=base,
            timeout=60,
            limits=httpx.Limits(keepalive_expiry=3),
            transport=httpx.AsyncHTTPTransport(local_address=address) if address else None,
        )

    async def call(self, query: str, **variables: Any) -> dict[str, Any]:
        payload = {"query": query, "variables": variables}
        try:
            response = await self.http.post("/graphql", json=payload)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            # The server ended an idle keep-alive connection as the request went out (on a
            # loaded machine the client's idle clock lags the server's): it never read the
            # request, so sending it again on a new connection is safe.
            response = await self.http.post("/graphql", json=payload)
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
    """One session: its own HTTP connection for `sendMessage` and its chatEvents socket."""

    def __init__(self, api: Api, session_id: str, ws: Any) -> None:
        self.api, self.session_id, self.ws = api, session_id, ws
        self.tokens = 0  # ChatToken events received so far
        self.spans: list[float] = []  # per turn: seconds from its first ChatToken to its last

    @classmethod
    async def subscribe(cls, api: Api, session_id: str) -> Chat:
        ws = await websockets.connect(
            api.base.replace("http", "ws") + "/graphql",
            subprotocols=[PROTOCOL],
            **({"local_addr": (api.address, 0)} if api.address else {}),
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"query": EVENTS, "variables": {"s": session_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        listening = json.loads(await asyncio.wait_for(ws.recv(), 60))  # the server is in place
        assert listening["payload"]["data"]["chatEvents"]["__typename"] == "ChatListening"
        return cls(api, session_id, ws)

    async def turn(self, content: str) -> tuple[float, float]:
        """Sends a message; returns (seconds to the first token, to the stored answer)."""
        started = time.perf_counter()
        await self.api.call(SEND, s=self.session_id, c=content)
        first = last = None
        seen: list[str] = []
        while True:
            try:
                message = json.loads(await asyncio.wait_for(self.ws.recv(), 60))
            except TimeoutError:
                raise RuntimeError(
                    f"no event for 60 s in chat {self.session_id}; this turn saw {seen}"
                ) from None
            seen.append(
                message.get("payload", {})
                .get("data", {})
                .get("chatEvents", {})
                .get("__typename", message["type"])
            )
            if message["type"] != "next":
                raise RuntimeError(message)
            event = message["payload"]["data"]["chatEvents"]
            kind = event["__typename"]
            if kind == "ChatToken":
                self.tokens += 1
                last = time.perf_counter() - started
                if first is None:
                    first = last
            elif kind == "ChatFailed":
                raise RuntimeError(event)
            elif kind == "ChatMessageAdded" and event["message"]["role"] == "ASSISTANT":
                total = time.perf_counter() - started
                if first is not None and last is not None:
                    self.spans.append(last - first)
                return (first if first is not None else total), total

    async def close(self) -> None:
        await self.ws.close()
        await self.api.http.aclose()


async def open_chats(base: str, workflow_id: str, n: int, spread: bool = False) -> list[Chat]:
    """`n` chats, each warmed up by one turn. `spread`: each chat connects from its own
    loopback address (127.0.0.2, .3, …), which the balancer keeps on one process."""
    chats = []
    for i in range(n):
        api = Api(base, f"127.0.{(i + 2) // 256}.{(i + 2) % 256}" if spread else None)
        session = (await api.call(START, w=workflow_id))["startChat"]["id"]
        chats.append(await Chat.subscribe(api, session))
    await asyncio.gather(*(c.turn("warm up") for c in chats))
    return chats


class Direct:
    """The baseline: the fake called with the openai SDK, one client reused.

    Concurrent callers have a client each, as each chat has its own connection: 32 callers
    sharing one client's pool twice stopped reading responses the fake had sent whole (the
    run waited on the SDK's 600 s timeout, 2 December). A call that stalls fails after
    `timeout` seconds instead."""

    def __init__(self, fake: FakeOpenAIServer, timeout: float = 60.0) -> None:
        self.client = openai.AsyncOpenAI(
            api_key="bench", base_url=fake.base_url, max_retries=0, timeout=timeout
        )

    async def close(self) -> None:
        await self.client.close()

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


# ---------------------------------------------------------------- phases


async def sequential(chat: Chat, direct: Direct, turns: int) -> dict[str, Any]:
    stack_ttft: list[float] = []
    stack_turn: list[float] = []
    direct_ttft: list[float] = []
    direct_turn: list[float] = []
    overhead: list[float] = []
    ttft_overhead: list[float] = []
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


async def chats_for_seconds(
    base: str,
    workflow: str,
    n: int,
    seconds: float,
    processes: Processes,
    label: str,
    spread: bool = False,
) -> dict[str, Any]:
    """`n` chats through `base` for `seconds`, with the CPU the processes spent on them."""
    progress(f"{label}: {n} chats for {seconds:g} s")
    chats = await open_chats(base, workflow, n, spread)
    meter = processes.measure()
    tokens = sum(c.tokens for c in chats)
    spans = [len(c.spans) for c in chats]
    with sampled(processes.api, label):
        through = await for_seconds([c.turn for c in chats], seconds)
    through.update(meter.per_turn(through["turns"]))
    through["token_events_per_turn"] = round(
        (sum(c.tokens for c in chats) - tokens) / max(through["turns"], 1), 2
    )
    through["token_span_ms"] = summary(
        [1000 * s for c, n in zip(chats, spans, strict=True) for s in c.spans[n:]] or [0.0]
    )
    for c in chats:
        await c.close()
    return through


async def one_backend(
    name: str,
    env: dict[str, str],
    tmp: Path,
    fake: FakeOpenAIServer,
    args: argparse.Namespace,
    database: Backends | None,
) -> dict[str, Any]:
    """Every phase on one backend; on PostgreSQL, the processes' phase too."""
    with running(env, tmp) as (base, server):
        processes = Processes([server.pid], database=database)
        idle = rss_mb(server.pid)
        api = Api(base)
        workflow = await api.workflow(fake)
        await api.http.aclose()
        direct = Direct(fake)
        (chat,) = await open_chats(base, workflow, 1)
        for _ in range(5):  # warm both paths
            await direct.turn("warm up")
            await chat.turn("warm up")
        progress(f"{name}-sequential: {args.turns} turns")
        meter = processes.measure()
        tokens, spans = chat.tokens, len(chat.spans)
        with sampled(processes.api, f"{name}-sequential"):
            result: dict[str, Any] = {"sequential": await sequential(chat, direct, args.turns)}
        result["sequential"].update(meter.per_turn(args.turns))
        result["sequential"]["token_events_per_turn"] = round(
            (chat.tokens - tokens) / args.turns, 2
        )
        result["sequential"]["token_span_ms"] = summary(
            [1000 * s for s in chat.spans[spans:]] or [0.0]
        )
        await chat.close()
        await direct.close()
        result["concurrent"] = {}
        for n in args.concurrency:
            through = await chats_for_seconds(
                base, workflow, n, args.seconds, processes, f"{name}-{n}"
            )
            callers = [Direct(fake) for _ in range(n)]
            try:
                baseline = await for_seconds([c.turn for c in callers], min(args.seconds, 5))
            finally:
                for caller in callers:
                    await caller.close()
            result["concurrent"][str(n)] = {"stack": through, "direct": baseline}
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
        if database is not None and args.processes:
            result["processes"] = await scaled(base, server.pid, env, tmp, workflow, args, database)
        return result


async def scaled(
    base: str,
    pid: int,
    env: dict[str, str],
    tmp: Path,
    workflow: str,
    args: argparse.Namespace,
    database: Backends,
) -> dict[str, Any]:
    """`--scale-chats` chats behind the balancer, in front of 1 then 2 (…) API processes on
    one database; the first is the backend's own server, the others start here."""
    result: dict[str, Any] = {"chats": args.scale_chats, "cores": os.cpu_count()}
    bases, pids = [base], [pid]
    with ExitStack() as more:
        for count in sorted(set(args.processes)):
            while len(bases) < count:
                other, process = more.enter_context(running(env, tmp))
                bases.append(other)
                pids.append(process.pid)
            with balancer(bases[:count]) as (front, balancer_pid):
                processes = Processes(pids[:count], balancer=balancer_pid, database=database)
                result[str(count)] = await chats_for_seconds(
                    front,
                    workflow,
                    args.scale_chats,
                    args.seconds,
                    processes,
                    f"processes-{count}",
                    spread=True,
                )
    counts = sorted(set(args.processes))
    if len(counts) > 1:
        most, one = result[str(counts[-1])], result[str(counts[0])]
        result["ratio"] = round(most["turns_per_second"] / one["turns_per_second"], 2)
    return result


def postgres_to_embedded(embedded: dict[str, Any], postgres: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL's server CPU per turn over the embedded one's, phase by phase."""
    key = "server_cpu_ms_per_turn"
    ratios = {"sequential": postgres["sequential"][key] / embedded["sequential"][key]}
    for n, phase in postgres["concurrent"].items():
        if n in embedded["concurrent"]:
            ratios[n] = phase["stack"][key] / embedded["concurrent"][n]["stack"][key]
    rounded = {phase: round(r, 2) for phase, r in ratios.items()}
    return {
        "cpu_ms_per_turn": rounded,
        "goal": {
            "max": GOAL_POSTGRES_CPU_RATIO,
            "met": max(ratios.values()) <= GOAL_POSTGRES_CPU_RATIO,
        },
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    reply = " ".join(f"token{i}" for i in range(args.words))
    result: dict[str, Any] = {
        "benchmark": "chat",
        "reply": {"words": args.words, "pieces": args.pieces, "gap_ms": args.gap_ms},
        "backends": {},
    }
    with FakeOpenAIServer(reply=reply) as fake:
        fake.pieces, fake.piece_gap = args.pieces, args.gap_ms / 1000
        # The fake's listen backlog (5) would refuse connections of 32 callers starting at
        # once, which would measure the fake, not either client.
        fake._httpd.socket.listen(256)
        for name in args.backends:
            if args.baseline:
                progress(f"{name}: the baseline, {args.baseline}")
                result.setdefault("baseline", {"checkout": str(args.baseline), "backends": {}})
                result["baseline"]["backends"][name] = await backend_run(
                    name, fake, args, args.baseline
                )
            result["backends"][name] = await backend_run(name, fake, args, None)
    backends = result["backends"]
    if args.baseline:
        result["to_baseline"] = to_baseline(backends, result["baseline"]["backends"])
    if "embedded" in backends and "postgres" in backends:
        result["postgres_to_embedded"] = postgres_to_embedded(
            backends["embedded"], backends["postgres"]
        )
    if "processes" in backends.get("postgres", {}):
        result["processes"] = backends["postgres"].pop("processes")
    return result


async def backend_run(
    name: str, fake: FakeOpenAIServer, args: argparse.Namespace, checkout: Path | None
) -> dict[str, Any]:
    """Every phase on backend `name`, with servers running this checkout's code, or
    `checkout`'s (its directory first on their PYTHONPATH; the same virtualenv)."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-chat-")))
        url, database = None, None
        if name == "postgres":
            url, database = stack.enter_context(postgres_database(args.database_url))
        env = server_env(tmp / "data", url, args.pool_size)
        if checkout is not None:
            env["PYTHONPATH"] = str(checkout.resolve())
        try:
            return await one_backend(name, env, tmp, fake, args, database)
        except BaseException:
            kept = Path(tempfile.mkdtemp(prefix="bench-chat-logs-"))
            for log in tmp.glob("*.log"):
                shutil.copy(log, kept)
            progress(f"{name} failed; the servers' logs are in {kept}")
            raise


def to_baseline(ours: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Per backend and phase, this checkout's server CPU per turn over the baseline's (the
    issue's goal: at most 0.5)."""
    key = "server_cpu_ms_per_turn"
    ratios: dict[str, Any] = {}
    for name, backend in ours.items():
        base = baseline[name]
        phases = {"sequential": backend["sequential"][key] / base["sequential"][key]}
        for n, phase in backend["concurrent"].items():
            phases[n] = phase["stack"][key] / base["concurrent"][n]["stack"][key]
        ratios[name] = {phase: round(r, 2) for phase, r in phases.items()}
    return {"cpu_ms_per_turn": ratios, "goal": {"max": GOAL_BASELINE_CPU_RATIO}}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chat",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--words", type=int, default=60, help="words in each answer")
    parser.add_argument("--pieces", type=int, default=9, help="streamed deltas per answer")
    parser.add_argument("--gap-ms", type=float, default=10.0, help="time before each delta")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--backends", nargs="+", choices=["embedded", "postgres"], default=["embedded", "postgres"]
    )
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL database to use (default: a new one)"
    )
    parser.add_argument(
        "--processes", type=int, nargs="*", default=[1, 2], help="API processes behind the balancer"
    )
    parser.add_argument("--pool-size", type=int, default=5, help="the servers' GENAI_DB_POOL_SIZE")
    parser.add_argument("--scale-chats", type=int, default=32, help="chats of the processes phase")
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="a checkout (e.g. a git worktree of main) measured first in the same run",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(asyncio.run(run(parse_args(argv))), indent=2))


if __name__ == "__main__":
    main()
