"""Real `genai-stack serve` processes for tests that cross process boundaries."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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
def serve(settings: Settings, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Starts `genai-stack serve` on a free port; yields its base URL once /readyz answers."""
    port = free_port()
    env = {
        **os.environ,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        "GENAI_POLL_SECONDS": "0.2",
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
        **(extra_env or {}),
    }
    log = open(Path(settings.genai_data_dir).parent / f"serve-{port}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [GENAI_STACK, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: see {log.name}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"server did not start: see {log.name}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()
