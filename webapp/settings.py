"""Typed settings read from the environment.

A bad value stops start-up with one line naming the variable, so whoever deploys knows what to fix.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlparse


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def _str(env: dict, name: str, default: str | None = None) -> str | None:
    value = env.get(name)
    return default if value is None or value == "" else value


def _int(env: dict, name: str, default: int) -> int:
    raw = _str(env, name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _positive_int(env: dict, name: str, default: int, unit: str, maximum: int) -> int:
    value = _int(env, name, default)
    if not 0 < value <= maximum:
        raise SettingsError(f"{name} must be between 1 and {maximum} {unit}, got {value}")
    return value


def _bool(env: dict, name: str, default: bool) -> bool:
    raw = _str(env, name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _url(env: dict, name: str, default: str, schemes: tuple[str, ...]) -> str:
    raw = _str(env, name, default)
    parsed = urlparse(raw)
    if not parsed.scheme or parsed.scheme.split("+")[0] not in schemes:
        raise SettingsError(f"{name} must be a URL starting with one of {', '.join(schemes)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    env: str
    secret_key: str
    database_url: str
    redis_url: str
    public_url: str
    smtp_host: str
    smtp_port: int
    smtp_username: str | None
    smtp_password: str | None
    smtp_starttls: bool
    mail_from: str
    ratelimit_storage_url: str
    refresh_token_ttl_days: int = 90
    health_probe_interval: int = 300
    health_probe_allow_private: bool = False
    session_idle_minutes: int = 120
    session_max_hours: int = 12
    demo_apps_url: str = "http://127.0.0.1:8901"
    demo_apps_file: str = "instance/demo_apps.json"
    extra: dict = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    def flask_config(self) -> dict:
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "REDIS_URL": self.redis_url,
            "PUBLIC_URL": self.public_url.rstrip("/"),
            "SMTP_HOST": self.smtp_host,
            "SMTP_PORT": self.smtp_port,
            "SMTP_USERNAME": self.smtp_username,
            "SMTP_PASSWORD": self.smtp_password,
            "SMTP_STARTTLS": self.smtp_starttls,
            "MAIL_FROM": self.mail_from,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_url,
            "REFRESH_TOKEN_TTL": self.refresh_token_ttl_days,
            "HEALTH_PROBE_INTERVAL": self.health_probe_interval,
            "HEALTH_PROBE_ALLOW_PRIVATE": self.health_probe_allow_private,
            "SESSION_IDLE_MINUTES": self.session_idle_minutes,
            "SESSION_MAX_HOURS": self.session_max_hours,
            "DEMO_APPS_URL": self.demo_apps_url.rstrip("/"),
            "DEMO_APPS_FILE": self.demo_apps_file,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.public_url.startswith("https://"),
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SECURE": self.public_url.startswith("https://"),
            "WTF_CSRF_TIME_LIMIT": None,
            # No form or API call of the console comes near this; larger bodies are refused (413).
            "MAX_CONTENT_LENGTH": 1024 * 1024,
        }


DEFAULT_DATABASE_URL = "sqlite:///{instance}/connected_apps.sqlite3"


def load_settings(env: dict | None = None, instance_path: str = "instance") -> Settings:
    env = dict(os.environ if env is None else env)
    app_env = _str(env, "APP_ENV", "development")
    if app_env not in {"development", "production", "testing"}:
        raise SettingsError(f"APP_ENV must be development, production or testing, got {app_env!r}")
    secret_key = _str(env, "SECRET_KEY")
    if secret_key is None:
        if app_env == "production":
            raise SettingsError("SECRET_KEY is required in production")
        secret_key = "dev-only-secret-key-change-me"
    elif len(secret_key) < 16:
        raise SettingsError("SECRET_KEY must be at least 16 characters long")
    database_url = _url(env, "DATABASE_URL", DEFAULT_DATABASE_URL.format(instance=instance_path),
                        ("sqlite", "postgresql"))
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    smtp_port = _int(env, "SMTP_PORT", 25)
    if not 0 < smtp_port < 65536:
        raise SettingsError(f"SMTP_PORT must be between 1 and 65535, got {smtp_port}")
    mail_from = _str(env, "MAIL_FROM", "Connected Apps <noreply@localhost>")
    if "@" not in mail_from:
        raise SettingsError(f"MAIL_FROM must be an email address, got {mail_from!r}")
    return Settings(
        env=app_env,
        secret_key=secret_key,
        database_url=database_url,
        redis_url=_url(env, "REDIS_URL", "redis://127.0.0.1:6379/0", ("redis", "rediss", "unix")),
        public_url=_url(env, "PUBLIC_URL", "http://127.0.0.1:5000", ("http", "https")),
        smtp_host=_str(env, "SMTP_HOST", "127.0.0.1"),
        smtp_port=smtp_port,
        smtp_username=_str(env, "SMTP_USERNAME"),
        smtp_password=_str(env, "SMTP_PASSWORD"),
        smtp_starttls=_bool(env, "SMTP_STARTTLS", False),
        mail_from=mail_from,
        ratelimit_storage_url=_str(env, "RATELIMIT_STORAGE_URL", "memory://"),
        refresh_token_ttl_days=_positive_int(env, "REFRESH_TOKEN_TTL", 90, "days", 3650),
        health_probe_interval=_positive_int(env, "HEALTH_PROBE_INTERVAL", 300, "seconds", 86400),
        # A working day: log in once a day, and an unattended browser is logged out in two hours.
        session_idle_minutes=_positive_int(env, "SESSION_IDLE_MINUTES", 120, "minutes", 10080),
        session_max_hours=_positive_int(env, "SESSION_MAX_HOURS", 12, "hours", 8760),
        # Outside production the apps being developed usually run on this machine or the LAN.
        health_probe_allow_private=_bool(env, "HEALTH_PROBE_ALLOW_PRIVATE",
                                         app_env != "production"),
        # The demo apps' host (`demo host`) and the file it shares with the seed: their client
        # credentials and tokens, owner-only.
        demo_apps_url=_url(env, "DEMO_APPS_URL", "http://127.0.0.1:8901", ("http", "https")),
        demo_apps_file=_str(env, "DEMO_APPS_FILE", os.path.join(instance_path, "demo_apps.json")),
    )
