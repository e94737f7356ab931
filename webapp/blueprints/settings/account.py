"""Settings › Your account: the user's password and their login sessions."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.blueprints.settings import bp
from webapp.extensions import db
from webapp.services.accounts import change_password
from webapp.services.errors import Unprocessable
from webapp.services.sessions import end_user_sessions, live_sessions
from webapp.session_store import current_session_row_id, session_clock, session_lifetimes


def _render(status: int = 200, errors: dict | None = None):
    now = session_clock()
    sessions = live_sessions(db.session, current_user, now, session_lifetimes())
    return render_template("settings/account.html", sessions=sessions,
                           current_session=current_session_row_id(), errors=errors or {},
                           zone=current_user.workspace.timezone, now=now), status


@bp.route("/account")
@login_required
def account():
    return _render()


@bp.route("/account/password", methods=["POST"])
@login_required
def account_password():
    new_password = request.form.get("new_password", "")
    try:
        if new_password != request.form.get("confirm_password", ""):
            raise Unprocessable("The two new passwords differ.", field="confirm_password")
        ended = change_password(db.session, current_user, request.form.get("current_password", ""),
                                new_password, session_clock(),
                                keep_session=current_session_row_id(),
                                lifetimes=session_lifetimes())
    except Unprocessable as error:
        # The form is shown again with the message beside the field at fault.
        db.session.rollback()
        return _render(422, {error.field: error.message})
    db.session.commit()
    flash("Your password has been changed." + _ended_elsewhere(ended))
    return redirect(url_for("settings.account"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def account_end_other_sessions():
    ended = end_user_sessions(db.session, current_user.id, "logged_out_elsewhere", session_clock(),
                              keep=current_session_row_id(), lifetimes=session_lifetimes())
    db.session.commit()
    flash("Other sessions logged out." if ended else "There were no other sessions.")
    return redirect(url_for("settings.account"))


def _ended_elsewhere(ended: int) -> str:
    if not ended:
        return ""
    return f" {ended} other session{'s' if ended != 1 else ''} logged out."
