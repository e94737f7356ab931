"""Reading the app log: filters, keyset pages, export rows. Plain functions over a session.

Pages are ordered newest first by (occurred_at, id) and continue from a keyset position, never
an OFFSET, so the 10,000th page costs what the first does. The position travels to the browser as
a signed cursor: a forged or damaged one is refused rather than trusted.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterable, Iterator, Mapping, NamedTuple

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from webapp.database import MAX_ID
from webapp.models import ACTIVITIES, App, Event, Installation, User
from webapp.services.errors import InvalidInput
from webapp.services.event_details import actor_label, details_words
from webapp.services.formatting import iso_utc

PAGE_SIZE = 50
EXPORT_BATCH = 1000
CURSOR_SALT = "app-log-cursor"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ID = re.compile(r"[0-9]{1,18}")


class LogQueryError(InvalidInput):
    """Input the log cannot answer; the message is shown to the person who sent it."""


@dataclass(frozen=True)
class LogFilters:
    activity: str | None = None
    user_id: int | None = None
    app_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self) -> dict[str, str]:
        """The query-string form of these filters (only those set), for links and exports."""
        args = {"activity": self.activity, "user": self.user_id, "app": self.app_id,
                "from": self.date_from and self.date_from.isoformat(),
                "to": self.date_to and self.date_to.isoformat()}
        return {key: str(value) for key, value in args.items() if value is not None}


class LogRow(NamedTuple):
    id: int
    activity: str
    app_name: str
    actor_name: str | None
    occurred_at: datetime
    details: dict | None
    actor_app: bool = False

    @property
    def activity_label(self) -> str:
        return ACTIVITIES[self.activity]

    @property
    def user_label(self) -> str:
        return actor_label(self.actor_name, self.actor_app, self.app_name, self.details)

    @property
    def details_text(self) -> str:
        return details_words(self.activity, self.details, self.actor_name)

    @property
    def key(self) -> tuple[datetime, int]:
        return self.occurred_at, self.id


@dataclass
class LogPage:
    rows: list[LogRow] = field(default_factory=list)
    next_key: tuple[datetime, int] | None = None


@dataclass
class FilterOptions:
    activities: dict[str, str]
    users: list[tuple[int, str]]
    apps: list[tuple[int, str]]


def _parse_id(args: Mapping, name: str, label: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if not _ID.fullmatch(raw):
        raise LogQueryError(f"{label} must be chosen from the list (got {raw[:40]!r}).")
    return int(raw)


def _parse_date(args: Mapping, name: str, label: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise LogQueryError(f"{label} must be a date written YYYY-MM-DD (got {raw[:40]!r}).") from None


def parse_filters(session: Session, workspace_id: int, args: Mapping, fixed_app_id: int | None = None
                  ) -> LogFilters:
    """Validates query-string filters against the workspace; raises LogQueryError with a message.

    With `fixed_app_id` (an app page) the log is that app's, whatever the query string says.
    """
    activity = (args.get("activity") or "").strip() or None
    if activity is not None and activity not in ACTIVITIES:
        raise LogQueryError(f"Unknown activity type {activity[:40]!r}.")
    user_id = _parse_id(args, "user", "User")
    if user_id is not None and (user_id > MAX_ID or session.scalar(
            select(User.id).where(User.id == user_id, User.workspace_id == workspace_id)) is None):
        raise LogQueryError("That user is not part of this workspace.")
    if fixed_app_id is not None:
        app_id = fixed_app_id
    else:
        app_id = _parse_id(args, "app", "App")
        if app_id is not None and (app_id > MAX_ID or session.scalar(select(Installation.id).where(
                Installation.app_id == app_id, Installation.workspace_id == workspace_id)) is None):
            raise LogQueryError("That app is not installed in this workspace.")
    date_from = _parse_date(args, "from", "From")
    date_to = _parse_date(args, "to", "To")
    if date_from and date_to and date_from > date_to:
        raise LogQueryError("From must be on or before To.")
    return LogFilters(activity=activity, user_id=user_id, app_id=app_id, date_from=date_from,
                      date_to=date_to)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


@lru_cache(maxsize=None)
def _log_statement(activity: bool, user: bool, app: bool, start: bool, end: bool, after: bool,
                   limit: int):
    """The log query for one combination of filters, built once: values travel as parameters.

    Building a SQLAlchemy statement costs more than running this one on a million rows, so each
    of the few possible shapes is built on first use and reused.
    """
    query = (select(Event.id, Event.activity, App.name, User.name, Event.occurred_at, Event.details,
                    Event.actor_app)
             .select_from(Event)
             .join(App, App.id == Event.app_id)
             .outerjoin(User, User.id == Event.actor_id)
             .where(Event.workspace_id == bindparam("workspace_id")))
    if activity:
        query = query.where(Event.activity == bindparam("activity"))
    if user:
        query = query.where(Event.actor_id == bindparam("user_id"))
    if app:
        query = query.where(Event.app_id == bindparam("app_id"))
    if start:
        query = query.where(Event.occurred_at >= bindparam("start"))
    if after:
        # The first term is a plain range the (…, occurred_at, id) indexes can seek to; the second
        # keeps rows of the same instant that come after the cursor in (occurred_at, id) order.
        moment = bindparam("after_time", type_=Event.occurred_at.type)
        query = query.where(Event.occurred_at <= moment,
                            or_(Event.occurred_at < moment,
                                and_(Event.occurred_at == moment, Event.id < bindparam("after_id"))))
    elif end:
        query = query.where(Event.occurred_at < bindparam("end"))
    # A bare LIMIT: SQLAlchemy's SQLite dialect would add "OFFSET 0" to .limit(), and this log
    # never pages by offset.
    return query.order_by(Event.occurred_at.desc(), Event.id.desc()).suffix_with(f"LIMIT {int(limit)}")


def _log_query(workspace_id: int, filters: LogFilters, after: tuple[datetime, int] | None, limit: int):
    """The statement and parameters for one page of the log."""
    params: dict = {"workspace_id": workspace_id, "activity": filters.activity,
                    "user_id": filters.user_id, "app_id": filters.app_id}
    if filters.date_from is not None:
        params["start"] = _start_of(filters.date_from)
    # SQLite seeks with one upper bound only, so give it one: the cursor's position or the end of
    # "To", whichever comes first (the other is then implied). Otherwise a deep page would be
    # reached by walking every row between "To" and the cursor.
    end = None
    if filters.date_to is not None and filters.date_to < date.max:  # 9999-12-31 ends nothing
        end = _start_of(filters.date_to + timedelta(days=1))
    use_after = after is not None and (end is None or after[0] < end)
    if use_after:
        params["after_time"], params["after_id"] = after
    elif end is not None:
        params["end"] = end
    statement = _log_statement(filters.activity is not None, filters.user_id is not None,
                               filters.app_id is not None, filters.date_from is not None,
                               end is not None, use_after, limit)
    return statement, {name: value for name, value in params.items() if value is not None}


def fetch_page(session: Session, workspace_id: int, filters: LogFilters,
               after: tuple[datetime, int] | None = None, limit: int = PAGE_SIZE) -> LogPage:
    """One page of rows, newest first, after the keyset position `after` (exclusive)."""
    statement, params = _log_query(workspace_id, filters, after, limit + 1)
    result = session.execute(statement, params).all()
    rows = [LogRow(*record) for record in result[:limit]]
    next_key = rows[-1].key if len(result) > limit else None
    return LogPage(rows=rows, next_key=next_key)


def iter_export_rows(session: Session, workspace_id: int, filters: LogFilters,
                     batch_size: int = EXPORT_BATCH) -> Iterator[LogRow]:
    """Every row matching the filters, fetched in keyset batches so memory stays flat."""
    after = None
    while True:
        page = fetch_page(session, workspace_id, filters, after=after, limit=batch_size)
        yield from page.rows
        if page.next_key is None:
            return
        after = page.next_key


def filter_options(session: Session, workspace_id: int) -> FilterOptions:
    """Choices for the filters: the workspace's users and every app ever installed in it."""
    users = session.execute(select(User.id, User.name).where(User.workspace_id == workspace_id)
                            .order_by(User.name, User.id)).all()
    apps = session.execute(select(App.id, App.name).join(Installation, Installation.app_id == App.id)
                           .where(Installation.workspace_id == workspace_id)
                           .order_by(App.name, App.id)).all()
    return FilterOptions(activities=dict(ACTIVITIES), users=[tuple(u) for u in users],
                         apps=[tuple(a) for a in apps])


