"""What closing windows and sending deliveries need from the configuration.

The caller (the command line, a worker job, a test) reads it from the app's settings and passes
it in; the notification services never look the configuration up themselves.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from webapp.services.links import ConsoleLinks

# Seconds between the attempts of a send job that failed for a passing reason.
RETRY_INTERVALS = (10, 30, 60, 300, 900)


@dataclass(frozen=True)
class MailSettings:
    mail_from: str
    smtp_host: str
    smtp_port: int
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False


@dataclass(frozen=True)
class NotificationSettings:
    links: ConsoleLinks
    mail: MailSettings
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS

    @classmethod
    def from_config(cls, config: Mapping) -> NotificationSettings:
        """From a Flask app's config (webapp.settings.Settings.flask_config names the keys)."""
        return cls(
            links=ConsoleLinks(config["PUBLIC_URL"]),
            mail=MailSettings(
                mail_from=config["MAIL_FROM"], smtp_host=config["SMTP_HOST"],
                smtp_port=config["SMTP_PORT"], smtp_username=config.get("SMTP_USERNAME"),
                smtp_password=config.get("SMTP_PASSWORD"),
                smtp_starttls=bool(config.get("SMTP_STARTTLS"))),
            retry_intervals=tuple(config.get("NOTIFICATION_RETRY_INTERVALS", RETRY_INTERVALS)))
