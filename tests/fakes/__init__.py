"""Fake provider servers on loopback that speak the real wire protocols (see each module).

In a test module or conftest:

    @pytest.fixture
    def fake_openai() -> Iterator[FakeOpenAIServer]:
        with FakeOpenAIServer(reply="...") as server:
            yield server

or register the ready-made fixtures of `tests.fakes.fixtures` from the root conftest with
`pytest_plugins = ["tests.fakes.fixtures"]`.
"""

from tests.fakes._server import Failure, Gate, RecordedRequest
from tests.fakes.embedding import hashed_embedding
from tests.fakes.gemini_server import FakeGeminiServer
from tests.fakes.ollama_server import FakeOllamaServer
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.search_server import FakeSearchServer

__all__ = [
    "Failure",
    "FakeGeminiServer",
    "FakeOllamaServer",
    "FakeOpenAIServer",
    "FakeSearchServer",
    "Gate",
    "RecordedRequest",
    "hashed_embedding",
]
