"""The upload limit holds while the body streams: a chunked upload that never says its length
is refused with 413 PAYLOAD_TOO_LARGE as soon as it passes MAX_UPLOAD_MB, while the client is
still sending, and nothing of it is stored (once, 3 GB were spooled before the refusal)."""

from __future__ import annotations

import json
import select
import socket
from pathlib import Path
from urllib.parse import urlsplit

from tests.conftest import make_settings
from tests.integration.servers import serve

CHUNK = 64 * 1024
TOTAL = 64 * 1024 * 1024  # what the client would send: 64 times the limit


def chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def read_answer(sock: socket.socket) -> bytes | None:
    """The server's answer, or None when the connection was reset under it: a server that
    stops reading a body it refuses closes the connection with the rest of the body unread,
    which makes the close a reset, and Linux may then drop the answer before it is read."""
    response = b""
    try:
        while b"\r\n\r\n" not in response or not response.rstrip().endswith(b"}"):
            more = sock.recv(65536)
            if not more:
                break
            response += more
    except ConnectionResetError:
        return response if response.rstrip().endswith(b"}") else None
    return response


def test_a_chunked_upload_is_refused_as_it_passes_the_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", None)
    with serve(settings, {"MAX_UPLOAD_MB": "1"}) as base:
        url = urlsplit(base)
        boundary = "b0undary"
        operations = json.dumps(
            {
                "query": "mutation($w: UUID!, $f: Upload!) { uploadDocument(workflowId: $w, file: $f) { id } }",
                "variables": {"w": "00000000-0000-0000-0000-000000000000", "f": None},
            }
        )
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
            '{"0": ["variables.f"]}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
        ).encode()
        with socket.create_connection((url.hostname, url.port)) as sock:
            sock.sendall(
                (
                    f"POST /graphql HTTP/1.1\r\nHost: {url.netloc}\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                    "Apollo-Require-Preflight: true\r\nTransfer-Encoding: chunked\r\n\r\n"
                ).encode()
                + chunked(head)
            )
            sent = len(head)
            while sent < TOTAL and not select.select([sock], [], [], 0)[0]:
                try:
                    sock.sendall(chunked(b"0" * CHUNK))
                except (BrokenPipeError, ConnectionResetError):
                    break  # the server answered and closed: its answer waits to be read
                sent += CHUNK
            response = read_answer(sock)
        assert sent < TOTAL  # refused while the client was still sending
        if response is not None:
            status_line, _, rest = response.partition(b"\r\n")
            assert status_line.split()[1] == b"413"
            assert json.loads(rest.split(b"\r\n\r\n", 1)[1]) == {
                "errors": [
                    {
                        "message": "the file is larger than 1 MB",
                        "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                    }
                ]
            }
    blobs = tmp_path / "data" / "blobs"
    assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))
