"""Embedders: a local all-MiniLM-L6-v2, OpenAI (and compatible servers), Gemini.

Importing this package is cheap: torch and the provider SDKs are imported when an
embedder is first made or used, not before.
"""

from infrastructure.embedders.factory import DefaultEmbedderFactory

__all__ = ["DefaultEmbedderFactory"]
