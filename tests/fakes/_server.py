"""The machinery the fake provider servers share: a threaded HTTP/1.1 server on loopback,
a record of every request, and a queue of scripted failures.

The stdlib server is enough because each streamed chunk is written and flushed on its own
with chunked transfer encoding, which is what the SDKs' SSE readers need to see deltas as
they happen. Handler threads are daemons and every wait listens to the stop event, so a
scripted hang never delays the end of a test.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it. Header names are lower-cased."""

    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or None


@dataclass(frozen=True)
class Failure:
    """A scripted misbehaviour for one request; build one with the class methods."""

    kind: Literal["http", "hang", "cut", "stream_error"]
    status: int = 500
    message: str = "The fake server failed on purpose."
    retry_after: float | None = None
    seconds: float = 0.0
    chunks: int = 0

    @classmethod
    def http(cls, status: int, message: str = "", retry_after: float | None = None) -> Failure:
        """Answer `status` with the provider's error body; Retry-After when given."""
        return cls(
            "http",
            status=status,
            message=message or f"Scripted error {status}.",
            retry_after=retry_after,
        )

    @classmethod
    def hang(cls, seconds: float) -> Failure:
        """Say nothing for `seconds`, then answer normally (if the client is still there)."""
        return cls("hang", seconds=seconds)

    @classmethod
    def cut(cls, after_chunks: int) -> Failure:
        """Streaming only: send `after_chunks` chunks, then drop the connection."""
        return cls("cut", chunks=after_chunks)

    @classmethod
    def stream_error(cls, after_chunks: int, message: str = "") -> Failure:
        """Streaming only: send `after_chunks` chunks, then the provider's error as an event
        of the stream (as a provider overloaded mid-answer does), and end the stream."""
        return cls("stream_error", chunks=after_chunks, message=message or "Overloaded mid-stream.")


class Gate:
    """Holds one request (the `nth` that `matches` picks) unanswered until `release()`: a
    test can then look at the world while that request is in flight. Made by `hold`."""

    def __init__(self, matches: Callable[[RecordedRequest], bool], nth: int) -> None:
        self.matches, self.remaining = matches, nth
        self.arrived = threading.Event()
        self.released = threading.Event()

    def wait_arrived(self, timeout: float = 60.0) -> None:
        if not self.arrived.wait(timeout):
            raise AssertionError(f"no request was held within {timeout} s")

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()  # never leave a request hanging after the test


class ConnectionCut(Exception):
    """Raised inside a handler to drop the connection mid-response."""


