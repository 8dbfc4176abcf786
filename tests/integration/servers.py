"""Real `genai-stack serve` processes for tests that cross process boundaries."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from infrastructure.settings import Settings

GENAI_STACK = str(Path(sys.executable).parent / "genai-stack")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(env: Mapping[str, str], log_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`genai-stack serve` on a free port with exactly `env`; yields its base URL and its
    process (a test may kill it) once /readyz answers, and stops it afterwards. Its output
    goes to `serve-<port>.log` in `log_dir`."""
    port = free_port()
    log = open(log_dir / f"serve-{port}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [GENAI_STACK, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited: see {log.name}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not start: see {log.name}")
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        log.close()


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """This process's environment with the server pointed at the settings' storage."""
    return {
        **os.environ,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        "GENAI_POLL_SECONDS": "0.2",
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
        **extra,
    }


@contextmanager
def serve(settings: Settings, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Starts `genai-stack serve` on the settings' storage; yields its base URL."""
    with running(env_for(settings, **(extra_env or {})), Path(settings.genai_data_dir).parent) as (
        base,
        _,
    ):
        yield base
