"""Sign-in over HTTP: /auth/sign-in, /auth/refresh, /auth/sign-out, /auth/password,
/auth/session, /auth/oidc/start and /auth/oidc/callback (single sign-on), and /setup (the
first admin). Errors have the GraphQL errors' shape, with the contract's codes; single
sign-on, which the browser walks through by redirects, ends on the web app either way; when it
failed, with the reason in a one-minute cookie the web app reads and deletes (a cookie, not
the address: no other site can put words on our sign-in page).

The refresh token travels only in an HttpOnly, SameSite=Strict cookie scoped to /auth: a
script cannot read it and another site cannot make the browser send it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from application.account.handlers import Accounts
from application.account.views import SignedIn, UserView
from application.errors import RateLimited, Unauthenticated, code_of
from domain.errors import InvalidCommand
from interfaces.principal import principal_of

REFRESH_COOKIE = "genai_refresh"
COOKIE_PATH = "/auth"
# one single sign-on under way: SameSite=Lax, for the provider sends the browser back here
FLOW_COOKIE = "genai_oidc"
FLOW_PATH = "/auth/oidc"
FLOW_SECONDS = 600
CALLBACK = "/auth/oidc/callback"
MAX_CALLBACK_PARAM = 4096
ERROR_COOKIE = "genai_sign_in_error"
MAX_BODY = 16 * 1024

log = structlog.get_logger(__name__)

T = TypeVar("T")

# the HTTP status of each contract code these routes answer with (the codes: application.errors)
_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "RATE_LIMITED": 429,
    "BAD_USER_INPUT": 400,
}


class BadRequest(InvalidCommand):
    """A body that is not the JSON object asked for."""


def error_response(error: Exception) -> JSONResponse:
    code = code_of(error)
    if code not in _STATUS:
        raise error
    extensions: dict[str, Any] = {"code": code}
    headers = {}
    if isinstance(error, RateLimited):
        extensions["retryAfter"] = error.retry_after
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(
        {"errors": [{"message": str(error), "extensions": extensions}]},
        status_code=_STATUS[code],
        headers=headers,
    )


def auth_router(
    accounts_of: Callable[[Request], Accounts],
    *,
    secure_cookies: bool = False,
    public_url: str | None = None,
) -> APIRouter:
    """`secure_cookies`: the refresh cookie only over HTTPS (behind a proxy that ends TLS).
    `public_url`: the address browsers reach this server at (the single sign-on callback is
    registered at the provider under it); absent, the address of each request."""
    router = APIRouter(include_in_schema=False)

    def callback_url(request: Request) -> str:
        base = public_url.rstrip("/") if public_url else str(request.base_url).rstrip("/")
        return base + CALLBACK

    async def call(fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args)

    def set_refresh_cookie(request: Request, response: Response, result: SignedIn) -> None:
        response.set_cookie(
            REFRESH_COOKIE,
            result.refresh_token,
            max_age=int((result.refresh_expires_at - datetime.now(UTC)).total_seconds()),
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https" or secure_cookies,
        )

    def signed_in(request: Request, result: SignedIn) -> JSONResponse:
        response = JSONResponse(_session_body(result))
        set_refresh_cookie(request, response, result)
        return response

    @router.get("/auth/session")
    async def session(request: Request) -> JSONResponse:
        """What the web app needs before it shows anything: must it ask to sign in?"""
        accounts = accounts_of(request)
        principal = await principal_of(accounts.principals, request.headers.get("authorization"))
        sso = accounts.single_sign_on
        return JSONResponse(
            {
                "signInRequired": accounts.principals.sign_in_required,
                "signedIn": principal is not None,
                "setupRequired": accounts.principals.sign_in_required
                and await call(accounts.first_admin.needed),
                # the provider to offer beside the password, when one is configured
                "singleSignOn": {"name": sso.name, "url": "/auth/oidc/start"} if sso else None,
            }
        )

    @router.get("/auth/oidc/start")
    async def oidc_start(request: Request) -> Response:
        """Sends the browser to the provider, with this sign-in's state in a cookie."""
        sso = accounts_of(request).single_sign_on
        if sso is None:
            return sign_on_failed("single sign-on is not configured on this server")
        try:
            start = await call(sso.begin, callback_url(request))
        except Unauthenticated as error:
            return sign_on_failed(str(error))
        except Exception as error:
            # no traceback: its frames hold the flow's secrets
            log.error("single sign-on could not start", error=_summary(error))
            return sign_on_failed("the sign-in provider cannot be used right now")
        response = RedirectResponse(start.url, status_code=303)
        response.set_cookie(
            FLOW_COOKIE,
            start.flow,
            max_age=FLOW_SECONDS,
            path=FLOW_PATH,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https" or secure_cookies,
        )
        return response

    @router.get(CALLBACK)
    async def oidc_callback(request: Request) -> Response:
        """Where the provider sends the browser back: a session as a password sign-in
        gives, then the web app (which takes its access token with the refresh cookie)."""
        sso = accounts_of(request).single_sign_on
        if sso is None:
            return sign_on_failed("single sign-on is not configured on this server")
        params = {
            k: v[:MAX_CALLBACK_PARAM]
            for k, v in request.query_params.items()
            if k in ("code", "state", "error", "error_description", "iss")
        }
        client = request.client.host if request.client else "unknown"
        try:
            result = await call(
                sso.finish, request.cookies.get(FLOW_COOKIE), params, callback_url(request), client
            )
        except (Unauthenticated, RateLimited) as error:
            return sign_on_failed(str(error))
        except Exception as error:
            log.error("single sign-on could not finish", error=_summary(error))
            return sign_on_failed("the sign-in could not be finished: try again")
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
        response.delete_cookie(ERROR_COOKIE)
        set_refresh_cookie(request, response, result)
        return response

    @router.post("/auth/sign-in")
    async def sign_in(request: Request) -> Response:
        try:
            body = await _json_body(request, "email", "password")
            client = request.client.host if request.client else "unknown"
            result = await call(
                accounts_of(request).sessions.sign_in, body["email"], body["password"], client
            )
        except Exception as error:
            return error_response(error)
        return signed_in(request, result)

    @router.post("/auth/refresh")
    async def refresh(request: Request) -> Response:
        try:
            result = await call(
                accounts_of(request).sessions.refresh, request.cookies.get(REFRESH_COOKIE)
            )
        except Exception as error:
            response = error_response(error)
            response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH)
            return response
        return signed_in(request, result)

    @router.post("/auth/sign-out")
    async def sign_out(request: Request) -> Response:
        await call(accounts_of(request).sessions.sign_out, request.cookies.get(REFRESH_COOKIE))
        response = Response(status_code=204)
        response.delete_cookie(REFRESH_COOKIE, path=COOKIE_PATH)
        return response

    @router.post("/auth/password")
    async def change_password(request: Request) -> Response:
        accounts = accounts_of(request)
        try:
            principal = await principal_of(
                accounts.principals, request.headers.get("authorization")
            )
            if principal is None or principal.user_id is None or principal.local:
                raise Unauthenticated("sign in first")
            body = await _json_body(request, "currentPassword", "newPassword")
            await call(
                accounts.sessions.change_password,
                principal.user_id,
                body["currentPassword"],
                body["newPassword"],
                request.cookies.get(REFRESH_COOKIE),
            )
        except Exception as error:
            return error_response(error)
        return Response(status_code=204)

    @router.get("/setup")
    async def setup_page(request: Request, token: str = "") -> HTMLResponse:
        return HTMLResponse(_SETUP_PAGE.format(token=html.escape(token, quote=True)))

    @router.post("/setup")
    async def setup(request: Request) -> Response:
        try:
            form = request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            )
            if form:
                data = await request.form()
                body = {k: data.get(k) for k in ("token", "email", "password", "name")}
                if not all(isinstance(body[k], str) for k in ("token", "email", "password")):
                    raise BadRequest("token, email and password are required")
            else:
                body = await _json_body(request, "token", "email", "password")
            user = await call(
                accounts_of(request).first_admin.create,
                body["token"],
                body["email"],
                body["password"],
                str(body.get("name") or ""),
            )
        except Exception as error:
            return error_response(error)
        if form:
            return HTMLResponse(_SETUP_DONE)
        return JSONResponse({"user": _user_body(user)}, status_code=201)

    return router


