"""Where the server's own HTTP requests (LLM providers, embedders, web search) may go.

A node chooses the address its requests go to, so without a rule anyone who can edit a
stack could make the server call its own loopback services, the cloud's metadata address
(169.254.169.254) or the private network behind it. The rule is checked on the address a
connection is actually opened to, after DNS resolution, so that a name that resolves to a
private address (or changes what it resolves to between a check and the request) cannot
slip through: the connection then goes to exactly the address that was checked.

The HTTP clients are httpx (web search) and its fork httpx2 (the OpenAI and Gemini SDKs);
both open connections through an httpcore network backend, which is what is guarded here.
"""

from __future__ import annotations

import importlib
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import anyio

# Each provider's own address: the server's key for it may always go there.
PROVIDER_ADDRESSES = {
    "openai": "https://api.openai.com/v1",
    "gemini": "https://generativelanguage.googleapis.com",
}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(Exception):
    """A request was about to go to an address the rules refuse; the message says which
    kind of address and how an admin may allow it."""


@dataclass(frozen=True)
class OutboundRules:
    loopback: bool = False  # this machine (127.0.0.0/8, ::1)
    private: bool = False  # private, link-local, shared and other non-public addresses
    allow: tuple[IPNetwork, ...] = ()  # allowed whatever the two above say

    @classmethod
    def of(cls, *, loopback: bool, private: bool, allow: Iterable[str] = ()) -> OutboundRules:
        return cls(loopback, private, tuple(ipaddress.ip_network(a, strict=False) for a in allow))

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to `address` is refused, or None when it may be opened."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allow):
            return None
        if address.is_loopback or address.is_unspecified:  # 0.0.0.0 reaches this machine
            return None if self.loopback else "on this machine (loopback)"
        if address.is_multicast or address.is_reserved:
            return "not a unicast address"
        if not address.is_global:
            return None if self.private else "private or link-local"
        return None

    def checked(self, host: str, addresses: Iterable[str]) -> list[str]:
        """Those of `host`'s resolved `addresses` a connection may be opened to; raises
        AddressRefused when there is none."""
        allowed, reasons = [], []
        for text in dict.fromkeys(addresses):
            reason = self.refusal(ipaddress.ip_address(text.split("%", 1)[0]))
            if reason is None:
                allowed.append(text)
            else:
                reasons.append(reason)
        if not allowed:
            raise AddressRefused(
                f"the address {host} is {reasons[0] if reasons else 'unknown'}: this server "
                "does not send requests there (an admin may allow it: GENAI_OUTBOUND_LOOPBACK, "
                "GENAI_OUTBOUND_PRIVATE, GENAI_OUTBOUND_ALLOW)"
            )
        return allowed


def refused_in(exc: BaseException | None) -> AddressRefused | None:
    """The refusal behind an HTTP library's or an SDK's connection error, if one is."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, AddressRefused):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


class _Guard:
    """An httpcore network backend that opens TCP connections only to addresses the rules
    allow: it resolves the host itself and connects to an address it checked."""

    def __init__(self, inner: Any, rules: OutboundRules, connect_error: type[Exception]) -> None:
        self._inner, self._rules, self._error = inner, rules, connect_error

    def _allowed(self, host: str, found: Iterable[Any]) -> list[str]:
        try:
            return self._rules.checked(host, (str(info[4][0]) for info in found))
        except AddressRefused as refused:
            raise self._error(str(refused)) from refused

    def _unresolved(self, host: str) -> Exception:
        return self._error(f"cannot resolve {host}")

    def _no_socket(self) -> Exception:
        return self._error("connections to local sockets are not made")


class _AsyncGuard(_Guard):
    async def connect_tcp(self, host: str, port: int, **options: Any) -> Any:
        try:
            found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise self._unresolved(host) from e
        failed: Exception | None = None
        for address in self._allowed(host, found):
            try:
                return await self._inner.connect_tcp(address, port, **options)
            except Exception as e:  # noqa: BLE001  the host's next address may answer
                failed = e
        raise failed or self._unresolved(host)

    async def connect_unix_socket(self, path: str, **options: Any) -> Any:
        raise self._no_socket()

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _SyncGuard(_Guard):
    """For the synchronous clients: the embedders run in worker threads."""

    def connect_tcp(self, host: str, port: int, **options: Any) -> Any:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise self._unresolved(host) from e
        failed: Exception | None = None
        for address in self._allowed(host, found):
            try:
                return self._inner.connect_tcp(address, port, **options)
            except Exception as e:  # noqa: BLE001  the host's next address may answer
                failed = e
        raise failed or self._unresolved(host)

    def connect_unix_socket(self, path: str, **options: Any) -> Any:
        raise self._no_socket()

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_transport(
    library: str, rules: OutboundRules, *, sync: bool = False, **options: Any
) -> Any:
    """An `httpx` or `httpx2` transport (async unless `sync`) whose connections obey `rules`.
    `options` go to the transport (limits, verify…)."""
    httpx = importlib.import_module(library)
    httpcore = importlib.import_module({"httpx": "httpcore", "httpx2": "httpcore2"}[library])
    transport = (httpx.HTTPTransport if sync else httpx.AsyncHTTPTransport)(**options)
    # The transport builds its connection pool without a way to pass a network backend;
    # the pool reads this attribute on each new connection (pinned versions, tested).
    pool = transport._pool
    guard = _SyncGuard if sync else _AsyncGuard
    pool._network_backend = guard(pool._network_backend, rules, httpcore.ConnectError)
    return transport


def sdk_transport(
    rules: OutboundRules | None, *, sync: bool = False, **options: Any
) -> dict[str, Any]:
    """The keyword arguments that give an SDK's httpx2 client a guarded transport: `{}` when
    there are no rules (the SDK's own transport)."""
    if rules is None:
        return {}
    return {"transport": guarded_transport("httpx2", rules, sync=sync, **options)}
