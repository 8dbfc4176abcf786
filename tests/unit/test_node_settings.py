"""A node's settings, typed and parsed once; where its keys may go."""

from __future__ import annotations

import pytest

from application.keys import KeyUnavailable, NodeKeys
from domain.components import DEFAULT_PROMPT, KEY_CLEARED, NodeKind, config_problems
from domain.errors import InvalidCommand
from domain.key_policy import KeyPolicy, same_address
from domain.node_settings import (
    IndexSettings,
    KnowledgeBaseSettings,
    LlmSettings,
    ProviderAccess,
    parse_settings,
    rebind_keys,
)

KEY = {"secretRef": "sec_1", "hint": "…abcd"}
PROXY = "https://llm-proxy.example.com/v1"
ELSEWHERE = "https://elsewhere.example.net/v1"


class Vault:
    def __init__(self, **keys: str) -> None:
        self.keys = keys

    def get(self, ref: str) -> str:
        return self.keys[ref]

    def put(self, value: str) -> object:
        raise NotImplementedError

    def exists(self, ref: str) -> bool:
        return ref in self.keys


# ---------------------------------------------------------------- parsing


def test_an_llm_nodes_settings_are_typed_with_the_providers_own_defaults_left_open() -> None:
    settings = parse_settings(
        NodeKind.LLM_ENGINE,
        {"provider": "openai", "model": "gpt-4o-mini", "apiKey": KEY, "temperature": 1},
    )
    assert settings == LlmSettings(
        provider="openai",
        model="gpt-4o-mini",
        prompt=DEFAULT_PROMPT,
        temperature=1.0,
        max_tokens=None,
        access=ProviderAccess("openai", None, "sec_1"),
        web_search=None,
    )
    assert type(settings.temperature) is float  # type: ignore[union-attr]


def test_the_extractive_provider_calls_nobody_and_web_search_has_its_own_key() -> None:
    settings = LlmSettings.of({"webSearch": True, "webSearchApiKey": KEY})
    assert settings.provider == "extractive" and settings.access is None
    assert settings.web_search == ProviderAccess("websearch", None, "sec_1")


def test_a_knowledge_base_holds_its_index_settings_and_how_many_passages_it_gives() -> None:
    config = {"embedder": "openai", "baseUrl": PROXY, "apiKey": KEY, "topK": 7}
    settings = parse_settings(NodeKind.KNOWLEDGE_BASE, config)
    assert isinstance(settings, KnowledgeBaseSettings)
    assert settings.index == IndexSettings.of_node(config)
    assert settings.top_k == 7
    assert settings.access == ProviderAccess("openai", PROXY, "sec_1")
    assert KnowledgeBaseSettings.of({}).access is None  # local: nothing leaves the server
    assert KnowledgeBaseSettings.of({}).top_k == 4


def test_kinds_without_settings_have_none() -> None:
    assert parse_settings(NodeKind.OUTPUT, {}) is None


def test_a_config_that_does_not_fit_is_refused_naming_every_problem() -> None:
    with pytest.raises(InvalidCommand) as refused:
        parse_settings(NodeKind.LLM_ENGINE, {"provider": "claude", "temperature": "hot"})
    assert "provider: 'claude' is not one of" in str(refused.value)
    assert "temperature: expected a number" in str(refused.value)


@pytest.mark.parametrize(
    "url",
    ["https://user:secret@llm.example.com/v1", "http://token@10.1.2.3:11434/v1"],
)
def test_credentials_in_a_url_are_refused_and_never_quoted_back(url: str) -> None:
    problems = config_problems(NodeKind.LLM_ENGINE, {"baseUrl": url})
    assert problems == [
        "baseUrl: must not carry a user name or password; give the key in its own field"
    ]
    assert "secret" not in problems[0] and "token" not in problems[0]


@pytest.mark.parametrize("url", ["ftp://files.example.com", "http://", "http://host:port/v1"])
def test_a_base_url_must_be_an_http_address(url: str) -> None:
    assert config_problems(NodeKind.KNOWLEDGE_BASE, {"baseUrl": url})


# ---------------------------------------------------------------- keys bound to addresses


