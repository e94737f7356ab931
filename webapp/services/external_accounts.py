"""External accounts of multi-account installations, as the app itself reports them.

The app adds, updates and removes its accounts through the accounts API; the app page lists them
under "Manage connection". An account in error is an alert of its installation until it is not.
Functions flush but never commit: the caller owns the transaction.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.database import utcnow
from webapp.models import ExternalAccount, Installation
from webapp.models.installation import ACCOUNT_STATUSES
from webapp.services import reported_alerts
from webapp.services.errors import Conflict, InvalidInput, NotFound
from webapp.services.validation import text_field

MAX_LENGTH = 200


class AccountInputError(InvalidInput):
    """The request names a field wrongly; the message (and `field`) name the field."""


class AccountExists(Conflict):
    """The installation already holds an account with this external id."""


class AccountNotFound(NotFound):
    """The installation holds no account with this external id."""


def _invalid(field: str, problem: str) -> AccountInputError:
    return AccountInputError(f"“{field}” {problem}.", field=field)


def _status(value, required: bool) -> str | None:
    if value is None and not required:
        return None
    if value not in ACCOUNT_STATUSES:
        raise AccountInputError(f"“status” must be one of {', '.join(ACCOUNT_STATUSES)}.",
                                field="status")
    return value


def list_accounts(session: Session, installation: Installation) -> list[ExternalAccount]:
    return list(session.scalars(
        select(ExternalAccount).where(ExternalAccount.workspace_id == installation.workspace_id,
                                      ExternalAccount.installation_id == installation.id)
        .order_by(ExternalAccount.name, ExternalAccount.id)))


def get_account(session: Session, installation: Installation, external_id: str) -> ExternalAccount:
    account = session.scalar(select(ExternalAccount).where(
        ExternalAccount.workspace_id == installation.workspace_id,
        ExternalAccount.installation_id == installation.id,
        ExternalAccount.external_id == external_id))
    if account is None:
        raise AccountNotFound(f"No account with external id “{external_id[:MAX_LENGTH]}”.")
    return account


def add_account(session: Session, installation: Installation, data: dict) -> ExternalAccount:
    external_id = text_field(data.get("external_id"), "external_id", MAX_LENGTH, _invalid)
    name = text_field(data.get("name"), "name", MAX_LENGTH, _invalid)
    status = _status(data.get("status", "connected"), required=True)
    exists = AccountExists(f"An account with external id “{external_id}” already exists.",
                           field="external_id")
    if session.scalar(select(ExternalAccount.id).where(
            ExternalAccount.workspace_id == installation.workspace_id,
            ExternalAccount.installation_id == installation.id,
            ExternalAccount.external_id == external_id)) is not None:
        raise exists
    account = ExternalAccount(workspace_id=installation.workspace_id,
                              installation_id=installation.id, external_id=external_id,
                              name=name, status=status, updated_at=utcnow())
    session.add(account)
    try:
        session.flush()
    except IntegrityError:  # a concurrent add of the same id won the race; the caller rolls back
        raise exists from None
    if status == "error":
        reported_alerts.account_changed(session, installation, account)
    return account


def update_account(session: Session, installation: Installation, external_id: str,
                   data: dict) -> ExternalAccount:
    unknown = sorted(set(data) - {"name", "status"})
    if unknown:
        raise AccountInputError(f"“{unknown[0]}” cannot be changed; send “name” and/or “status”.",
                                field=unknown[0])
    name = text_field(data.get("name"), "name", MAX_LENGTH, _invalid, required=False)
    status = _status(data.get("status"), required=False)
    if name is None and status is None:
        raise AccountInputError("Send “name” and/or “status”.")
    account = get_account(session, installation, external_id)
    if name is not None:
        account.name = name
    if status is not None:
        account.status = status
    account.updated_at = utcnow()
    session.flush()
    if status is not None:
        reported_alerts.account_changed(session, installation, account)
    return account


def remove_account(session: Session, installation: Installation, external_id: str) -> None:
    account = get_account(session, installation, external_id)
    reported_alerts.account_removed(session, installation, account)
    session.delete(account)
    session.flush()


def as_json(account: ExternalAccount) -> dict:
    return {"external_id": account.external_id, "name": account.name, "status": account.status,
            "updated_at": account.updated_at.isoformat().replace("+00:00", "Z")}
