"""A real Chroma server for tests: `chroma run` from the venv on a free loopback port.

The server binds port 0 and the port is read back from the kernel (which socket the process
listens on): choosing a free port first and passing it on would race with the other pytest-xdist
workers (and any process) binding in between, and a worker could then talk to another worker's
server, whose resets would delete its collections.

Fixtures (import them into a test module, or register the module with
`pytest_plugins = ["tests.chroma_server"]` in a conftest):

- `chroma_server_url` (session): `http://127.0.0.1:<port>` of a server started once per
  session on a temporary directory, stopped at the end;
- `chroma_remote_index` (function): a `ChromaVectorIndex.remote` on that server, reset
  after the test so tests do not see each other's collections.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.vector_index import ChromaVectorIndex

START_TIMEOUT = 120.0  # a loaded machine (parallel test workers) starts it slowly
LISTEN = "0A"  # the TCP state in /proc/net/tcp


def _chroma_cli() -> str:
    beside_python = Path(sys.executable).parent / "chroma"
    found = str(beside_python) if beside_python.exists() else shutil.which("chroma")
    if found is None:
        pytest.fail("the `chroma` command is not installed (it comes with the chromadb package)")
    return found


def _listening_port(pid: int) -> int | None:
    """The TCP port process `pid` listens on, once it does (Linux's /proc; `chroma run` does
    not print the port the system chose)."""
    sockets = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        with contextlib.suppress(OSError):  # a descriptor closed meanwhile
            sockets.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == LISTEN and f"socket:[{inode}]" in sockets:
            return int(local.rsplit(":", 1)[1], 16)
    return None


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("chroma-server")
    log = (root / "server.log").open("wb")
    command = [_chroma_cli(), "run", "--path", str(root / "data")]
    command += ["--host", "127.0.0.1", "--port", "0"]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        port = None
        while port is None or not _heartbeat(f"http://127.0.0.1:{port}"):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (root / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"the Chroma server did not start (port {port}):\n{tail}")
            time.sleep(0.2)  # polling interval while waiting for the condition above
            port = port or _listening_port(process.pid)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def chroma_remote_index(chroma_server_url: str) -> Iterator[ChromaVectorIndex]:
    index = ChromaVectorIndex.remote(chroma_server_url)
    yield index
    index.reset()