def test_changing_the_address_clears_the_stored_key() -> None:
    before = {"provider": "openai", "baseUrl": PROXY, "apiKey": KEY}
    after = rebind_keys(before, {**before, "baseUrl": ELSEWHERE})
    assert after["apiKey"] == KEY_CLEARED
    assert LlmSettings.of(after).access == ProviderAccess("openai", ELSEWHERE, None, True)


def test_removing_the_address_sends_the_key_nowhere_new_either() -> None:
    before = {"provider": "openai", "baseUrl": PROXY, "apiKey": KEY}
    after = rebind_keys(before, {"provider": "openai", "apiKey": KEY})
    assert after["apiKey"] == KEY_CLEARED


def test_a_key_given_with_the_new_address_is_that_addresss_own() -> None:
    before = {"baseUrl": PROXY, "apiKey": KEY}
    new_key = {"secretRef": "sec_2", "hint": "…wxyz"}
    assert rebind_keys(before, {"baseUrl": ELSEWHERE, "apiKey": new_key})["apiKey"] == new_key


def test_other_changes_keep_the_key() -> None:
    before = {"baseUrl": PROXY, "apiKey": KEY, "model": "a"}
    assert rebind_keys(before, {**before, "model": "b"})["apiKey"] == KEY


# ---------------------------------------------------------------- where keys may go


def test_the_servers_key_goes_only_to_its_providers_own_address_or_an_allowed_one() -> None:
    policy = KeyPolicy.of({"openai"}, {"openai": ["https://api.openai.com/v1", PROXY]})
    assert policy.sends_server_key(ProviderAccess("openai"))
    assert policy.sends_server_key(ProviderAccess("openai", "https://API.openai.com:443/v1/"))
    assert policy.sends_server_key(ProviderAccess("openai", PROXY))
    assert not policy.sends_server_key(ProviderAccess("openai", ELSEWHERE))
    assert not policy.sends_server_key(ProviderAccess("gemini"))  # no server key for it


def test_addresses_compare_without_case_default_port_or_trailing_slash() -> None:
    assert same_address("HTTPS://Example.com:443/v1/") == "https://example.com/v1"
    assert same_address("http://example.com:8080/v1") == "http://example.com:8080/v1"


def test_what_a_node_must_do_before_its_provider_can_be_used() -> None:
    policy = KeyPolicy.of({"openai", "gemini"})
    assert policy.key_problem(ProviderAccess("openai")) is None  # the server's key
    assert policy.key_problem(ProviderAccess("openai", ELSEWHERE)) is None  # keyless server
    assert policy.key_problem(ProviderAccess("gemini", ELSEWHERE)) == (
        "give a Gemini API key for its base URL; the server's key goes only to Gemini itself"
    )
    assert policy.key_problem(ProviderAccess("openai", ELSEWHERE, None, True)) == (
        "enter the API key again for the new address"
    )
    assert KeyPolicy().key_problem(ProviderAccess("websearch")) == "web search needs an API key"


def test_a_node_uses_its_own_key_where_it_was_entered() -> None:
    keys = NodeKeys(Vault(sec_1="sk-node"), {"openai": "sk-server"}, KeyPolicy.of({"openai"}))
    assert keys.key_for("Writer", ProviderAccess("openai", ELSEWHERE, "sec_1")) == "sk-node"


def test_the_server_key_never_goes_to_a_nodes_own_address() -> None:
    keys = NodeKeys(
        Vault(),
        {"openai": "sk-server", "gemini": "AIza-server"},
        KeyPolicy.of({"openai", "gemini"}),
    )
    assert keys.key_for("Writer", ProviderAccess("openai")) == "sk-server"
    assert keys.key_for("Writer", ProviderAccess("openai", ELSEWHERE)) is None  # keyless
    with pytest.raises(KeyUnavailable) as refused:
        keys.key_for("Poet", ProviderAccess("gemini", ELSEWHERE))
    assert str(refused.value).startswith("Poet: give a Gemini API key for its base URL")


def test_a_cleared_or_lost_key_asks_to_be_entered_again() -> None:
    keys = NodeKeys(Vault(), {"openai": "sk-server"}, KeyPolicy.of({"openai"}))
    with pytest.raises(KeyUnavailable, match="enter the API key again for the new address"):
        keys.key_for("Writer", ProviderAccess("openai", None, None, True))
    with pytest.raises(KeyUnavailable, match="cannot be read; enter it again"):
        keys.key_for("Writer", ProviderAccess("openai", None, "sec_gone"))
