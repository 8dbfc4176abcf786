"""Shared fixtures: settings for each backend (embedded SQLite, real PostgreSQL)."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from _pytest.logging import catching_logs
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings

from infrastructure.database import create_read_engine, migrate
from infrastructure.settings import Settings

pytest_plugins = ["tests.fakes.fixtures", "tests.chroma_server"]
# the property tests' comparison helpers assert there: show the difference when they fail
pytest.register_assert_rewrite("tests.integration.reopen")


def _attach_under_the_logging_lock() -> None:
    """pytest's `catching_logs.__enter__`, entered around each test's setup, call and
    teardown, walks `logging`'s dict of loggers without the module's lock. A thread still
    running (a served app's, a follower's, a library's pool) that makes its first logger at
    that moment (`logging.getLogger`, which takes the lock) changes the dict under the walk:
    "RuntimeError: dictionary changed size during iteration" at contextlib's `__enter__`,
    failing whichever test was starting (seen in CI). Under the lock, the walk and the new
    logger happen one after the other. (A thread making loggers in a loop while 3000 empty
    tests ran: 6 such errors without this, none with it.)"""
    enter = catching_logs.__enter__

    def locked(self: catching_logs) -> object:  # type: ignore[type-arg]
        with logging._lock:  # type: ignore[attr-defined]  # an RLock: addHandler takes it too
            return enter(self)

    catching_logs.__enter__ = locked  # type: ignore[method-assign, assignment]


_attach_under_the_logging_lock()

PG_ADMIN = os.environ.get("GENAI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

# nothing in a test may reach for the network or for keys of the developer's shell
for var in ("DATABASE_URL", "OPENAI_API_KEY", "GEMINI_API_KEY", "SERPAPI_API_KEY", "CHROMA_URL"):
    os.environ.pop(var, None)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Property-based tests draw the same examples on every run (derandomize), so a run cannot
# flake and a failure is found again by running again; they report the failing example as
# found, since shrinking a long stateful run can outlast the test's timeout.
# `HYPOTHESIS_PROFILE=explore` draws new examples on each run and shrinks what fails.
hypothesis_settings.register_profile(
    "repeatable",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile(
    "explore",
    parent=hypothesis_settings.get_profile("repeatable"),
    derandomize=False,
    phases=list(Phase),
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of a module that share a module-scoped fixture (a server, a loaded model) go
    to one pytest-xdist worker (`--dist loadgroup`, see the Makefile), so the fixture is set
    up once rather than once on every worker; other tests are spread one by one."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.module is None:
            continue
        scopes = {
            d.scope for name in info.names_closure for d in info.name2fixturedefs.get(name, ())
        }
        if "module" in scopes:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def _base(admin: str) -> str:
    return admin.rsplit("/", 1)[0]


@contextmanager
def fresh_postgres_database(template: str | None = None) -> Iterator[str]:
    """The URL of a new PostgreSQL database, dropped afterwards: empty, or a copy of
    `template`."""
    name = f"genai_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield f"{_base(PG_ADMIN)}/{name}"
    finally:
        _drop_database(name)


_template: list[str] = []


def migrated_postgres_template() -> str:
    """A database brought to the head revision once per test process (made on first use,
    dropped when the process exits): a test's database is a copy of it, so each test does not
    pay every migration again (PostgreSQL copies the files; the app's own migrate at start
    then finds nothing to do)."""
    if not _template:
        name = f"genai_test_template_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_database, name)
        engine = create_read_engine(
            f"{_base(PG_ADMIN)}/{name}".replace("postgresql://", "postgresql+psycopg://", 1), 1
        )
        migrate(engine)
        engine.dispose()
        _template.append(name)
    return _template[0]


def _drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database at the head revision, dropped after the test; an empty
    one for a test marked `empty_database` (one that runs the migrations itself)."""
    empty = request.node.get_closest_marker("empty_database") is not None
    with fresh_postgres_database(None if empty else migrated_postgres_template()) as url:
        yield url


def make_settings(data_dir: Path, database_url: str | None, **overrides: object) -> Settings:
    given: dict[str, object] = {
        "genai_poll_seconds": 0.2,
        "genai_allowed_hosts": ["testserver"],  # Starlette's TestClient's name
        "genai_public_tools": True,  # TestClient's client is "testclient", not loopback
        # the fake providers listen on loopback, as Ollama does in the local single-user mode
        "genai_outbound_loopback": True,
        # the model loads on first use: a test process need not pay torch for every app
        "genai_preload_embedder": False,
        **overrides,
    }
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        genai_data_dir=data_dir,
        **given,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


_sqlite_template: list[Path] = []


def migrated_sqlite_template() -> Path:
    """The embedded read database at the head revision, made once per test process: the
    SQLite counterpart of `migrated_postgres_template`."""
    if not _sqlite_template:
        directory = Path(tempfile.mkdtemp(prefix="genai-test-template-"))
        atexit.register(shutil.rmtree, directory, True)
        path = directory / "read.sqlite3"
        engine = create_read_engine(f"sqlite:///{path}")
        migrate(engine)
        engine.dispose()  # the last connection's close folds the WAL into the file
        _sqlite_template.append(path)
    return _sqlite_template[0]


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    settings = make_settings(tmp_path / "data", url)
    if url is None and request.node.get_closest_marker("empty_database") is None:
        shutil.copyfile(migrated_sqlite_template(), settings.data_dir() / "read.sqlite3")
    return settings
