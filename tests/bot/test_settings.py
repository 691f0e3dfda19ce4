"""Settings: validated from JUMBE_* variables; a bad value stops start-up naming the variable."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load


def test_defaults_are_embedded_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load()
    assert settings.embedded and settings.sandbox
    assert settings.database_url.startswith("sqlite")
    assert settings.mpesa_base_url == "http://127.0.0.1:8000/sandbox"


def test_postgres_url_gets_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUMBE_DATABASE_URL", "postgresql://u@h/db")
    assert load().database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JUMBE_DATABASE_URL", "mysql://x"),
        ("JUMBE_REDIS_URL", "http://nope"),
        ("JUMBE_PUBLIC_URL", "example.com"),
        ("JUMBE_PROVIDER_MODE", "production"),
        ("JUMBE_MAX_BODY_BYTES", "12"),
        ("JUMBE_SMS_PROVIDER", "carrier-pigeon"),
    ],
)
def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as stop:
        load()
    assert str(stop.value).startswith(f"configuration error: {name}:")
    assert "\n" not in str(stop.value)


def test_live_mode_refuses_sandbox_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUMBE_PROVIDER_MODE", "live")
    monkeypatch.setenv("JUMBE_MPESA_BASE_URL", "http://127.0.0.1:8000/sandbox")
    with pytest.raises(SettingsError, match="live mode refuses a sandbox URL"):
        load()


def test_live_mode_refuses_sandbox_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUMBE_PROVIDER_MODE", "live")
    with pytest.raises(SettingsError, match="live mode needs a real credential"):
        load()


def test_sandbox_mode_refuses_real_provider_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUMBE_MPESA_BASE_URL", "https://api.safaricom.co.ke")
    with pytest.raises(SettingsError, match="sandbox mode refuses a real provider URL"):
        load()


def test_sandbox_mode_refuses_live_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUMBE_MPESA_CONSUMER_KEY", "Gx7live2consumerkey")
    with pytest.raises(SettingsError, match="sandbox mode refuses live credentials"):
        load()


def test_secrets_do_not_show_in_repr() -> None:
    assert "sandbox-twilio-token" not in repr(load())
