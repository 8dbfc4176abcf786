"""The FastAPI application: /graphql (queries, mutations, uploads, subscriptions, and GraphiQL
for a browser), the OpenAI-compatible /v1 (interfaces/openai_routes.py), /healthz, /readyz,
/metrics, and the built SPA at /."""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from opentelemetry.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from application.errors import RateLimited
from infrastructure.readmodel import failures
from infrastructure.settings import Settings
from interfaces.admin_tools import TOOLS_FORBIDDEN, may_use_tools
from interfaces.audit_routes import audit_router
from interfaces.auth_routes import auth_router, error_response
from interfaces.bootstrap import Services, bootstrap
from interfaces.graphql.connections import BoundedTransportWS
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from interfaces.http_guards import (
    CORS_ORIGIN,
    EMBED_ONLY,
    LISTED_ORIGIN,
    MULTIPART_OVERHEAD,
    WS_REFUSAL,
    OriginGuard,
    RequestGuard,
)
from interfaces.openai_routes import openai_router
from interfaces.principal import (
    NOT_ALLOWED,
    authorization_of,
    bearer,
    origin_refusal,
    principal_of,
)
from interfaces.request_ids import RequestIds
from interfaces.stack_routes import stack_router

log = logging.getLogger(__name__)

SPA_DIR = Path(__file__).resolve().parent.parent / "frontend" / "dist"

# strawberry's own GraphiQL page: an inline script, and scripts and styles from two CDNs
CDN_GRAPHIQL_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com "
    "https://cdn.jsdelivr.net; style-src 'self' 'unsafe-inline' https://unpkg.com "
    "https://cdn.jsdelivr.net; img-src 'self' data:; font-src 'self' data: https:; "
    "connect-src 'self'; frame-ancestors 'none'"
)

MEASURED_PATHS = (
    "/graphql",
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/chat/completions",
    "/v1/models",
)
REQUESTS = Counter("genai_http_requests_total", "HTTP requests", ["method", "path", "status"])
LATENCY = Histogram("genai_http_request_seconds", "HTTP request latency", ["method", "path"])


