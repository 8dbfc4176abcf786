"""Settings from the environment (and a `.env` file), one object for the composition root."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from application.document.ingestion import EMBED_BATCH, MAX_CHUNKS
from domain.key_policy import KeyPolicy
from infrastructure.outbound import PROVIDER_ADDRESSES, OutboundRules
from infrastructure.prices import DEFAULT_PRICES, ModelPrice


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="postgresql://… for PostgreSQL; absent for embedded SQLite"
    )
    genai_data_dir: Path = Path("./data")
    genai_secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys for stored API keys, newest first, comma-separated; "
        "absent: secret.key in the data dir (one per line), generated on first start",
    )
    openai_api_key: SecretStr | None = None
    gemini_api_key: SecretStr | None = None
    serpapi_api_key: SecretStr | None = None
    chroma_url: str | None = None
    max_upload_mb: int = 50
    genai_max_request_mb: int = Field(
        default=10, description="Largest GraphQL request that is not an upload (JSON)"
    )
    genai_max_document_chars: int = Field(
        default=2_000_000, description="Text one PDF may hold; past it, the document fails"
    )
    genai_max_document_chunks: int = Field(
        default=MAX_CHUNKS, description="Passages one document may make; past it, it fails"
    )
    genai_embed_batch: int = Field(
        default=EMBED_BATCH,
        description="Passages embedded at once: the slice of a document the indexer works "
        "on before it turns to the next document waiting",
    )
    genai_ingestion_workers: int = Field(
        default=2,
        ge=0,
        description="With PostgreSQL: queued ingestion jobs of small documents this process "
        "runs at once (and one large); 0: none, they are left to `genai-stack worker` processes",
    )
    genai_ingestion_large_mb: float = Field(
        default=5.0,
        gt=0,
        description="With PostgreSQL: documents larger than this are indexed in a lane of "
        "their own, one at a time per process, so they never hold the small ones' slots",
    )
    genai_ingestion_heartbeat_seconds: float = Field(
        default=10.0,
        gt=0,
        description="With PostgreSQL: how often an ingestion worker says it is alive; the jobs "
        "of one silent for three of these go back to the queue for another",
    )
    genai_ocr: bool = Field(
        default=True, description="Read scanned pages (no text layer) with Tesseract OCR"
    )
    genai_ocr_max_pages: int = Field(
        default=50, ge=0, description="Pages of one document that OCR may read (seconds each)"
    )
    genai_ocr_page_seconds: float = Field(
        default=60.0, gt=0, description="Longest OCR of one scanned picture; past it, skipped"
    )
    genai_preload_embedder: bool = Field(
        default=True, description="Load the local embedding model in the background at start"
    )
    genai_allowed_origins: list[str] = Field(
        default_factory=list, description="Pages (https://stack.example.com) that may connect"
    )
    genai_public_tools: bool = Field(
        default=False,
        description="GraphiQL, introspection and /metrics for clients elsewhere too (by "
        "default only for clients on this machine)",
    )
    genai_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Names this server answers as, beside loopback ones and those of the "
        "allowed origins ('*': any; DNS rebinding is then the proxy's to refuse)",
    )
    genai_poll_seconds: float = 1.0
    genai_run_projections: bool = True
    genai_log_level: str = "INFO"
    genai_db_pool_size: int = Field(
        default=10,
        description="PostgreSQL connections per pool: the read pool keeps up to twice this "
        "many open once opened; the event store's keeps this many and opens as many more "
        "for a burst",
    )
    genai_llm_timeout: float = Field(
        default=60.0, description="Seconds an LLM may stay silent before a try counts as failed"
    )
    genai_llm_retries: int = Field(default=2, description="Further tries on 429/5xx/timeouts")
    genai_web_search_url: str = "https://serpapi.com"
    genai_shutdown_grace_seconds: float = Field(
        default=30.0,
        description="On SIGTERM: /readyz answers 503 at once and answers in flight may finish "
        "within this many seconds; then subscriptions close (1012) and the rest is failed",
    )
    genai_chat_lease_seconds: float = Field(
        default=30.0, description="How long a dead process's chats wait before they are failed"
    )
    genai_snapshots: bool = Field(
        default=True,
        description="Load long-lived aggregates from snapshots (and take them); off, every "
        "load replays all of an aggregate's events",
    )
    genai_model_prices: dict[str, ModelPrice] = Field(
        default_factory=dict, description="USD per million tokens, added to the defaults"
    )
    # accounts and sign-in (interfaces/accounts.py)
    genai_host: str = Field(default="127.0.0.1", description="The address served (set by serve)")
    genai_public_url: str | None = Field(default=None, description="Base URL of setup links")
    genai_require_sign_in: bool = Field(
        default=False, description="Also on loopback (elsewhere it always is)"
    )
    genai_jwt_key: SecretStr | None = None
    genai_access_token_minutes: float = 15
    genai_refresh_token_days: float = 14
    genai_sign_in_limit: str = Field(default="10/minute", description="Per email and per client")
    genai_rate_limit_namespace: str = "genai"
    genai_embed_question_limit: str = Field(
        default="10/minute",
        description="Questions (and chats started) per visitor (client address) of an embedded "
        "chat, on each publishable token",
    )
    genai_embed_token_limit: str = Field(
        default="600/hour", description="Questions (and chats started) per publishable token"
    )
    redis_url: str | None = Field(default=None, description="Shared rate limits when set")
    # request limits (interfaces/limits.py): `limits` rules, ";"-separated; empty: none
    genai_mutation_limit: str = Field(
        default="300/minute", description="Changes per user or API token"
    )
    genai_mutation_limit_per_address: str = Field(
        default="600/minute", description="Changes per client address (all its users)"
    )
    genai_question_limit: str = Field(
        default="30/minute;600/hour", description="Chat questions per user or API token"
    )
    genai_question_limit_per_address: str = Field(
        default="60/minute;1200/hour", description="Chat questions per client address"
    )
    genai_upload_limit: str = Field(default="20/minute", description="Uploads per user or token")
    genai_upload_limit_per_address: str = Field(
        default="40/minute", description="Uploads per client address"
    )
    genai_rate_limit_local_owner: bool = Field(
        default=False,
        description="Also limit the local owner of a loopback server (signed in automatically: "
        "only this machine's users reach it)",
    )
    genai_max_connections_per_user: int = Field(
        default=20, description="Open WebSocket connections per user, token or anonymous address"
    )
    genai_max_subscriptions_per_connection: int = Field(
        default=50, description="Operations one WebSocket connection may run at once"
    )
    genai_auth_recheck_seconds: float = Field(
        default=5, description="How often a subscription checks its credentials still hold"
    )
    # single sign-on with an OpenID Connect provider (README: "Single sign-on")
    genai_oidc_issuer: str | None = Field(
        default=None,
        description="The provider's issuer URL (its discovery document is "
        "<issuer>/.well-known/openid-configuration); set with the client id to turn SSO on",
    )
    genai_oidc_client_id: str | None = None
    genai_oidc_client_secret: SecretStr | None = Field(
        default=None, description="Absent: a public client (PKCE alone)"
    )
    genai_oidc_name: str = Field(
        default="single sign-on", description='The button reads "Sign in with <name>"'
    )
    genai_oidc_scopes: str = "openid email profile"
    genai_oidc_email_domains: list[str] = Field(
        default_factory=list,
        description="Only accounts whose verified email is in one of these domains may sign "
        "in through the provider; empty: any",
    )
    genai_oidc_sign_up: bool = Field(
        default=False,
        description="Whether a provider account with no user here becomes a new user (else "
        "only existing users, matched by verified email, may sign in with it)",
    )
    genai_oidc_join_default_workspace: bool = Field(
        default=False,
        description="Whether users made by sign-up join the default workspace as viewers "
        "(else they join none until invited)",
    )
    genai_server_key_urls: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Base URLs, besides each provider's own, that the server's key for that "
        'provider may be sent to, e.g. {"openai": ["https://llm-proxy.example.com/v1"]}',
    )
    genai_outbound_loopback: bool | None = Field(
        default=None,
        description="Whether LLM, embedding and search requests may go to this machine "
        "(Ollama on localhost); unset: only while the server listens on loopback alone, "
        "the local single-user mode",
    )
    genai_outbound_private: bool = Field(
        default=False,
        description="Whether those requests may go to private, link-local and other "
        "non-public addresses (a model server on the local network)",
    )
    genai_outbound_allow: list[str] = Field(
        default_factory=list,
        description="Addresses or networks those requests may go to whatever the two "
        'settings above say, e.g. ["192.168.1.20", "10.8.0.0/16"]',
    )

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url) and make_url(self.database_url).get_backend_name() in (
            "postgresql",
            "postgres",
        )

    @property
    def auto_login(self) -> bool:
        """Whether the local owner is signed in without credentials: only on loopback, where
        no one but this machine's users can connect; never on any other address."""
        if self.genai_require_sign_in:
            return False
        try:
            return ipaddress.ip_address(self.genai_host.strip("[]")).is_loopback
        except ValueError:
            return self.genai_host == "localhost"

    @property
    def single_sign_on(self) -> bool:
        return bool(self.genai_oidc_issuer and self.genai_oidc_client_id)

    def data_dir(self) -> Path:
        path = self.genai_data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)  # stored events, keys and uploads are for this server alone
        return path

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for our application's event store."""
        return {
            **self._persistence_env(),
            "IS_SNAPSHOTTING_ENABLED": "y" if self.genai_snapshots else "n",
        }

    def _persistence_env(self) -> dict[str, str]:
        if self.uses_postgres:
            assert self.database_url
            url = make_url(self.database_url)
            return {
                # the library's, snapshots inserted by a plain INSERT, and one round trip per
                # save (same lock, same NOTIFY): see infrastructure.postgres_log
                "PERSISTENCE_MODULE": "infrastructure.postgres_log:LogFactory",
                "APPLICATION_RECORDER_TOPIC": "infrastructure.postgres_log:OneTripRecorder",
                "POSTGRES_DBNAME": url.database or "postgres",
                "POSTGRES_HOST": url.host or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": url.username or "postgres",
                "POSTGRES_PASSWORD": url.password or "",
                "POSTGRES_POOL_SIZE": str(self.genai_db_pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.genai_db_pool_size),
                "CREATE_TABLE": "y",
            }
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.data_dir() / "events.sqlite3"),
            "CREATE_TABLE": "y",
        }

    def read_database_url(self) -> str:
        if self.uses_postgres:
            assert self.database_url
            return (
                make_url(self.database_url)
                .set(drivername="postgresql+psycopg")
                .render_as_string(hide_password=False)
            )
        return f"sqlite:///{self.data_dir() / 'read.sqlite3'}"

    def key_policy(self) -> KeyPolicy:
        """Which providers this server holds a key for (nodes may leave theirs empty), and
        where each may be sent: the provider's own address, and those allowed here."""
        addresses = {provider: [url] for provider, url in PROVIDER_ADDRESSES.items()}
        for provider, urls in self.genai_server_key_urls.items():
            addresses.setdefault(provider.strip().lower(), []).extend(urls)
        return KeyPolicy.of(self.server_key_values(), addresses)

    def outbound_rules(self) -> OutboundRules:
        """Where the server's own requests to providers may go (`serve` decides an unset
        `genai_outbound_loopback` from the address it listens on; elsewhere unset is no)."""
        return OutboundRules.of(
            loopback=bool(self.genai_outbound_loopback),
            private=self.genai_outbound_private,
            allow=self.genai_outbound_allow,
        )

    def model_prices(self) -> dict[str, ModelPrice]:
        return {
            **DEFAULT_PRICES,
            **{k.strip().lower(): v for k, v in self.genai_model_prices.items()},
        }

    def server_key_values(self) -> dict[str, str]:
        """The server's own keys by provider, for nodes that give none."""
        keys = {
            "openai": self.openai_api_key,
            "gemini": self.gemini_api_key,
            "websearch": self.serpapi_api_key,
        }
        return {
            name: key.get_secret_value()
            for name, key in keys.items()
            if key and key.get_secret_value()
        }
