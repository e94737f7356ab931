"""The app log as it appears on the overview and on each app page, and its CSV export.

A page with the log renders `log=request_log(...)` and answers its fragments with LOG_FRAGMENTS:
the filters ask for the table (block `log_table`), "Load more" for the next rows (`log_rows`).
Filters come from the query string, so the pushed URL restores the view.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Response, current_app, request, stream_with_context, url_for
from flask_login import current_user, login_required

from webapp.blueprints.connected_apps import bp
from webapp.database import utcnow
from webapp.extensions import db
from webapp.services import event_log
from webapp.web import requested_block

# Element id -> block of the page template (see connected_apps/_app_log.html).
LOG_FRAGMENTS = {"app-log-table": "log_table", "app-log-more": "log_rows"}
RAW_FIELDS = ("activity", "user", "app", "from", "to")


@dataclass
class LogView:
    """What the log templates render: the form as sent, and the rows or the reason there are none."""

    path: str
    fixed_app_id: int | None
    raw: dict[str, str]
    filters: event_log.LogFilters | None = None
    page: event_log.LogPage = field(default_factory=event_log.LogPage)
    after: tuple | None = None
    error: str | None = None
    options: event_log.FilterOptions | None = None

    def _link_args(self) -> dict[str, str]:
        args = self.filters.as_args()
        if self.fixed_app_id is not None:
            args.pop("app", None)  # the page path already names the app
        return args

    @property
    def more_url(self) -> str | None:
        if self.error or self.page.next_key is None:
            return None
        cursor = event_log.encode_cursor(current_app.config["SECRET_KEY"], self.page.next_key)
        return f"{self.path}?{urlencode({**self._link_args(), 'cursor': cursor})}"

    @property
    def export_url(self) -> str | None:
        if self.error:
            return None
        return url_for("connected_apps.export_log", **self.filters.as_args())

    @property
    def status(self) -> int:
        """The page's or fragment's status: bad filters or a bad cursor are the asker's mistake."""
        return event_log.LogQueryError.status if self.error else 200


def log_fragment_requested() -> bool:
    """True when only the log's table or next rows will be rendered: a page view can then skip
    work for sections that will not be shown."""
    return requested_block(LOG_FRAGMENTS) is not None


def request_log(fixed_app_id: int | None = None) -> LogView:
    """The log the request's query string asks for; the filters' options only for a whole page."""
    return _build_log(fixed_app_id, with_options=not log_fragment_requested())


def _build_log(fixed_app_id: int | None, with_options: bool) -> LogView:
    workspace_id = current_user.workspace_id
    log = LogView(path=request.path, fixed_app_id=fixed_app_id,
                  raw={name: request.args.get(name, "") for name in RAW_FIELDS})
    try:
        log.filters = event_log.parse_filters(db.session, workspace_id, request.args,
                                              fixed_app_id=fixed_app_id)
        log.after = event_log.decode_cursor(current_app.config["SECRET_KEY"], request.args.get("cursor"))
        log.page = event_log.fetch_page(db.session, workspace_id, log.filters, after=log.after)
    except event_log.LogQueryError as error:
        log.error = str(error)
    if with_options:
        log.options = event_log.filter_options(db.session, workspace_id)
    return log


@bp.route("/log.csv")
@login_required
def export_log():
    """Every row the filters match (all pages), streamed in keyset batches."""
    workspace_id = current_user.workspace_id
    filters = event_log.parse_filters(db.session, workspace_id, request.args)
    rows = event_log.iter_export_rows(db.session, workspace_id, filters)
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", current_user.workspace.slug)
    filename = f"app-log-{slug}-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(stream_with_context(event_log.csv_lines(rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})
