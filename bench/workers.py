"""Ingestion on many workers: 20 PDFs uploaded to a PostgreSQL-backed server, indexed by
1 `genai-stack worker` process, then by 2, in the same run.

    python -m bench.workers [--docs 20] [--pages 6] [--embed-delay 0.1] [--workers 1 2]

Prints JSON: for each count of worker processes, the wall time from the first upload until
every document is INDEXED, documents per second, and the ratio of documents per second
against one worker. Each count gets a fresh database and data directory, one API process
(`genai-stack serve` with GENAI_INGESTION_WORKERS=0: it queues, it does not index) and its
workers (`genai-stack worker --concurrency 1 --no-projections`: one job at a time each), all
on one Chroma server. The embedder is the OpenAI-compatible fake of tests/fakes, answering
each batch of passages after `--embed-delay` seconds, as a remote embedding API does: on
this 2-core machine the workers are then not purely CPU-bound (extraction and Chroma's
upserts are), so the ratio shows the queue spreading jobs, not the cores available.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests import pdfs
from tests.fakes import FakeOpenAIServer
from tests.fakes._server import Exchange
from tests.integration.documents_client import DOCUMENT, add_knowledge_base, new_workflow, upload
from tests.integration.gql import GQL, GraphQLError
from tests.integration.servers import GENAI_STACK, running

PG_ADMIN = os.environ.get("GENAI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
READY_TIMEOUT = 120.0
INDEX_TIMEOUT = 900.0


class SlowEmbeddings(FakeOpenAIServer):
    """The fake OpenAI server, answering each embeddings request after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def _embeddings(self, exchange: Exchange) -> None:
        self.sleep(self.delay)
        super()._embeddings(exchange)


def document_pdf(number: int, pages: int) -> bytes:
    """A distinct PDF (its own text, so its own file) of `pages` pages."""
    return pdfs.pages_pdf(
        [
            (
                f"Report {number}, part {page}",
                [f"Report {number}, part {page}, paragraph {p}. {pdfs.FILLER}" for p in range(4)],
            )
            for page in range(1, pages + 1)
        ]
    )


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"genai_bench_workers_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def chroma_server(root: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    chroma = str(Path(sys.executable).parent / "chroma")
    with (root / "chroma.log").open("wb") as log:
        process = subprocess.Popen(
            [chroma, "run", "--path", str(root / "chroma"), "--host", "127.0.0.1"]
            + ["--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while not _answers(f"{url}/api/v2/heartbeat"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Chroma server did not start: see {root}/chroma.log")
                time.sleep(0.2)  # polling interval while waiting for the condition above
            yield url
        finally:
            process.terminate()
            process.wait(20)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def worker(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`genai-stack worker`, one job at a time, once it says it runs."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [GENAI_STACK, "worker", "--concurrency", "1", "--no-projections"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT
            while b"ingestion worker running" not in log_path.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"the worker did not start:\n{tail}")
                time.sleep(0.1)  # polling interval while waiting for the condition above
            yield process
        finally:
            process.terminate()
            process.wait(30)


def statuses(gql: GQL, ids: list[str]) -> list[str]:
    """Each document's status; "?" for one the server could not read this time (a database
    shared with other work may refuse a connection now and then)."""
    found = []
    for document_id in ids:
        try:
            found.append(gql(DOCUMENT, id=document_id)["document"]["status"])
        except GraphQLError:
            found.append("?")
    return found


def run_with(workers: int, args: argparse.Namespace, chroma: str, fake: SlowEmbeddings) -> Any:
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-workers-")))
        database = stack.enter_context(fresh_database())
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "CHROMA_URL": chroma,
            "GENAI_DATA_DIR": str(root / "data"),
            "GENAI_POLL_SECONDS": "0.2",
            "GENAI_PRELOAD_EMBEDDER": "false",
            "GENAI_OUTBOUND_LOOPBACK": "true",  # the fake embedder listens on loopback
            "GENAI_EMBED_BATCH": str(args.batch),
            "GENAI_LOG_LEVEL": "WARNING",
            "GENAI_DB_POOL_SIZE": "3",  # the machine's PostgreSQL is shared: few connections each
            "GENAI_UPLOAD_LIMIT": "",  # 20 uploads at once are the bench, not abuse
            "GENAI_UPLOAD_LIMIT_PER_ADDRESS": "",
        }
        base, _ = stack.enter_context(running({**env, "GENAI_INGESTION_WORKERS": "0"}, root))
        for n in range(workers):
            stack.enter_context(worker(env, root / f"worker-{n}.log"))
        client = stack.enter_context(httpx.Client(base_url=base, timeout=60))
        gql = GQL(client)  # type: ignore[arg-type]
        workflow = new_workflow(gql)
        add_knowledge_base(
            gql,
            workflow,
            embedder="openai",
            baseUrl=fake.base_url,
            chunkSize=args.chunk_size,
            chunkOverlap=0,
        )
        files = [document_pdf(n, args.pages) for n in range(args.docs)]
        started = time.perf_counter()
        ids = [
            upload(client, workflow, data, f"report-{n}.pdf")["id"] for n, data in enumerate(files)
        ]  # type: ignore[arg-type]
        uploaded = time.perf_counter() - started
        deadline = time.monotonic() + INDEX_TIMEOUT
        while True:
            found = statuses(gql, ids)
            if all(s in ("INDEXED", "FAILED") for s in found):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"not indexed in time: {found}")
            time.sleep(0.1)  # polling interval while waiting for the condition above
        wall = time.perf_counter() - started
        assert found.count("INDEXED") == len(ids), found
        return {
            "workers": workers,
            "wall_seconds": round(wall, 3),
            "upload_seconds": round(uploaded, 3),
            "documents_per_second": round(len(ids) / wall, 3),
        }


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="bench-workers-chroma-") as tmp,
        chroma_server(Path(tmp)) as chroma,
        SlowEmbeddings(args.embed_delay) as fake,
    ):
        fake._httpd.socket.listen(64)  # several workers' requests at once
        results = [run_with(n, args, chroma, fake) for n in args.workers]
        embed_requests = len(fake.requests_to("/embeddings"))
    one = results[0]["documents_per_second"]
    for result in results:
        result["ratio_to_one_worker"] = round(result["documents_per_second"] / one, 3)
    return {
        "benchmark": "workers",
        "backend": "postgresql",
        "documents": args.docs,
        "pages_each": args.pages,
        "embed_batch": args.batch,
        "embed_delay_seconds": args.embed_delay,
        "embedding_requests": embed_requests,
        "cores": os.cpu_count(),
        "runs": results,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    parser.add_argument("--docs", type=int, default=20)
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--chunk-size", type=int, default=300)
    parser.add_argument("--batch", type=int, default=8, help="passages per embedding request")
    parser.add_argument("--embed-delay", type=float, default=0.1, help="seconds per request")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    if shutil.which(GENAI_STACK) is None and not Path(GENAI_STACK).exists():
        raise SystemExit(f"{GENAI_STACK} is not installed")
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
