"""The one masking function: every shape of secret the plugin may meet is hidden, nothing else is changed."""

from __future__ import annotations

import pytest

from narrative_fixtures.core.masking import is_secret_name, mask, mask_mapping, mask_url, url_secrets

HIDDEN = [
    ("redis://:hunter22@h:6380/0", "redis://:***@h:6380/0"),
    ("redis://h:6380/9?password=hunter22", "redis://h:6380/9?password=***"),
    ("redis://user:pw1234@h/0?password=hunter22&socket_timeout=1", "redis://user:***@h/0?password=***&socket_timeout=1"),
    (
        "mongodb://u:p%40ss@h1,h2/db?tlsCertificateKeyFilePassword=s3cr3t&authSource=admin",
        "mongodb://u:***@h1,h2/db?tlsCertificateKeyFilePassword=***&authSource=admin",
    ),
    (
        "https://b/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA1234/x&X-Amz-Signature=abcd1234&X-Amz-Expires=5",
        "https://b/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=5",
    ),
    ("http://h/v1?api_key=sk-abc123&model=x", "http://h/v1?api_key=***&model=x"),
    ("Authorization: Bearer sk-abcdef123", "Authorization: Bearer ***"),
    ("password=hunter2 and token: abcd1234", "password=*** and token: ***"),
    ('{"api_key": "sk-xyz123", "model": "gpt"}', '{"api_key": "***", "model": "gpt"}'),
    ("cannot reach redis://:pw1234@10.0.0.1:6379/0?password=pw5678 (refused)",
     "cannot reach redis://:***@10.0.0.1:6379/0?password=*** (refused)"),
]

KEPT = [
    "redis://localhost:6379/0",
    "mongodb://h:27017/narrative_test?authSource=admin&authMechanism=SCRAM-SHA-256&tlsCertificateKeyFile=/k.pem",
    "http://127.0.0.1:4566/test-bucket?prefix=test-data/&max-keys=10",
    "a plain message with no secret at all",
    "",
]


@pytest.mark.parametrize(("text", "shown"), HIDDEN)
def test_every_shape_of_secret_is_masked(text, shown):
    assert mask(text) == shown
    assert mask_url(text) == shown


@pytest.mark.parametrize(("text", "shown"), HIDDEN + [("TEST_REDIS_URL=redis://h/0?password=pw1234: refused", None)])
def test_masking_twice_changes_nothing_more(text, shown):
    once = mask(text)
    assert mask(once) == once
    assert "pw1234" not in once and once.endswith(": refused") if shown is None else once == shown


@pytest.mark.parametrize("text", KEPT)
def test_text_without_a_secret_is_unchanged(text):
    assert mask(text) == text


def test_known_secrets_are_masked_wherever_they_appear():
    assert mask("the key abcdef-123 leaked into prose", ["abcdef-123"]) == "the key *** leaked into prose"
    assert mask("short ab stays", ["ab"]) == "short ab stays"  # too short to replace safely
    assert mask(None) is None


def test_a_url_lists_every_secret_it_carries():
    assert url_secrets("redis://:pw1234@h:1/9?password=hunter22&x=1") == ["pw1234", "hunter22"]
    assert url_secrets("redis://h:1/0") == []


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True), ("tlsCertificateKeyFilePassword", True), ("AWS_SECRET_ACCESS_KEY", True),
        ("X-Amz-Signature", True), ("authorization", True), ("Proxy-Authorization", True),
        ("openai-admin-key", True), ("TEST_OPENAI_API_KEY", True), ("authSource", False),
        ("tlsCertificateKeyFile", False), ("content-type", False), ("region", False),
    ],
)
def test_secret_names(name, secret):
    assert is_secret_name(name) is secret


def test_headers_and_environment_keep_the_scheme_and_mask_values():
    shown = mask_mapping(
        {"Authorization": "Bearer sk-1234", "Content-Type": "application/json", "AWS_SECRET_ACCESS_KEY": "abc",
         "TEST_REDIS_URL": "redis://:pw1234@h/0"}
    )
    assert shown == {
        "Authorization": "Bearer ***", "Content-Type": "application/json", "AWS_SECRET_ACCESS_KEY": "***",
        "TEST_REDIS_URL": "redis://:***@h/0",
    }
