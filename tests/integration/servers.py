"""Real `genai-stack serve` processes for tests that cross process boundaries."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from infrastructure.settings import Settings

GENAI_STACK = str(Path(sys.executable).parent / "genai-stack")
# what `serve` prints once it has bound its port
_BOUND = re.compile(rb"open (http://\S+?)/ ")


class Server:
    """`genai-stack serve --port 0` with exactly `env`: the system picks a free port and
    the server prints it, so servers started at once never race for one. Its output goes
    to `serve-<id>.log` in `log_dir`."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.log_path = log_dir / f"serve-{uuid.uuid4().hex[:8]}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [GENAI_STACK, "serve", "--host", "127.0.0.1", "--port", "0"],
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._base: str | None = None

    def wait_ready(self, timeout: float = 180) -> str:
        """Its base URL once /readyz answers 200; raises if it exits or times out first (the
        timeout only bounds a failure: a machine busy with parallel test workers took 90 s)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: see {self.log_path}")
            base = self._base or self._bound()
            if base is not None:
                self._base = base
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        return base
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not start: see {self.log_path}")
            time.sleep(0.1)  # polling interval while waiting for the condition above

    def _bound(self) -> str | None:
        found = _BOUND.search(self.log_path.read_bytes())
        return found.group(1).decode() if found else None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


@contextmanager
def running(env: Mapping[str, str], log_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A server with exactly `env`; yields its base URL and its process (a test may kill
    it) once /readyz answers, and stops it afterwards."""
    server = Server(env, log_dir)
    try:
        yield server.wait_ready(), server.process
    finally:
        server.stop()


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    """This process's environment with the server pointed at the settings' storage."""
    return {
        **os.environ,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        "GENAI_POLL_SECONDS": "0.2",
        "GENAI_PRELOAD_EMBEDDER": "false",
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
