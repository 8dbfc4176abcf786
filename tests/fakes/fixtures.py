"""Pytest fixtures for the fakes: `pytest_plugins = ["tests.fakes.fixtures"]` in the root
conftest makes `fake_openai`, `fake_gemini` and `fake_search` available everywhere.

Each starts a fresh server for one test (a few milliseconds) and stops it afterwards;
program it in the test (`fake_openai.reply = "..."`, `fake_openai.fail_next(...)`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.ollama_server import FakeOllamaServer
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.search_server import FakeSearchServer


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def fake_gemini() -> Iterator[FakeGeminiServer]:
    with FakeGeminiServer() as server:
        yield server


@pytest.fixture
def fake_search() -> Iterator[FakeSearchServer]:
    with FakeSearchServer() as server:
        yield server


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllamaServer]:
    with FakeOllamaServer(models=("llama3.2:latest", "qwen2.5:7b")) as server:
        yield server
