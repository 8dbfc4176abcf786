"""Where keys may go. A node's own key goes to the address it was entered for; the server's
key for a provider goes only to that provider's own address, or to an address an admin
allows for it. A node with an address of its own and no key of its own gets no server key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from domain.components import CHOICE_NAMES
from domain.node_settings import WEB_SEARCH, ProviderAccess

_DEFAULT_PORTS = {"http": 80, "https": 443}


def same_address(url: str) -> str:
    """`url` as compared with an allowed address: scheme and host in lower case, the
    scheme's default port left out, no trailing slash."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class KeyPolicy:
    """`server_keys`: the providers this server holds a key for. `addresses`: for each, the
    base URLs (besides its own, which a node names by giving none) the server's key may go to."""

    server_keys: frozenset[str] = frozenset()
    addresses: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, server_keys: Iterable[str], addresses: Mapping[str, Iterable[str]] | None = None
    ) -> KeyPolicy:
        allowed = {
            provider: frozenset(same_address(url) for url in urls)
            for provider, urls in (addresses or {}).items()
        }
        return cls(frozenset(server_keys), allowed)

    def sends_server_key(self, access: ProviderAccess) -> bool:
        """Whether a request for `access` without a key of its own carries the server's."""
        if access.provider not in self.server_keys:
            return False
        if access.base_url is None:
            return True
        return same_address(access.base_url) in self.addresses.get(access.provider, frozenset())

    def key_problem(self, access: ProviderAccess) -> str | None:
        """What a node must do before `access` can be used, in words; None when nothing."""
        if access.key_cleared:
            return "enter the API key again for the new address"
        if access.key_ref or access.keyless_ok or self.sends_server_key(access):
            return None
        if access.provider == WEB_SEARCH:
            return "web search needs an API key"
        wanted = _key_of(access.provider)
        if access.base_url and access.provider in self.server_keys:
            name = CHOICE_NAMES.get(access.provider, access.provider)
            return f"give {wanted} for its base URL; the server's key goes only to {name} itself"
        return f"give {wanted}"


def _key_of(provider: str) -> str:
    """ "an OpenAI API key", "a Gemini API key": the provider's own name, with its article."""
    name = CHOICE_NAMES.get(provider, provider)
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} API key"


NO_SERVER_KEYS = KeyPolicy()
