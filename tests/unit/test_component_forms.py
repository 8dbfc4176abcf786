"""The settings forms the SPA draws: the domain's settings with the interface's hints."""

from __future__ import annotations

from domain.components import COMPONENTS, NodeKind
from interfaces.graphql.component_forms import form_schema

FORM_ONLY = {"description", "oneOf", "writeOnly", "examples"}


def test_every_choice_of_a_setting_has_a_name_and_help_of_its_own() -> None:
    for spec in COMPONENTS.values():
        properties = form_schema(spec)["properties"]
        for name, prop in properties.items():
            if "enum" in prop:
                options = prop.get("oneOf") or []
                assert [o["const"] for o in options] == prop["enum"], f"{spec.kind}.{name}"
                assert all(o["title"] and o["description"] for o in options)
            for other, hints in prop.get("x-hint-by", {}).items():
                assert set(hints) <= set(properties[other]["enum"])
            for other, shown_for in prop.get("x-show-if", {}).items():
                allowed = properties[other].get("enum", [True, False])
                assert set(shown_for) <= set(allowed), f"{spec.kind}.{name}"


def test_the_domain_keeps_what_validation_needs_and_no_form_hints() -> None:
    for spec in COMPONENTS.values():
        for name, prop in spec.config_schema["properties"].items():
            hints = {k for k in prop if k.startswith("x-") and k != "x-secret"}
            assert not hints and not FORM_ONLY & set(prop), f"{spec.kind}.{name}"
            assert prop.get("format") in (None, "uri")  # a URL is checked; a password is drawn
            assert prop["type"] in ("string", "integer", "number", "boolean")


def test_a_key_is_a_password_field_never_shown_back() -> None:
    api_key = form_schema(COMPONENTS[NodeKind.LLM_ENGINE])["properties"]["apiKey"]
    assert api_key["format"] == "password" and api_key["writeOnly"] is True
    assert api_key["x-secret"] is True


def test_the_form_adds_to_the_domains_settings_and_changes_none_of_them() -> None:
    for spec in COMPONENTS.values():
        served = form_schema(spec)
        assert list(served["properties"]) == list(spec.config_schema["properties"])
        for name, prop in spec.config_schema["properties"].items():
            assert {k: served["properties"][name][k] for k in prop} == prop
