"""Access tokens: short-lived JWTs (HS256) signed with a key of this server.

The key is, in order: `GENAI_JWT_KEY`; derived from `GENAI_SECRET_KEY` (so every process of
a deployment, sharing that key, accepts the others' tokens); or generated once beside the
data (mode 0600), for a single process.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from infrastructure.secret_keys import create_key_once

ALGORITHM = "HS256"
ISSUER = "genai-stack"


def signing_key(jwt_key: str | None, secret_key: str | None, data_dir: Path) -> bytes:
    if jwt_key:
        return jwt_key.encode()
    if secret_key:
        hkdf = HKDF(hashes.SHA256(), 32, salt=None, info=b"genai-stack access tokens")
        newest = secret_key.replace(",", " ").split()[0]  # unchanged by a rotation in progress
        return hkdf.derive(newest.encode())
    path = data_dir / "jwt.key"
    create_key_once(path)
    return path.read_bytes().strip()


class JwtAccessTokens:
    def __init__(self, key: bytes, minutes: float = 15) -> None:
        self.key, self.lifetime = key, timedelta(minutes=minutes)

    def issue(self, user_id: str, now: datetime) -> tuple[str, datetime]:
        expires = now + self.lifetime
        claims = {"sub": user_id, "iat": now, "exp": expires, "iss": ISSUER, "typ": "access"}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM), expires

    def subject(self, token: str) -> str | None:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
            return None
        return str(claims["sub"])
