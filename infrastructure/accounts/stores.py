"""Credentials in the read database: emails and password hashes, the accounts of single
sign-on providers linked to users, and refresh, API and setup tokens, each stored only as the
SHA-256 of the token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, and_, delete, func, insert, null, select, update
from sqlalchemy.exc import IntegrityError

from application.account.ports import ApiTokenRecord, Credentials, RefreshRecord
from infrastructure.accounts.tables import (
    api_tokens,
    credentials,
    identities,
    refresh_tokens,
    setup_tokens,
)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite gives back times without their zone; they were stored in UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlCredentialStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def claim(self, user_id: UUID, email: str, password_hash: str, now: datetime) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(credentials).values(
                        user_id=user_id, email=email, password_hash=password_hash, created_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    def release(self, user_id: UUID) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(credentials).where(credentials.c.user_id == user_id))

    def by_email(self, email: str) -> Credentials | None:
        return self._one(credentials.c.email == email)

    def by_id(self, user_id: UUID) -> Credentials | None:
        return self._one(credentials.c.user_id == user_id)

    def _one(self, where: Any) -> Credentials | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(credentials).where(where)).first()
        return Credentials(row.user_id, row.email, row.password_hash) if row else None

    def set_password(self, user_id: UUID, password_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(credentials)
                .where(credentials.c.user_id == user_id)
                .values(password_hash=password_hash)
            )

    def emails(self, user_ids: list[str]) -> dict[str, str]:
        ids = []
        for user_id in user_ids:
            try:
                ids.append(UUID(user_id))
            except ValueError:
                continue  # the local owner has no email
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(credentials.c.user_id, credentials.c.email).where(
                    credentials.c.user_id.in_(ids)
                )
            ).all()
        return {str(row.user_id): row.email for row in rows}

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(credentials)).scalar() or 0)


class SqlIdentityStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def user_of(self, issuer: str, subject: str) -> UUID | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(identities.c.user_id).where(
                    identities.c.issuer == issuer, identities.c.subject == subject
                )
            ).scalar()

    def link(self, issuer: str, subject: str, user_id: UUID, now: datetime) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(identities).values(
                        issuer=issuer, subject=subject, user_id=user_id, created_at=now
                    )
                )
        except IntegrityError:
            return False
        return True

    def unlink(self, issuer: str, subject: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(identities).where(
                    identities.c.issuer == issuer, identities.c.subject == subject
                )
            )


class SqlRefreshTokenStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, token_hash: str, family: UUID, user_id: UUID, expires_at: datetime, now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(refresh_tokens).values(
                    token_hash=token_hash,
                    family=family,
                    user_id=user_id,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    def get(self, token_hash: str) -> RefreshRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        expires = aware(row.expires_at)
        assert expires is not None
        return RefreshRecord(
            row.family, row.user_id, expires, row.used_at is not None, row.revoked_at is not None
        )

    def use(self, token_hash: str, now: datetime) -> bool:
        """Compare-and-set: of two refreshes with one token at once, one wins."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.token_hash == token_hash)
                .where(refresh_tokens.c.used_at.is_(None))
                .values(used_at=now)
            )
        return moved.rowcount == 1

    def revoke_family(self, family: UUID, now: datetime) -> None:
        self._revoke(refresh_tokens.c.family == family, now)

    def revoke_user(self, user_id: UUID, now: datetime, keep: UUID | None = None) -> None:
        where = refresh_tokens.c.user_id == user_id
        if keep is not None:
            where = and_(where, refresh_tokens.c.family != keep)
        self._revoke(where, now)

    def _revoke(self, where: Any, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(refresh_tokens)
                .where(where)
                .where(refresh_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )


class SqlApiTokenStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, record: ApiTokenRecord, token_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(api_tokens).values(
                    id=record.id,
                    token_hash=token_hash,
                    workspace_id=record.workspace_id,
                    name=record.name,
                    scopes=list(record.scopes),
                    stack_id=record.stack_id,
                    created_by=record.created_by,
                    created_at=record.created_at,
                    expires_at=record.expires_at,
                    # SQL null for an ordinary token (None would be stored as JSON null)
                    allowed_origins=(
                        list(record.allowed_origins)
                        if record.allowed_origins is not None
                        else null()
                    ),
                )
            )

    def publishable(self) -> list[ApiTokenRecord]:
        return self._select(api_tokens.c.allowed_origins.is_not(None))

    def by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        return next(iter(self._select(api_tokens.c.token_hash == token_hash)), None)

    def by_id(self, token_id: UUID) -> ApiTokenRecord | None:
        return next(iter(self._select(api_tokens.c.id == token_id)), None)

    def of_workspace(self, workspace_id: UUID) -> list[ApiTokenRecord]:
        return self._select(api_tokens.c.workspace_id == workspace_id)

    def touch(self, token_id: UUID, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
            )

    def revoke(self, token_id: UUID, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id)
                .where(api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    def _select(self, where: Any) -> list[ApiTokenRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(api_tokens).where(where).order_by(api_tokens.c.created_at, api_tokens.c.id)
            ).all()
        return [
            ApiTokenRecord(
                row.id,
                row.workspace_id,
                row.name,
                tuple(row.scopes),
                row.stack_id,
                row.created_by,
                aware(row.created_at) or row.created_at,
                aware(row.expires_at),
                aware(row.revoked_at),
                aware(row.last_used_at),
                tuple(row.allowed_origins) if row.allowed_origins is not None else None,
            )
            for row in rows
        ]


class SqlSetupTokenStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, token_hash: str, expires_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(setup_tokens).values(token_hash=token_hash, expires_at=expires_at))

    def use(self, token_hash: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(setup_tokens)
                .where(setup_tokens.c.token_hash == token_hash)
                .where(setup_tokens.c.used_at.is_(None))
                .where(setup_tokens.c.expires_at > now)
                .values(used_at=now)
            )
        return moved.rowcount == 1
