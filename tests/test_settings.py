import os
import subprocess
import sys

import pytest

from webapp.settings import SettingsError, load_settings


def test_defaults_are_usable_in_development():
    settings = load_settings({})
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.database_url.startswith("sqlite:///")


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings({"APP_ENV": "production"})


@pytest.mark.parametrize("name, value", [
    ("SMTP_PORT", "twenty-five"), ("SMTP_PORT", "70000"), ("SMTP_STARTTLS", "maybe"),
    ("REDIS_URL", "http://localhost"), ("DATABASE_URL", "mysql://x"), ("PUBLIC_URL", "localhost:5000"),
    ("MAIL_FROM", "nobody"), ("SECRET_KEY", "short"),
    ("REFRESH_TOKEN_TTL", "ninety"), ("REFRESH_TOKEN_TTL", "0"), ("HEALTH_PROBE_INTERVAL", "-5"),
    ("HEALTH_PROBE_INTERVAL", "5m"), ("HEALTH_PROBE_ALLOW_PRIVATE", "sometimes"),
    ("SESSION_IDLE_MINUTES", "two hours"), ("SESSION_IDLE_MINUTES", "0"),
    ("SESSION_MAX_HOURS", "-1"), ("SESSION_MAX_HOURS", "10000"),
])
def test_a_bad_value_names_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_status_sources_have_defaults_and_private_probes_only_outside_production():
    development = load_settings({}).flask_config()
    assert (development["REFRESH_TOKEN_TTL"], development["HEALTH_PROBE_INTERVAL"]) == (90, 300)
    assert development["HEALTH_PROBE_ALLOW_PRIVATE"] is True
    production = load_settings({"APP_ENV": "production", "SECRET_KEY": "x" * 32}).flask_config()
    assert production["HEALTH_PROBE_ALLOW_PRIVATE"] is False
    chosen = load_settings({"REFRESH_TOKEN_TTL": "30", "HEALTH_PROBE_INTERVAL": "60",
                            "HEALTH_PROBE_ALLOW_PRIVATE": "false"}).flask_config()
    assert (chosen["REFRESH_TOKEN_TTL"], chosen["HEALTH_PROBE_INTERVAL"],
            chosen["HEALTH_PROBE_ALLOW_PRIVATE"]) == (30, 60, False)


def test_session_lifetimes_are_read_from_the_environment():
    chosen = load_settings({"SESSION_IDLE_MINUTES": "30", "SESSION_MAX_HOURS": "8"}).flask_config()
    assert (chosen["SESSION_IDLE_MINUTES"], chosen["SESSION_MAX_HOURS"]) == (30, 8)


def test_plain_postgresql_urls_use_psycopg_3():
    settings = load_settings({"DATABASE_URL": "postgresql://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_start_up_with_a_bad_value_prints_one_line_naming_it():
    env = {**os.environ, "SMTP_PORT": "abc"}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True,
                            text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SMTP_PORT must be a whole number, got 'abc'"]
