"""A real OpenID Connect provider on loopback (the `oidc-provider` npm package, run by
tests/oidc/provider.mjs), our app served by uvicorn on a real port, and a browser (httpx)
that walks the sign-in's redirects between the two."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import uvicorn
from fastapi import FastAPI

from infrastructure.settings import Settings
from interfaces.app import create_app

PROJECT = Path(__file__).resolve().parents[1] / "oidc"
CLIENT_ID = "genai-stack"
CLIENT_SECRET = "a test client's secret, never to be seen"


def install() -> None:
    """`npm ci` when the provider's packages are missing (a clean checkout)."""
    if not (PROJECT / "node_modules" / ".package-lock.json").is_file():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROJECT,
            check=True,
        )


class Provider:
    """The provider process: `issuer`, and `set(...)` for its accounts, who signs in next,
    and the ways it may misbehave (see provider.mjs)."""

    def __init__(self, process: subprocess.Popen[str], issuer: str) -> None:
        self.process, self.issuer = process, issuer
        self.accounts: dict[str, dict[str, Any]] = {}

    def set(self, **state: Any) -> None:
        httpx.put(f"{self.issuer}/_test/state", json=state, timeout=10).raise_for_status()

    def account(
        self, subject: str, email: str | None, *, verified: bool = True, name: str = ""
    ) -> None:
        """Adds an account (keeping the others) and makes it the one that signs in next."""
        claims: dict[str, Any] = {"name": name}
        if email is not None:
            claims |= {"email": email, "email_verified": verified}
        self.accounts[subject] = claims
        self.set(accounts=self.accounts, login=subject)


@contextmanager
def provider(redirect_uri: str, log_dir: Path) -> Iterator[Provider]:
    install()
    log_path = log_dir / "oidc-provider.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["node", str(PROJECT / "provider.mjs"), _config(redirect_uri)],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the first line it prints: `listening <issuer>`
        if not line.startswith("listening "):
            raise RuntimeError(f"the OIDC provider did not start: see {log_path}")
        issuer = line.split()[1]
        _wait_for(lambda: _answers(f"{issuer}/.well-known/openid-configuration"), process)
        yield Provider(process, issuer)
    finally:
        process.terminate()
        process.wait(10)


def _config(redirect_uri: str) -> str:
    return json.dumps(
        {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "redirectUris": [redirect_uri]}
    )


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if process.poll() is not None:
            raise RuntimeError("the process exited while the test waited for it")
        if time.monotonic() > deadline:
            raise TimeoutError("the process did not become ready")
        time.sleep(0.05)  # polling interval while waiting for the condition above


@dataclass
class Served:
    """Our app on a real port of loopback."""

    base: str
    app: FastAPI

    @property
    def accounts(self) -> Any:
        return self.app.state.services.accounts

    @property
    def services(self) -> Any:
        return self.app.state.services


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve_app(settings: Settings, sock: socket.socket) -> Iterator[Served]:
    """Serves the app on `sock` (bound already, so the provider could be told its address)."""
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    try:
        deadline = time.monotonic() + 90
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the app stopped before it served")
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not start")
            time.sleep(0.05)  # polling interval while waiting for the condition above
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@dataclass
class Outcome:
    """Where a sign-in ended: back on the web app, signed in or with an error message."""

    location: str
    browser: httpx.Client
    hops: list[str] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        """The reason the web app is given (in a cookie it reads), when sign-in failed."""
        found = self.browser.cookies.get("genai_sign_in_error")
        return unquote(found) if found else None

    def access_token(self) -> str:
        """The access token the web app takes with the refresh cookie, as after a sign-in."""
        response = self.browser.post(self.location.split("?")[0].rstrip("/") + "/auth/refresh")
        assert response.status_code == 200, response.text
        return str(response.json()["accessToken"])


def walk(
    app_base: str,
    browser: httpx.Client | None = None,
    edit: Callable[[str], str] = lambda url: url,
) -> Outcome:
    """A browser's way from the sign-in button to the web app: every redirect followed,
    each URL first passed through `edit` (how a test tampers with one)."""
    browser = browser or httpx.Client(timeout=10)
    url, hops = edit(f"{app_base}/auth/oidc/start"), []
    for _ in range(20):
        hops.append(url)
        response = browser.get(url)
        if not response.is_redirect:
            raise AssertionError(f"{url} answered {response.status_code}: {response.text[:500]}")
        url = str(response.url.join(response.headers["location"]))
        if url.startswith(app_base) and urlsplit(url).path == "/":
            return Outcome(url, browser, hops)
        url = edit(url)
    raise AssertionError(f"too many redirects: {hops}")
