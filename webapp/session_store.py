"""Flask's session, kept on the server once someone logs in.

A visitor who has not logged in keeps Flask's signed cookie (the login form's CSRF token, a flashed
message), so no row is written for every anonymous page view. Logging in starts a row of
`user_sessions` under a new random id (a fixed id cannot be planted before login); the cookie then
carries only that id. Logging out, a password change, deactivation or "Log out other sessions" end
the row, and the cookie with it. Redis plays no part: sessions work while it is down.
"""
from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

from flask import current_app, has_app_context, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from itsdangerous import BadSignature
from werkzeug.datastructures import CallbackDict

from webapp.database import utcnow
from webapp.extensions import db
from webapp.models import User, UserSession
from webapp.services.sessions import (
    Lifetimes, describe_device, end_session, find_live_session, is_session_id, start_session)

# How stale "last seen" may get: writing it on every request would cost a write per page view.
LAST_SEEN_STEP = timedelta(minutes=1)
# Only a server-side session may name a user: a signed cookie that does is a login from before
# sessions were kept on the server, and is refused.
LOGIN_KEY = "_user_id"


class ConsoleSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, row_id: int | None = None):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.modified = False
        self.row_id = row_id
        self.renew = False
        self.stale_cookie = False
        self.end_reason = "logout"
        self.transient = False


def renew_session_id(end_reason: str = "logout") -> None:
    """Gives the session a new id when the response is saved (at login), ending the old one."""
    from flask import session

    session.renew = True
    session.end_reason = end_reason
    session.modified = True


def current_session_row_id() -> int | None:
    from flask import session

    return getattr(session, "row_id", None)


class ServerSessionInterface(SecureCookieSessionInterface):
    session_class = ConsoleSession

    def __init__(self, clock=utcnow):
        # Tests replace the clock to step through idle and absolute lifetimes without sleeping.
        self.clock = clock

    @staticmethod
    def _app_context(app):
        # The test client's session_transaction opens a session outside any app context.
        return nullcontext() if has_app_context() else app.app_context()

    def open_session(self, app, request):
        if request.path.startswith((app.static_url_path or "/static") + "/"):
            # Static files need no login: no lookup, and nothing is saved (an error page for a
            # missing file still gets a session to render its form tokens with).
            session = ConsoleSession()
            session.transient = True
            return session
        raw = request.cookies.get(self.get_cookie_name(app))
        if not raw:
            return ConsoleSession()
        if is_session_id(raw):
            with self._app_context(app):
                row = find_live_session(db.session, raw, self.clock(),
                                        Lifetimes.from_config(app.config))
                if row is None:
                    if db.session.dirty:  # it outlived its lifetime and was just ended
                        db.session.commit()
                    return self._stale()
                return ConsoleSession(self.serializer.loads(row.data), row_id=row.id)
        signer = self.get_signing_serializer(app)
        try:
            data = signer.loads(raw, max_age=int(timedelta(hours=app.config["SESSION_MAX_HOURS"])
                                                 .total_seconds()))
        except BadSignature:
            return self._stale()
        if not isinstance(data, dict) or LOGIN_KEY in data:
            return self._stale()
        return ConsoleSession(data)

    @staticmethod
    def _stale() -> ConsoleSession:
        session = ConsoleSession()
        session.stale_cookie = True
        return session

    def save_session(self, app, session, response):
        if session.transient:
            return
        with self._app_context(app):
            self._save(app, session, response)

    def _save(self, app, session: ConsoleSession, response) -> None:
        now = self.clock()
        row = db.session.get(UserSession, session.row_id) if session.row_id else None
        if session.row_id and (row is None or row.ended_at is not None):
            # Ended while this request ran (deactivation, a password change elsewhere).
            self._delete_cookie(app, response)
            return
        user_id = session.get(LOGIN_KEY)
        if user_id is not None:
            if row is not None and (session.renew or str(row.user_id) != str(user_id)):
                end_session(row, session.end_reason if session.renew else "replaced", now)
                row = None
            if row is None:
                self._start(app, session, response, user_id, now)
            else:
                self._touch(session, row, now)
            return
        if row is not None:
            end_session(row, session.end_reason, now)
            db.session.commit()
            # The CSRF token of the ended session does not carry over to the anonymous one.
            session.pop("csrf_token", None)
        if not session:
            if session.modified or session.stale_cookie or row is not None:
                self._delete_cookie(app, response)
            return
        if session.modified or session.stale_cookie or row is not None:
            value = self.get_signing_serializer(app).dumps(dict(session))
            self._set_cookie(app, response, value)

    def _start(self, app, session, response, user_id, now) -> None:
        user = db.session.get(User, int(user_id)) if str(user_id).isdigit() else None
        if user is None or not user.active:
            self._delete_cookie(app, response)
            return
        raw_id, row = start_session(db.session, user, self.serializer.dumps(dict(session)),
                                    describe_device(request.headers.get("User-Agent", "")), now)
        db.session.commit()
        session.row_id = row.id
        self._set_cookie(app, response, raw_id)

    def _touch(self, session, row: UserSession, now) -> None:
        changed = False
        if session.modified:
            row.data = self.serializer.dumps(dict(session))
            changed = True
        if now - row.last_seen_at >= LAST_SEEN_STEP:
            row.last_seen_at = now
            changed = True
        if changed:
            db.session.commit()

    def _set_cookie(self, app, response, value: str) -> None:
        response.set_cookie(
            self.get_cookie_name(app), value, domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app), httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app),
            partitioned=self.get_cookie_partitioned(app))
        response.vary.add("Cookie")

    def _delete_cookie(self, app, response) -> None:
        response.delete_cookie(
            self.get_cookie_name(app), domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app), samesite=self.get_cookie_samesite(app),
            partitioned=self.get_cookie_partitioned(app))
        response.vary.add("Cookie")


def session_lifetimes() -> Lifetimes:
    return Lifetimes.from_config(current_app.config)


def session_clock():
    return current_app.session_interface.clock()
