"""Where the chat's server CPU goes: a summary of the py-spy samples `bench.chat` takes with
`BENCH_CHAT_PROFILE=<dir>` (collapsed stacks, one `frame;frame;… count` line per stack).

    python -m bench.chat_profile DIR/embedded-8-*.txt [--top 25]

Prints JSON: the samples; `by_thread`, each sample charged to its thread (the event loop,
or where a thread's own code starts); `by_library`, each sample charged to the library (or our layer)
whose code was on the CPU, its innermost frame (the shares add up to 1); `by_entry`,
inclusive shares of the places of ours where the work starts (a sample counts for each of
them on its stack); and the `top` functions by inclusive and by own (innermost) share.
py-spy records threads that are running or runnable; samples whose innermost frame is a
blocking call (`WAITS`) are counted apart and left out, so the shares are shares of the
process's CPU as nearly as sampling from outside can tell.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<name>.*) \((?P<path>[^()]*?)(?::\d+)?\)$")

# innermost frame's path → what it is; the first match wins
LIBRARIES = [
    ("openai", "openai SDK"),
    ("eventsourcing", "eventsourcing (event store)"),
    ("anyio", "anyio (to_thread)"),
    ("httpx", "httpx/httpcore"),
    ("httpcore", "httpx/httpcore"),
    ("h11", "httpx/httpcore"),
    ("strawberry", "strawberry + graphql-core"),
    ("graphql", "strawberry + graphql-core"),
    ("websockets", "websockets"),
    ("uvicorn", "uvicorn + starlette + fastapi"),
    ("starlette", "uvicorn + starlette + fastapi"),
    ("fastapi", "uvicorn + starlette + fastapi"),
    ("sqlalchemy", "SQLAlchemy"),
    ("psycopg", "psycopg"),
    ("sqlite3", "sqlite3"),
    ("aiosqlite", "sqlite3"),
    ("pydantic", "pydantic"),
    ("json", "json"),
    ("asyncio", "asyncio"),
    ("uvloop", "asyncio"),
    ("logging", "logging"),
    ("threading", "threads (locks, wake-ups)"),
    ("concurrent", "threads (locks, wake-ups)"),
    ("queue", "threads (locks, wake-ups)"),
    ("domain/", "ours: domain"),
    ("application/", "ours: application"),
    ("infrastructure/", "ours: infrastructure"),
    ("interfaces/", "ours: interfaces"),
]

# innermost frames that are a blocking call (the loop's select, a socket wait, a worker
# waiting for work): py-spy counts a thread there when it is runnable but not yet on a
# core, which a busy machine makes common; they are counted apart and left out of shares
WAITS = {
    ("run", "asyncio/runners.py"),
    ("wait", "psycopg/connection.py"),
    ("_worker", "concurrent/futures/thread.py"),
    ("wait", "threading.py"),
    ("_run", "infrastructure/live_feed.py"),
}

# our entry points, counted inclusively: the function names or paths of the places where a
# turn's work happens (a sample counts for each one on its stack)
ENTRIES = [
    ("sendMessage mutation", "send_message ("),
    ("answering task", "application/chat/answering.py"),
    ("chat engine", "application/chat/engine.py"),
    ("LLM adapters", "infrastructure/llm/"),
    ("openai SDK", "/openai/"),
    ("token publishing (application/streaming.py)", "application/streaming.py"),
    ("chat live updates (application/chat/live.py)", "application/chat/live.py"),
    ("chatEvents resolver", "chat_events ("),
    ("strawberry subscriptions", "strawberry/subscriptions"),
    ("GraphQL execution (graphql-core)", "graphql/execution"),
    ("projections (readmodel)", "infrastructure/readmodel/"),
    ("projection follower", "infrastructure/follower.py"),
    ("live feed", "infrastructure/live_feed.py"),
    ("notify bus", "infrastructure/notify_bus.py"),
    ("chat leases", "infrastructure/chat_leases.py"),
    ("event log (application/eventlog)", "application/eventlog/"),
    ("uvicorn HTTP", "uvicorn/protocols/http"),
    ("uvicorn WebSocket", "uvicorn/protocols/websockets"),
    ("SQLAlchemy", "sqlalchemy/"),
    ("psycopg", "psycopg/"),
]


def frames(stack: str) -> list[tuple[str, str]]:
    found = []
    for raw in stack.split(";"):
        m = FRAME.match(raw.strip())
        found.append((m.group("name"), m.group("path")) if m else (raw.strip(), ""))
    return found


def thread_of(stack_frames: list[tuple[str, str]]) -> str:
    """Which thread a sample is from: the event loop, or the first frame of a thread's own
    code (after threading's bootstrap)."""
    if not stack_frames or bare(stack_frames[0][0]) != "_bootstrap":
        return "event loop (main thread)"
    for name, path in stack_frames:
        if path.startswith("threading.py") or path.endswith("/threading.py"):
            continue
        return f"{name} ({short(path)})"
    return "threading"


def bare(name: str) -> str:
    """A function's name without its class (py-spy 0.4.3 writes `Class.method`)."""
    return name.rsplit(".", 1)[-1]


def library(path: str) -> str:
    parts = path.replace("\\", "/")
    for needle, name in LIBRARIES:
        if f"/{needle}" in f"/{parts}" or parts.startswith(needle):
            return name
    return "other"


def summarise(files: list[Path], top: int) -> dict[str, object]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    entries: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = waits = 0
    for file in files:
        for line in file.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            count = int(count_text)
            stack_frames = frames(stack)
            name, path = stack_frames[-1]
            if (bare(name), short(path)) in WAITS:
                waits += count
                continue
            total += count
            own[f"{name} ({short(path)})"] += count
            libraries[library(path)] += count
            threads[thread_of(stack_frames)] += count
            for key in {f"{n} ({short(p)})" for n, p in stack_frames}:
                inclusive[key] += count
            for label, needle in ENTRIES:
                if needle in stack:
                    entries[label] += count

    def shares(counter: Counter[str], n: int | None = None) -> dict[str, float]:
        return {k: round(v / total, 3) for k, v in counter.most_common(n)} if total else {}

    return {
        "samples": total,
        "wait_samples_left_out": waits,
        "by_thread": shares(threads),
        "by_library": shares(libraries),
        "by_entry": shares(entries),
        "top_inclusive": shares(inclusive, top),
        "top_own": shares(own, top),
    }


def short(path: str) -> str:
    """A path from its package on (site-packages and the checkout are dropped)."""
    for marker in ("site-packages/", "python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    for layer in ("domain/", "application/", "infrastructure/", "interfaces/"):
        if layer in path:
            return layer + path.split(layer, 1)[1]
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chat_profile", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    print(json.dumps(summarise(args.files, args.top), indent=2))


if __name__ == "__main__":
    main()
