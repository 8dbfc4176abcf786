"""What a request must be before the application reads it, as ASGI middleware.

A GraphQL request body is UTF-8 JSON, an object, not nested past reason, with no lone
surrogate and no NaN; a WebSocket message is such an object too, of the shape the
graphql-transport-ws protocol gives it. Anything else is refused here with the contract's
BAD_USER_INPUT (HTTP 400) or the protocol's close code 4400, instead of reaching a parser
that raises (a JSON string body, an array nested 100,000 deep, a binary frame).

Uploads are counted as they arrive: a body past the limit is refused before more of it is
spooled, whether or not it declared its length.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MB = 1024 * 1024
# the multipart envelope around an upload: the operation, the map, the boundaries
MULTIPART_OVERHEAD = 64 * 1024
MAX_NESTING = 64  # levels of a JSON body: variables hold JSON values of at most 12
INVALID_MESSAGE = 4400  # graphql-transport-ws: "Invalid message"


class BodyTooLarge(Exception):
    """Raised from `receive` once a body passes its limit; answered with 413."""


def body_problem(body: bytes) -> str | None:
    """Why a POST body is not a GraphQL request; None when it is one."""
    data, problem = _parsed(body, "the body")
    return problem or _operation_problem(data, "the body")


def query_string_problem(query_string: bytes) -> str | None:
    """Why the JSON parameters of a GET request are not objects; None when they are."""
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name in ("variables", "extensions"):
            data, problem = _parsed(value, name)
            if problem or not isinstance(data, dict):
                return problem or f"{name} must be a JSON object"
    return None


def ws_message_problem(text: str) -> str | None:
    """Why a WebSocket text message is not a graphql-transport-ws message; None when it is."""
    message, problem = _parsed(text, "the message")
    if problem:
        return problem
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    if not isinstance(message.get("type"), str):
        return "a message needs a type"
    if "id" in message and not isinstance(message["id"], str):
        return "a message's id must be a string"
    payload = message.get("payload")
    if payload is not None and not isinstance(payload, dict):
        return "a message's payload must be an object"
    if message["type"] == "subscribe":
        return _operation_problem(payload, "a subscribe message's payload")
    return None


def _parsed(text: bytes | str, what: str) -> tuple[Any, str | None]:
    """The JSON value of `text`, or why it is none a GraphQL server should read."""
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
    except UnicodeDecodeError as error:
        return None, f"{what} is not UTF-8 text (byte {error.start})"
    try:
        data = json.loads(decoded, parse_constant=_no_constant)
    except RecursionError:
        return None, f"{what} is JSON nested more than {MAX_NESTING} levels deep"
    except ValueError as error:  # JSONDecodeError, and NaN or Infinity
        return None, f"{what} is not JSON: {error}"
    if _nesting(data) > MAX_NESTING:
        return None, f"{what} is JSON nested more than {MAX_NESTING} levels deep"
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return None, f"{what} holds a lone surrogate (\\ud800 to \\udfff), which is not text"
    return data, None


def _operation_problem(operation: Any, what: str) -> str | None:
    if not isinstance(operation, dict):
        return f"{what} must be a JSON object with a query"
    if not isinstance(operation.get("query"), str):
        return f"{what} needs a query, as a string"
    if not isinstance(operation.get("operationName"), str | None):
        return "operationName must be a string"
    for name in ("variables", "extensions"):
        if not isinstance(operation.get(name), dict | None):
            return f"{name} must be a JSON object"
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _nesting(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_NESTING:
                return depth
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


class RequestGuard:
    """Checks GraphQL requests on `path` before the application reads them."""

    def __init__(self, app: ASGIApp, *, path: str, max_request_mb: int, max_upload_mb: int) -> None:
        self.app, self.path = app, path
        self.max_request_mb, self.max_upload_mb = max_request_mb, max_upload_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await self.app(scope, self._checked_messages(receive, send), send)
        elif scope["type"] == "http" and scope["path"] == self.path and scope["method"] == "POST":
            await self._post(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] == self.path and scope["method"] == "GET":
            problem = query_string_problem(scope.get("query_string", b""))
            if problem:
                await _refuse(send, 400, "BAD_USER_INPUT", problem)
            else:
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _header(scope, b"content-type").startswith(b"multipart/"):
            await self._upload(scope, receive, send)
            return
        try:
            body = await _read(receive, self.max_request_mb * MB)
        except BodyTooLarge:
            too_large = f"the request is larger than {self.max_request_mb} MB"
            await _refuse(send, 413, "PAYLOAD_TOO_LARGE", too_large)
            return
        problem = body_problem(body)
        if problem:
            await _refuse(send, 400, "BAD_USER_INPUT", problem)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            limit = self.max_upload_mb * MB + MULTIPART_OVERHEAD
            await self.app(scope, _counted(receive, limit), watched)
        except BodyTooLarge:
            if started:
                raise
            too_large = f"the file is larger than {self.max_upload_mb} MB"
            await _refuse(send, 413, "PAYLOAD_TOO_LARGE", too_large)

    def _checked_messages(self, receive: Receive, send: Send) -> Receive:
        async def checked() -> Message:
            message = await receive()
            if message["type"] != "websocket.receive":
                return message
            text = message.get("text")
            problem = (
                "a message must be text (JSON), not binary"
                if text is None
                else ws_message_problem(text)
            )
            if problem is None:
                return message
            await send(
                {"type": "websocket.close", "code": INVALID_MESSAGE, "reason": _reason(problem)}
            )
            return {"type": "websocket.disconnect", "code": INVALID_MESSAGE}

        return checked


def _reason(problem: str) -> str:
    """A close reason fits in 123 bytes of UTF-8."""
    return problem.encode("utf-8")[:120].decode("utf-8", "ignore")


async def _read(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _counted(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge
        return message

    return counted


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).lower()
    return b""


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------- hosts, origins, headers

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

# The built SPA and GraphiQL load everything from this origin: scripts and workers from
# /assets, styles partly inline (React Flow and Monaco set style attributes), Monaco's font
# and icons as data: URLs. Nothing may frame the app (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
POLICY_VIOLATION = 1008


# Keys of the ASGI scope shared by the guard and the GraphQL routes (interfaces/app.py):
LISTED_ORIGIN = "genai.listed_origin"  # the Origin, listed by a live publishable token
EMBED_ONLY = "genai.embed_only"  # a WebSocket let in only as an embedded chat
CORS_ORIGIN = "genai.cors_origin"  # a publishable token's request from a site it lists
WS_REFUSAL = "genai.ws_refusal"  # why connection_init was refused: the close reason
PREFLIGHT_MAX_AGE = b"600"


class OriginGuard:
    """Requests name a host this server answers as (`Host`), or are refused: a page whose
    name an attacker rebinds to this machine's address sends its own name, so it reads
    nothing. A WebSocket's `Origin` must be one of the configured origins, or a page of one
    of those hosts; it is never compared with `Host`, which the attacker chose. Loopback
    names are always hosts of this server: no outside page can be served under them.
    Every HTTP response gets the security headers it does not set itself.

    Embedded chats are the one exception, and only as far as their token's own check: a
    page on a site that a live publishable token lists (`listed`) may open the GraphQL
    WebSocket (its `connection_init` must then carry such a token, interfaces/app.py) and
    is answered CORS preflights on `cors_path`; CORS headers go only on responses to a
    publishable token's request from a site it lists (the context marks them)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: list[str],
        origins: list[str],
        listed: Callable[[str], Awaitable[bool]] | None = None,
        cors_path: str = "/graphql",
    ) -> None:
        self.app = app
        self.any_host = "*" in hosts
        origin_hosts = {_host_name(o.split("://", 1)[-1]) for o in origins}
        self.names = LOOPBACK_NAMES | {_host_name(h) for h in hosts} | origin_hosts
        self.origins = {o.rstrip("/").lower() for o in origins}
        self.listed, self.cors_path = listed, cors_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host_header = _header(scope, b"host").decode("latin-1")
        host = _host_name(host_header)
        origin = _header(scope, b"origin").decode("latin-1")
        if await self._listed(scope, origin, host_header):
            scope[LISTED_ORIGIN] = _header_value(scope, b"origin")
        if scope["type"] == "websocket":
            allowed = self._allowed_origin(origin) or LISTED_ORIGIN in scope
            if not self._known(host) or (origin and not allowed):
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
                return
            await self.app(scope, receive, _with_refusal(scope, send))
            return
        with_headers = _with_headers(scope, send)
        if not self._known(host):
            await _refuse(
                with_headers,
                400,
                "BAD_USER_INPUT",
                f"this server does not answer as {host or 'no host'}: add it to "
                "GENAI_ALLOWED_HOSTS",
            )
            return
        if _preflight(scope) and scope["path"] == self.cors_path:
            await self._preflight(scope, with_headers)
            return
        await self.app(scope, receive, with_headers)

    async def _preflight(self, scope: Scope, send: Send) -> None:
        """A CORS preflight: answered for a site a live publishable token lists, refused
        (without CORS headers, so the browser sends nothing) for any other."""
        origin = scope.get(LISTED_ORIGIN)
        if origin is None:
            await _refuse(send, 403, "FORBIDDEN", "this site is not allowed to use this server")
            return
        headers = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", b"POST, GET"),
            (b"access-control-allow-headers", b"authorization, content-type"),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _listed(self, scope: Scope, origin: str, host_header: str) -> bool:
        """Whether a request to the GraphQL path comes from another site that a live
        publishable token lists (looked up only for another site's requests)."""
        if not origin or scope["path"] != self.cors_path or self.listed is None:
            return False
        return not _own(scope, origin, host_header) and await self.listed(origin)

    def _known(self, host: str | None) -> bool:
        return self.any_host or host in self.names

    def _allowed_origin(self, origin: str) -> bool:
        origin = origin.rstrip("/")
        return origin in self.origins or _host_name(origin.split("://", 1)[-1]) in self.names


