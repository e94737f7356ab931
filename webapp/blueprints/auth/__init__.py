"""Log in and out. Failed logins are rate limited per address and email."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_limiter.util import get_remote_address

from webapp.errors_http import handle_error
from webapp.extensions import db, htmx, limiter
from webapp.services.accounts import authenticate
from webapp.session_store import renew_session_id

bp = Blueprint("auth", __name__)

LOGIN_FAILURE_LIMIT = "5 per minute;20 per hour"


def _login_key() -> str:
    return f"{get_remote_address()}|{request.form.get('email', '').strip().lower()}"


def _safe_next(target: str | None) -> str:
    # Only local paths: an absolute or scheme-relative URL would be an open redirect. Browsers
    # drop tabs and newlines and read "\\" as "/", so "/\t/evil.example" means "//evil.example":
    # whitespace, control characters and backslashes are refused outright.
    if (target and target.startswith("/") and not target.startswith("//")
            and all(" " < char != "\x7f" and char != "\\" for char in target)
            and not urlsplit(target).netloc):
        return target
    return url_for("connected_apps.overview")


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("connected_apps.overview"))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_FAILURE_LIMIT, key_func=_login_key, methods=["POST"],
               deduct_when=lambda response: response.status_code == 401)
def login():
    next_url = request.args.get("next")
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(next_url))
        return render_template("auth/login.html", next=next_url)
    email = request.form.get("email", "").strip()
    user = authenticate(db.session, email, request.form.get("password", ""))
    if user is None:
        return render_template("auth/login.html", next=next_url, email=email,
                               error="Wrong email or password."), 401
    login_user(user)
    # A new session id and CSRF token at login: nothing planted before it carries over.
    renew_session_id("replaced")
    session.pop("csrf_token", None)
    return redirect(_safe_next(next_url))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You have been logged out.")
    return redirect(url_for("auth.login"))


@bp.errorhandler(429)
def too_many_attempts(error):
    """The login form says it in place; anything else gets the one error handler's answer."""
    if request.endpoint == "auth.login" and not htmx:
        return render_template(
            "auth/login.html", next=request.args.get("next"), email=request.form.get("email", ""),
            error="Too many failed attempts. Wait a minute, then try again."), 429
    return handle_error(error)