class GraphiQLRouter(GraphQLRouter):
    """Serves the GraphiQL page built with the SPA, which needs no CDN (a machine running
    GenAI Stack may be offline); strawberry's own page, whose scripts come from unpkg and
    jsdelivr, only when the web app is not built. WebSocket connections are bounded
    (interfaces/graphql/connections.py)."""

    graphql_transport_ws_handler_class = BoundedTransportWS

    def __init__(self, *args: Any, public_tools: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.public_tools = public_tools

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        if not await _may_use_tools(request, self.public_tools):
            return HTMLResponse(TOOLS_FORBIDDEN, status_code=403)
        # read on each request: a rebuild renames the assets the page refers to
        page = SPA_DIR / "graphiql.html"
        if page.is_file():
            return HTMLResponse(page.read_text(encoding="utf-8"))
        fallback = await super().render_graphql_ide(request)
        fallback.headers["content-security-policy"] = CDN_GRAPHIQL_POLICY
        return fallback

    def is_websocket_origin_allowed(self, request: Any, origin: str) -> bool:
        """Pages of the configured origins; and pages of a site a live publishable token
        lists (the guard looked it up), which must then present such a token."""
        if super().is_websocket_origin_allowed(request, origin):
            return True
        if request.scope.get(LISTED_ORIGIN) == origin:
            request.scope[EMBED_ONLY] = True
            return True
        return False

    async def on_ws_connect(self, context: Context) -> Any:
        """Credentials in `connection_init` (`{"authorization": "Bearer …"}`) replace those of
        the handshake; credentials that are not valid close the socket (4403). A socket let
        in as an embedded chat, or a publishable token from a site it does not list, is
        closed too (4403), saying why."""
        authorization = authorization_of(context.connection_params)
        if authorization is not None:
            context.principal = await principal_of(
                context.services.accounts.principals, authorization
            )
            context.credential = bearer(authorization)
            if context.principal is None:
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        socket = context.request
        assert socket is not None
        principal = context.principal
        refusal = origin_refusal(principal, socket.headers.get("origin"))
        if socket.scope.get(EMBED_ONLY) and (principal is None or not principal.publishable):
            refusal = refusal or f"{NOT_ALLOWED}: only an embedded chat's token is"
        if refusal is not None:
            socket.scope[WS_REFUSAL] = refusal
            raise ConnectionRejectionError({"code": "FORBIDDEN", "message": refusal})
        client = context.request.client if context.request is not None else None
        # past the bound: TooManyConnections, a close with 4429 (interfaces/graphql/connections.py)
        context.connection_key = context.services.connections.enter(
            context.principal, client.host if client else None
        )
        return await super().on_ws_connect(context)


# Allocations between the cyclic collector's young-generation runs (Python's default: 700).
# A chat turn allocates tens of thousands of short-lived objects; at 700 the collector ran
# dozens of times a turn, and its older generations' runs walked the whole heap of the
# libraries loaded at start (py-spy caught a full collection inside one small allocation
# in 6 % of a turn's samples).
GC_YOUNG_THRESHOLD = 10_000


def _settle_heap() -> None:
    """Once started: what start-up made lives as long as the process, so the collector is
    told to leave it out of its runs (`gc.freeze`), and runs less often."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """`tracer_provider`: the provider of the request spans, instead of the global one (a
    test's; the server installs the global one when OTLP is configured)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        app.state.services = services or bootstrap(settings)
        if own:
            app.state.services.start(projections=settings.genai_run_projections)
        await to_thread.run_sync(
            app.state.services.accounts.on_server_start,
            settings.genai_public_url or f"http://{settings.genai_host}",
            _announce,
        )
        if own:
            _settle_heap()
        try:
            yield
        finally:
            if own:
                app.state.services.stop()

    app = FastAPI(
        title="GenAI Stack",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's native OpenTelemetry: a server span per request once a provider is set;
        # not its metrics (Prometheus serves ours) nor its logs (ours are structlog's)
        telemetry={"tracer_provider": tracer_provider, "metrics": False, "logs": False},
    )
    max_request = settings.max_upload_mb * 1024 * 1024 + MULTIPART_OVERHEAD

    async def context(connection: HTTPConnection) -> Context:
        services = app.state.services
        authorization = connection.headers.get("authorization")
        principal = await principal_of(services.accounts.principals, authorization)
        built = Context(services, principal=principal, credential=bearer(authorization))
        if connection.scope["type"] == "http":
            origin = connection.headers.get("origin")
            built.refusal = origin_refusal(principal, origin)
            if principal is not None and principal.publishable and built.refusal is None:
                connection.scope[CORS_ORIGIN] = origin  # the guard answers it with CORS headers
        return built

    router = GraphiQLRouter(
        schema,
        context_getter=context,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        multipart_uploads_enabled=True,
        graphql_ide="graphiql",
        allowed_origins=settings.genai_allowed_origins,
        public_tools=settings.genai_public_tools,
        max_subscriptions_per_connection=None,  # BoundedTransportWS counts, and says why
    )
    app.include_router(router, prefix="/graphql")
    app.include_router(
        auth_router(
            lambda request: request.app.state.services.accounts,
            secure_cookies=(settings.genai_public_url or "").startswith("https://"),
            public_url=settings.genai_public_url,
        )
    )
    app.include_router(audit_router(lambda request: request.app.state.services))

    app.include_router(
        openai_router(
            lambda request: request.app.state.services, settings.genai_max_request_mb * 1024 * 1024
        )
    )

    app.include_router(stack_router(lambda request: request.app.state.services))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        if getattr(request.app.state, "draining", False):  # stopping: send work elsewhere
            return JSONResponse({"ready": False, "draining": True}, status_code=503)
        services = request.app.state.services
        ready = await to_thread.run_sync(services.ready)
        body: dict[str, object] = {"ready": ready}
        failed = await to_thread.run_sync(failures.summary, services.read_db) if ready else {}
        if failed:  # serving, but some aggregates' events were not applied to the lists
            body["degraded"] = {"projectionFailures": failed}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> PlainTextResponse:
        if not await _may_use_tools(request, settings.genai_public_tools):
            return PlainTextResponse(TOOLS_FORBIDDEN, status_code=403)
        # the followers' lag is read from the databases: off the loop
        body = await to_thread.run_sync(generate_latest)
        return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)

    # innermost: uploads' own refusals, and each request's latency and status
    app.add_middleware(
        UploadGuardAndMeasure,
        services=lambda: app.state.services,
        max_request=max_request,
        max_upload_mb=settings.max_upload_mb,
    )

    app.add_middleware(
        RequestGuard,
        path="/graphql",
        max_request_mb=settings.genai_max_request_mb,
        max_upload_mb=settings.max_upload_mb,
    )

    # each request's id (X-Request-ID) in its log lines, its response and its span
    app.add_middleware(RequestIds)

    async def listed(origin: str) -> bool:
        services = getattr(app.state, "services", None)
        if services is None:
            return False
        return bool(await to_thread.run_sync(services.accounts.api_tokens.origin_listed, origin))

    # outermost: a request for a host this server is not gets nothing else
    app.add_middleware(
        OriginGuard,
        hosts=settings.genai_allowed_hosts,
        origins=settings.genai_allowed_origins,
        listed=listed,
    )

    @app.get("/embed.js", include_in_schema=False)
    def embed_script() -> Response:
        """The embedded chat (frontend/embed/), for any site's pages: a fixed name, so it is
        cached briefly and revalidated (ETag) rather than for good."""
        script = SPA_DIR / "embed.js"
        if not script.is_file():
            return PlainTextResponse(
                "// the embedded chat is not built: npm --prefix frontend run build\n",
                status_code=404,
                media_type="text/javascript",
            )
        return FileResponse(
            script,
            media_type="text/javascript; charset=utf-8",
            headers={
                "cache-control": "public, max-age=300, must-revalidate",
                "cross-origin-resource-policy": "cross-origin",
            },
        )

    _mount_spa(app)
    return app


async def _may_use_tools(request: Request, public: bool) -> bool:
    """`may_use_tools` for an HTTP request, whose principal is its bearer's."""
    if may_use_tools(request, public):
        return True
    services = request.app.state.services
    principal = await principal_of(
        services.accounts.principals, request.headers.get("authorization")
    )
    administers = services.accounts.workspaces.administers
    return bool(await to_thread.run_sync(administers, principal))


def _route(path: str) -> str:
    """A path as a bounded label (metrics) and span name."""
    return path if path in MEASURED_PATHS else "other"


def _announce(message: str) -> None:
    """To the console of whoever started the server, never to the logs: it holds a secret."""
    print(message, file=sys.stderr, flush=True)


class UploadGuardAndMeasure:
    """ASGI middleware (HTTP): refuses an upload that a browser form could send cross-site
    (without a header only a script sets), one that says it is too large, and one past its
    sender's rate limit, before its body is read; and measures every other request's
    latency (to its response's start) and status. Plain ASGI: Starlette's
    `BaseHTTPMiddleware` ran each request as a task of its own with streams between, a
    sixth of the CPU of a chat's `sendMessage`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        services: Callable[[], Services],
        max_request: int,
        max_upload_mb: int,
    ) -> None:
        self.app, self.services = app, services
        self.max_request, self.max_upload_mb = max_request, max_upload_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # as Starlette's request.url.path has it
        path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
        method = scope["method"]
        if path.startswith("/graphql"):
            refusal = await self._refusal(scope, Headers(scope=scope), method)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        started = time.perf_counter()
        label = _route(path)

        async def measured(message: Message) -> None:
            if message["type"] == "http.response.start":
                LATENCY.labels(method, label).observe(time.perf_counter() - started)
                REQUESTS.labels(method, label, str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, measured)

    async def _refusal(self, scope: Scope, headers: Headers, method: str) -> Response | None:
        upload = method == "POST" and "multipart/form-data" in headers.get("content-type", "")
        # Uploads are multipart forms, which a browser may post cross-site: demand a header
        # that only a script can set (CSRF, CVE-2024-47082).
        if upload and not headers.get("apollo-require-preflight"):
            return _refusal(
                "uploads need the header Apollo-Require-Preflight: true", "BAD_USER_INPUT", 400
            )
        # An upload that says it is too large is refused before its body is read; one that
        # does not say is cut off by the blob store as it streams past the limit.
        if _declared_length(headers) > self.max_request:
            return _refusal(
                f"the file is larger than {self.max_upload_mb} MB", "PAYLOAD_TOO_LARGE", 413
            )
        if upload:
            client = scope.get("client")
            return await _upload_refused(
                self.services(), headers.get("authorization"), client[0] if client else None
            )
        return None


def _refusal(message: str, code: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


async def _upload_refused(
    services: Services, authorization: str | None, host: str | None
) -> Response | None:
    """An upload past its sender's rate limit, refused before its body is read: 429 with
    Retry-After (interfaces/limits.py)."""
    principal = await principal_of(services.accounts.principals, authorization)
    try:
        if services.limits.shared:
            await to_thread.run_sync(services.limits.upload, principal, host)
        else:
            services.limits.upload(principal, host)
    except RateLimited as refused:
        return error_response(refused)
    return None


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length") or 0)
    except ValueError:
        return 0


async def drain(app: FastAPI, grace_seconds: float) -> None:
    """The first step of a graceful shutdown (SIGTERM, see `genai-stack serve`): /readyz
    answers 503 from now on, so the load balancer sends new work to other replicas; no new
    answer starts here, and those being streamed may finish within `grace_seconds`. Then
    the server closes its WebSockets with 1012 (Service Restart: clients reconnect, to
    another replica) and the lifespan's end fails what is left, as at any stop."""
    app.state.draining = True
    services = getattr(app.state, "services", None)
    if services is None:
        return
    if not await services.answering.drain(grace_seconds):
        log.warning("answers still running after %ss: failed as interrupted", grace_seconds)
    if services.feed is not None:  # the answers just stored reach their subscribers
        last = await to_thread.run_sync(services.event_log.max_notification_id)
        await to_thread.run_sync(services.feed.wait_caught_up, last, 10.0)


def _mount_spa(app: FastAPI) -> None:
    """Serves the built SPA, with index.html for client-side routes."""
    if not (SPA_DIR / "index.html").exists():

        @app.get("/", include_in_schema=False)
        def no_spa() -> PlainTextResponse:
            return PlainTextResponse(
                "GenAI Stack API is running. The web app is not built: run `make run`, "
                "or open /graphql for GraphiQL."
            )

        return
    if (SPA_DIR / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=SPA_DIR / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> FileResponse:
        file = (SPA_DIR / path).resolve()
        if path and file.is_file() and SPA_DIR in file.parents:
            return FileResponse(file)
        return FileResponse(SPA_DIR / "index.html")