def _summary(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"


def sign_on_failed(message: str) -> Response:
    """Back to the web app's sign-in page, which shows why."""
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    # read by the web app's script (so not HttpOnly); the words are ours, percent-encoded
    response.set_cookie(ERROR_COOKIE, quote(message, safe=""), max_age=60, samesite="lax")
    return response


async def _json_body(request: Request, *required: str) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadRequest("the request body is too large")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    missing = [k for k in required if not isinstance(body.get(k), str)]
    if missing:
        raise BadRequest(f"{', '.join(missing)} must be given as strings")
    return body


def _user_body(user: UserView) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "admin": user.admin,
        "local": user.local,
    }


def _session_body(result: SignedIn) -> dict[str, Any]:
    return {
        "accessToken": result.access_token,
        "tokenType": "Bearer",
        "expiresAt": result.access_expires_at.isoformat(),
        "user": _user_body(result.user),
    }


_SETUP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GenAI Stack: first admin</title></head>
<body><main><h1>Create the first admin</h1>
<form method="post" action="/setup">
<input type="hidden" name="token" value="{token}">
<p><label>Email <input name="email" type="email" required autocomplete="username"></label></p>
<p><label>Name <input name="name" autocomplete="name"></label></p>
<p><label>Password <input name="password" type="password" minlength="10" required
 autocomplete="new-password"></label></p>
<p><button type="submit">Create</button></p>
</form></main></body></html>
"""

_SETUP_DONE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GenAI Stack</title></head>
<body><main><h1>Done</h1><p>The first admin exists. <a href="/">Sign in</a>.</p></main></body></html>
"""