def _own(scope: Scope, origin: str, host_header: str) -> bool:
    """Whether `origin` is exactly the origin the request was made to (the SPA's own)."""
    secure = scope.get("scheme") in ("https", "wss")
    own = f"{'https' if secure else 'http'}://{host_header}".lower()
    return origin.rstrip("/").lower() == own


def _preflight(scope: Scope) -> bool:
    return scope["method"] == "OPTIONS" and bool(_header(scope, b"access-control-request-method"))


def _header_value(scope: Scope, name: bytes) -> str:
    """A header's value as sent (not lower-cased)."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _with_refusal(scope: Scope, send: Send) -> Send:
    """A WebSocket refused at `connection_init` says why in its close reason."""

    async def sending(message: Message) -> None:
        refusal = scope.get(WS_REFUSAL)
        if message["type"] == "websocket.close" and refusal:
            message = {**message, "reason": _reason(refusal)}
        await send(message)

    return sending


def _host_name(host: str) -> str:
    """`localhost:8000` → `localhost`, `[::1]:8000` → `::1`; '' for nothing sensible."""
    try:
        return (urlsplit(f"//{host.strip()}").hostname or "").lower()
    except ValueError:
        return ""


def _with_headers(scope: Scope, send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {bytes(k).lower() for k, _ in message.get("headers", ())}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            cors = scope.get(CORS_ORIGIN)
            if cors:  # set by the context: a publishable token's request from its site
                extra += [
                    (b"access-control-allow-origin", cors.encode("latin-1")),
                    (b"access-control-expose-headers", b"retry-after, x-request-id"),
                    (b"vary", b"Origin"),
                ]
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return sending
