"""The embedder a knowledge base's settings ask for, with its key resolved."""

from __future__ import annotations

from collections.abc import Mapping

from application.ports import Embedder, EmbedderFactory, EmbedderSpec, ProviderError, SecretStore
from domain.knowledge_base import IndexSettings


class Embedders:
    """The embedder that a knowledge base's settings ask for, with its key resolved: the
    node's own (a secret reference) or else the server's key for that provider."""

    def __init__(
        self, factory: EmbedderFactory, secrets: SecretStore, server_keys: Mapping[str, str]
    ) -> None:
        self.factory, self.secrets, self.server_keys = factory, secrets, server_keys

    def for_settings(self, settings: IndexSettings) -> Embedder:
        """Raises ProviderError, with a reason a person can act on, when none can be made."""
        key = None
        if settings.api_key_ref:
            try:
                key = self.secrets.get(settings.api_key_ref)
            except KeyError:
                raise ProviderError(
                    "The knowledge base's API key is no longer stored: enter it again."
                ) from None
        spec = EmbedderSpec(
            embedder=settings.embedder,
            model=settings.model,
            api_key=key or self.server_keys.get(settings.embedder),
            base_url=settings.base_url,
        )
        try:
            return self.factory.for_spec(spec)
        except ValueError as e:  # an embedder or model this server does not have
            raise ProviderError(str(e)) from None
