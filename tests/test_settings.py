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
])
def test_a_bad_value_names_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


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
