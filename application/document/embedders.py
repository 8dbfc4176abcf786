"""The embedder a knowledge base's settings ask for, with its key resolved."""

from __future__ import annotations

from application.keys import KeyUnavailable, NodeKeys
from application.ports import Embedder, EmbedderFactory, EmbedderSpec, ProviderError
from domain.knowledge_base import IndexSettings
from domain.node_settings import LOCAL_EMBEDDER, ProviderAccess


class Embedders:
    """The embedder that a knowledge base's settings ask for, with its key resolved (see
    application.keys: the node's own, else the server's where it may go)."""

    def __init__(self, factory: EmbedderFactory, keys: NodeKeys) -> None:
        self.factory, self.keys = factory, keys

    def for_settings(self, settings: IndexSettings) -> Embedder:
        """Raises ProviderError, with a reason a person can act on, when none can be made."""
        key = None
        if settings.embedder != LOCAL_EMBEDDER:
            access = ProviderAccess(settings.embedder, settings.base_url, settings.api_key_ref)
            try:
                key = self.keys.key_for("The knowledge base", access)
            except KeyUnavailable as e:
                raise ProviderError(f"{e}.") from None
        spec = EmbedderSpec(
            embedder=settings.embedder,
            model=settings.model,
            api_key=key,
            base_url=settings.base_url,
        )
        try:
            return self.factory.for_spec(spec)
        except ValueError as e:  # an embedder or model this server does not have
            raise ProviderError(str(e)) from None