class Exchange:
    """One request and the means to answer it, so routes need not know http.server."""

    def __init__(self, handler: BaseHTTPRequestHandler, request: RecordedRequest) -> None:
        self._handler = handler
        self.request = request
        self.stream_failure: Failure | None = None  # a scripted error event mid-stream

    def send_json(
        self, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        h = self._handler
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(data)
        h.wfile.flush()

    def start_stream(self, content_type: str = "text/event-stream") -> None:
        h = self._handler
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.flush()

    def write(self, data: bytes) -> None:
        h = self._handler
        h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        h.wfile.flush()

    def end_stream(self) -> None:
        self._handler.wfile.write(b"0\r\n\r\n")
        self._handler.wfile.flush()


class FakeServer:
    """Base of the fakes: subclasses implement `route` and `error_body`.

    Use as a context manager (`with FakeOpenAIServer() as server:`) or call `start()` and
    `stop()`. `url` is `http://127.0.0.1:<port>` with a free port chosen by the OS.
    """

    def __init__(self, token_delay: float = 0.0) -> None:
        self.token_delay = token_delay
        self.requests: list[RecordedRequest] = []
        self._failures: deque[Failure] = deque()
        self._gates: list[Gate] = []
        self._stream_gates: deque[tuple[Gate, int]] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ programming

    def fail_next(self, *failures: Failure, times: int = 1) -> None:
        """Queue failures for the next requests, whatever their path, in order."""
        with self._lock:
            for _ in range(times):
                self._failures.extend(failures)

    def hold(self, matches: Callable[[RecordedRequest], bool], nth: int = 1) -> Gate:
        """Holds the `nth` request from now that `matches` picks until the gate is released
        (use as a context manager so that it always is)."""
        gate = Gate(matches, nth)
        with self._lock:
            self._gates.append(gate)
        return gate

    def hold_stream(self, after_pieces: int = 1) -> Gate:
        """Holds the next streamed answer after its first `after_pieces` pieces until the gate
        is released: a test can see what the client made of them while the rest waits."""
        gate = Gate(lambda _: True, 1)
        with self._lock:
            self._stream_gates.append((gate, after_pieces))
        return gate

    def requests_to(self, path_part: str) -> list[RecordedRequest]:
        """The recorded requests whose path contains `path_part`."""
        with self._lock:
            return [r for r in self.requests if path_part in r.path]

    def sleep(self, seconds: float) -> None:
        """Wait, but wake at once when the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def stream_pieces(
        self,
        exchange: Exchange,
        pieces: Iterable[bytes],
        cut: int | None,
        content_type: str = "text/event-stream",
    ) -> None:
        """Writes SSE (or `content_type`) pieces with the configured delay; drops the link
        after `cut` pieces."""
        exchange.start_stream(content_type)
        failure = exchange.stream_failure
        with self._lock:
            gate, after = self._stream_gates.popleft() if self._stream_gates else (None, 0)
        for count, piece in enumerate(pieces):
            if gate is not None and count == after:
                self._wait_at(gate)
            if cut is not None and count >= cut:
                raise ConnectionCut
            if failure is not None and count >= failure.chunks:
                exchange.write(self.stream_error_event(failure.message))
                break
            if count:
                self.sleep(self.token_delay)
            exchange.write(piece)
        exchange.end_stream()

    # ------------------------------------------------------------ for subclasses

    def route(self, exchange: Exchange, cut: int | None) -> bool:
        """Answers the exchange and returns True, or returns False for an unknown path."""
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> Any:
        """The provider's JSON error body."""
        raise NotImplementedError

    def stream_error_event(self, message: str) -> bytes:
        """The SSE event by which the provider reports an error in the middle of a stream."""
        raise NotImplementedError

    def check_key(self, exchange: Exchange) -> bool:
        """Refuses the request (answering it) when the key is wrong; True when it may go on."""
        return True

    # ------------------------------------------------------------ dispatch

    def _take_failure(self) -> Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _held_by(self, request: RecordedRequest) -> Gate | None:
        with self._lock:
            for gate in self._gates:
                if gate.remaining > 0 and gate.matches(request):
                    gate.remaining -= 1
                    if gate.remaining == 0:
                        return gate
        return None

    def _wait_at(self, gate: Gate) -> None:
        gate.arrived.set()
        while not gate.released.wait(0.05):
            if self._stopping.is_set():
                raise ConnectionCut

    def _dispatch(self, exchange: Exchange) -> None:
        self._record(exchange.request)
        gate = self._held_by(exchange.request)
        if gate is not None:
            self._wait_at(gate)
        failure = self._take_failure()
        cut: int | None = None
        if failure is not None:
            if failure.kind == "http":
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = f"{failure.retry_after:g}"
                exchange.send_json(
                    failure.status, self.error_body(failure.status, failure.message), headers
                )
                return
            if failure.kind == "hang":
                self.sleep(failure.seconds)
                if self._stopping.is_set():
                    raise ConnectionCut
            if failure.kind == "cut":
                cut = failure.chunks
            if failure.kind == "stream_error":
                exchange.stream_failure = failure
        if not self.check_key(exchange):
            return
        if not self.route(exchange, cut):
            exchange.send_json(404, self.error_body(404, f"No route for {exchange.request.path}."))


Reply = str | Callable[["RecordedRequest"], str]


class FakeModelServer(FakeServer):
    """A fake model provider: chat replies (fixed, or made from the request), embeddings of
    `embedding_dim` dimensions, and, when `api_key` is set, refusal of any other key."""

    default_reply = "Hello from a fake model server."

    def __init__(
        self,
        reply: Reply | None = None,
        token_delay: float = 0.0,
        embedding_dim: int = 64,
        api_key: str | None = None,
    ) -> None:
        super().__init__(token_delay=token_delay)
        self.reply: Reply = self.default_reply if reply is None else reply
        self.embedding_dim = embedding_dim
        self.api_key = api_key

    def reply_for(self, request: RecordedRequest) -> str:
        return self.reply(request) if callable(self.reply) else self.reply


class _HTTPServer(ThreadingHTTPServer):
    """Room for a burst of connections: socketserver listens with a backlog of 5, which 32
    chats' SDK clients connecting at once overflow (the fake's log showed connections reset
    as a bench's 32-chat phase began, and twice a direct SDK call then waited the client's
    ten minutes for its answer)."""

    request_queue_size = 128
    daemon_threads = True


def _handler_class(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive and chunked bodies, like the real APIs
        # headers and body go out in separate writes: without this, Nagle's algorithm holds
        # the body back ~40 ms for a delayed ACK on back-to-back keep-alive requests
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            try:
                fake._dispatch(Exchange(self, request))
            except ConnectionCut:
                self._drop()
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its timeout, usually): nothing left to answer.
                self.close_connection = True

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean; `requests` is the record

    return Handler


def words(text: str) -> int:
    """The fakes' token count: whitespace-separated words, deterministic and easy to predict."""
    return len(text.split())
