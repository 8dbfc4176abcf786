"""Where the server's own requests may go: the address a connection is opened to is the
address that was checked."""

from __future__ import annotations

import ipaddress

import httpcore
import pytest

from infrastructure.outbound import (
    AddressRefused,
    OutboundRules,
    _SyncGuard,
    guarded_transport,
    refused_in,
)

STRICT = OutboundRules()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "on this machine (loopback)"),
        ("::1", "on this machine (loopback)"),
        ("0.0.0.0", "on this machine (loopback)"),
        ("::ffff:127.0.0.1", "on this machine (loopback)"),
        ("10.1.2.3", "private or link-local"),
        ("192.168.0.10", "private or link-local"),
        ("169.254.169.254", "private or link-local"),
        ("100.64.0.1", "private or link-local"),
        ("fe80::1", "private or link-local"),
        ("fd00::1", "private or link-local"),
        ("224.0.0.1", "not a unicast address"),
    ],
)
def test_non_public_addresses_are_refused_by_default(address: str, reason: str) -> None:
    assert STRICT.refusal(ipaddress.ip_address(address)) == reason


def test_public_addresses_are_allowed() -> None:
    assert STRICT.refusal(ipaddress.ip_address("8.8.8.8")) is None
    assert STRICT.refusal(ipaddress.ip_address("2606:4700::1111")) is None


def test_an_admin_allows_loopback_private_ranges_or_single_addresses() -> None:
    assert (
        OutboundRules.of(loopback=True, private=False).refusal(ipaddress.ip_address("::1")) is None
    )
    private = OutboundRules.of(loopback=False, private=True)
    assert private.refusal(ipaddress.ip_address("10.1.2.3")) is None
    assert private.refusal(ipaddress.ip_address("127.0.0.1")) is not None  # still not loopback
    one = OutboundRules.of(loopback=False, private=False, allow=["192.168.1.20", "10.8.0.0/16"])
    assert one.refusal(ipaddress.ip_address("192.168.1.20")) is None
    assert one.refusal(ipaddress.ip_address("10.8.4.4")) is None
    assert one.refusal(ipaddress.ip_address("192.168.1.21")) is not None


class Recorder:
    """A network backend that records where it was asked to connect, and connects nowhere."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    def connect_tcp(self, host: str, port: int, **options: object) -> str:
        self.hosts.append(host)
        return f"stream to {host}:{port}"


def test_the_connection_goes_to_the_checked_address_not_to_the_name_again() -> None:
    inner = Recorder()
    guard = _SyncGuard(inner, OutboundRules.of(loopback=True, private=False), httpcore.ConnectError)
    guard.connect_tcp("localhost", 8080)
    assert inner.hosts and all(ipaddress.ip_address(h).is_loopback for h in inner.hosts[:1])


def test_a_refused_name_opens_no_connection_and_says_why() -> None:
    inner = Recorder()
    guard = _SyncGuard(inner, STRICT, httpcore.ConnectError)
    with pytest.raises(httpcore.ConnectError) as refused:
        guard.connect_tcp("localhost", 8080)
    assert inner.hosts == []
    assert isinstance(refused_in(refused.value), AddressRefused)
    assert "the address localhost is on this machine (loopback)" in str(refused.value)


def test_the_guard_sits_in_the_transports_that_the_clients_use() -> None:
    import httpx

    transport = guarded_transport("httpx", STRICT, sync=True)
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError) as e:
        client.get("http://169.254.169.254/latest/meta-data/")
    assert "private or link-local" in str(e.value)
    assert isinstance(refused_in(e.value), AddressRefused)
