"""The notification center: the top bar's button, its unread count and the list behind it."""
from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user, login_required

from webapp.blueprints.notifications import bp
from webapp.extensions import db, htmx
from webapp.services.notifications import inbox
from webapp.web import render_page_or_fragment, requested_block

# The list is shown in the top bar's panel and on its own page; htmx asks for it by either id.
# The top bar's unread count asks this URL for itself every 30 seconds.
FRAGMENTS = {"notification-panel-body": "panel", "notification-list": "panel",
             "notification-count": "unread_count"}


@bp.app_context_processor
def notification_center_context():
    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return inbox.unread_count(db.session, current_user)

    return {"unread_notifications": unread_notifications}


def _list(**context):
    if requested_block(FRAGMENTS) != "unread_count":  # the count needs no list
        context["notifications"] = inbox.recent(db.session, current_user)
    return render_page_or_fragment("notifications/center.html", FRAGMENTS,
                                   headers={"Cache-Control": "no-store"}, **context)


@bp.route("/notifications")
@login_required
def center():
    return _list()


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    inbox.mark_all_read(db.session, current_user)
    db.session.commit()
    if not htmx:
        return redirect(url_for("notifications.center"), code=303)
    return _list(htmx_oob_count=True)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int):
    """Marks the notification read, then goes where it points."""
    notification = inbox.get_own(db.session, current_user, notification_id)
    inbox.mark_read(db.session, notification)
    db.session.commit()
    link = notification.link or ""
    # Only paths of this site: a stored link never sends anyone elsewhere.
    if link.startswith("/") and not link.startswith("//"):
        return redirect(link, code=303)
    return redirect(url_for("notifications.center"), code=303)
