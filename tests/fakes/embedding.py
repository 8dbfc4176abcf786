"""The fakes' embedding: a hashed bag of words, so that texts sharing words are close.

`hashed_embedding(text, dim)` lower-cases the text, takes its words (runs of letters and
digits), and adds +1 or -1 (a second hash decides the sign) at index `blake2b(word) % dim`
for each occurrence; the vector is then scaled to unit length. Identical texts give
identical vectors, texts with words in common have a positive cosine, and texts with none
are near orthogonal. A text without words maps to the unit vector on axis 0, never to zero.
Both the OpenAI and the Gemini fakes answer with exactly this function, so a test can
compute the vector it expects.
"""

from __future__ import annotations

import hashlib
import math
import re

_WORD = re.compile(r"[a-z0-9]+")


def hashed_embedding(text: str, dim: int) -> list[float]:
    if dim < 1:
        raise ValueError("dim must be at least 1")
    vector = [0.0] * dim
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dim
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [x / norm for x in vector]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
