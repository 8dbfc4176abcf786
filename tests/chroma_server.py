"""A real Chroma server for tests: `chroma run` from the venv on a free loopback port.

Fixtures (import them into a test module, or register the module with
`pytest_plugins = ["tests.chroma_server"]` in a conftest):

- `chroma_server_url` (session): `http://127.0.0.1:<port>` of a server started once per
  session on a temporary directory, stopped at the end;
- `chroma_remote_index` (function): a `ChromaVectorIndex.remote` on that server, reset
  after the test so tests do not see each other's collections.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.vector_index import ChromaVectorIndex

START_TIMEOUT = 60.0


def _chroma_cli() -> str:
    beside_python = Path(sys.executable).parent / "chroma"
    found = str(beside_python) if beside_python.exists() else shutil.which("chroma")
    if found is None:
        pytest.fail("the `chroma` command is not installed (it comes with the chromadb package)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("wb")
    command = [_chroma_cli(), "run", "--path", str(root / "data")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _heartbeat(url):
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (root / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"the Chroma server did not start on {url}:\n{tail}")
            time.sleep(0.2)
        yield url
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