def encode_cursor(secret_key: str, key: tuple[datetime, int]) -> str:
    moment, event_id = key
    moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return URLSafeSerializer(secret_key, salt=CURSOR_SALT).dumps([moment.isoformat(), event_id])


def decode_cursor(secret_key: str, token: str | None) -> tuple[datetime, int] | None:
    """The keyset position inside a cursor; raises LogQueryError for a forged or damaged one."""
    if not token:
        return None
    try:
        moment, event_id = URLSafeSerializer(secret_key, salt=CURSOR_SALT).loads(token)
        if not isinstance(event_id, int) or isinstance(event_id, bool) or not isinstance(moment, str):
            raise ValueError
        return datetime.fromisoformat(moment).replace(tzinfo=timezone.utc), event_id
    except (BadData, ValueError, TypeError):
        raise LogQueryError("This page link is not valid any more. Reload the log and try again."
                            ) from None


CSV_HEADER = ("Activity", "App", "User", "Date", "Details")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """The cell as text a spreadsheet shows rather than executes."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def export_cells(row: LogRow) -> list[str]:
    cells = [row.activity_label, row.app_name, row.user_label, iso_utc(row.occurred_at),
             row.details_text]
    return [csv_safe(cell) for cell in cells]


def csv_lines(rows: Iterable[LogRow], rows_per_chunk: int = 200) -> Iterator[str]:
    """The CSV text (header first) in chunks of a few hundred rows, for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for count, row in enumerate(rows, start=1):
        writer.writerow(export_cells(row))
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
