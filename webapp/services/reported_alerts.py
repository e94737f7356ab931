"""Alerts an app reports about its own installation, through the API with its access token.

`PUT /api/v1/installation/alerts/{key}` opens the alert `key` or, while it is open, updates it
(last seen and count); `DELETE` resolves it. The token names the installation, so one app never
reaches another installation's alerts. A multi-account app's account reported in error is an
alert of its installation too, keyed by the account, resolved when the account is no longer in
error or is removed.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from webapp.models import Alert, ExternalAccount, Installation
from webapp.services import alerts
from webapp.services.errors import InvalidInput
from webapp.services.validation import text_field

KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
FIELDS = ("title", "detail")
# Control characters are refused (PostgreSQL cannot even store NUL); a detail may have lines.
_CONTROL = {"title": re.compile(r"[\x00-\x1f\x7f]"),
            "detail": re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")}


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidInput("An alert key is 1 to 64 lowercase letters, digits, “.”, “_” or “-”, "
                           "starting with a letter or digit.", field="key")
    return key


def _invalid(field: str, problem: str) -> InvalidInput:
    return InvalidInput(f"“{field}” {problem}.", field=field)


def _text(data: dict, name: str, limit: int, required: bool) -> str | None:
    value = data.get(name)
    if not required and value == "":
        return None
    value = text_field(value, name, limit, _invalid, required=required)
    if value is not None and _CONTROL[name].search(value):
        raise _invalid(name, "must not contain control characters")
    return value


def parse_report(data) -> tuple[str, str | None]:
    """(title, detail) from a report's JSON body, or InvalidInput naming the field at fault."""
    if not isinstance(data, dict):
        raise InvalidInput("Send a JSON object with Content-Type: application/json.")
    unknown = sorted(name for name in data if name not in FIELDS)
    if unknown:
        raise InvalidInput(f"“{unknown[0][:64]}” is not a field of an alert; send “title” and "
                           "optionally “detail”.", field=unknown[0][:64])
    return (_text(data, "title", alerts.TITLE_LENGTH, required=True),
            _text(data, "detail", alerts.DETAIL_LENGTH, required=False))


def report(session: Session, installation: Installation, key: str, data,
           now: datetime | None = None) -> tuple[Alert, bool]:
    """The app reports the problem `key`: (alert, opened now)."""
    check_key(key)
    title, detail = parse_report(data)
    return alerts.open_or_bump(session, installation, "app", key, title, detail, now)


def withdraw(session: Session, installation: Installation, key: str,
             now: datetime | None = None) -> Alert:
    """The app says the problem `key` is over; NotFound unless that alert is open."""
    check_key(key)
    return alerts.resolve(session, installation, "app", key, now)


def account_key(account: ExternalAccount) -> str:
    # ":" never occurs in a key the API accepts, so account alerts and reported ones never meet.
    return f"account:{account.external_id}"


def account_changed(session: Session, installation: Installation, account: ExternalAccount,
                    now: datetime | None = None) -> None:
    """An account in error has an open alert; once it is not (or is gone) the alert resolves."""
    if account.status == "error":
        alerts.open_or_bump(session, installation, "app", account_key(account),
                            f"{account.name}: the app reports an error"[:alerts.TITLE_LENGTH],
                            None, now, account=account)
    else:
        alerts.resolve_if_open(session, installation, "app", account_key(account), now)


def account_removed(session: Session, installation: Installation, account: ExternalAccount,
                    now: datetime | None = None) -> None:
    alerts.resolve_if_open(session, installation, "app", account_key(account), now)
    session.execute(update(Alert).where(Alert.external_account_id == account.id)
                    .values(external_account_id=None)
                    .execution_options(synchronize_session=False))
