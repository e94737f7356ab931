"""A worker killed with SIGKILL in the middle of a 500-recipient digest: nothing is lost."""
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from webapp.extensions import db, work_queue
from webapp.models import App, Delivery, User, Workspace
from webapp.services import lifecycle
from webapp.services.notifications.outbox import LEASE, relay, send_due
from tests.conftest import make_app, make_user
from tests.notifications.conftest import app_settings
from tests.notifications.test_digest import at, make_rule

ROOT = Path(__file__).resolve().parents[2]


def worker_process(app, redis_url, smtp_port, *args):
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url,
               SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), PUBLIC_URL="http://localhost",
               APP_ENV="development")
    # Its own session (process group), so the kill reaches the work horse it forked too.
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args],
                            cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_worker(pid: int) -> None:
    """SIGKILL for the worker and its work horse (RQ puts the horse in a session of its own)."""
    os.kill(pid, signal.SIGSTOP)  # no new work horse while we look for the current one
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        try:
            os.kill(int(child), signal.SIGKILL)
        except ProcessLookupError:
            pass
    os.killpg(pid, signal.SIGKILL)


def test_a_killed_worker_loses_nothing_and_duplicates_at_most_one(
        session, people, smtp_sink, private_redis, private_app):
    for i in range(497):
        make_user(session, people["acme"], f"member{i:03}@acme.test")
    app_row = make_app(session, "crm-sync", name="CRM Sync")
    make_rule(session, people, name="Installs", channels=["email"])
    recipients = session.scalar(select(func.count(User.id)).where(User.workspace_id == people["acme"].id))
    assert recipients == 500

    with private_app.app_context():
        lifecycle.consent(db.session, db.session.get(Workspace, people["acme"].id),
                          db.session.get(App, app_row.id), db.session.get(User, people["admin"].id),
                          ["contacts.read"], now=at(10, 20))
        db.session.commit()
        assert send_due(db.session, app_settings(), work_queue(), at(11)).deliveries == 500

    first = worker_process(private_app, private_redis.url, smtp_sink.port)
    try:
        deadline = time.monotonic() + 90
        while smtp_sink.count < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert smtp_sink.count >= 40, "the worker did not start sending"
    finally:
        kill_worker(first.pid)
        first.wait(timeout=10)
    delivered_before = smtp_sink.count
    assert delivered_before < 500, "the kill came too late to test anything"

    with private_app.app_context():
        # The dead worker's claims run out (the lease's time passes).
        in_flight = db.session.scalars(select(Delivery).where(Delivery.status == "sending")).all()
        for row in in_flight:
            row.claimed_at -= LEASE + timedelta(seconds=1)
        db.session.commit()
        relay(db.session, app_settings(), work_queue(), min_age=timedelta(0))

    second = worker_process(private_app, private_redis.url, smtp_sink.port, "--burst")
    assert second.wait(timeout=180) == 0

    ids = Counter(m["Message-ID"] for m in smtp_sink.messages)
    assert len(ids) == 500, "every recipient got the digest"
    assert sum(n - 1 for n in ids.values()) <= 1, "at most one duplicate per killed worker"
    session.expire_all()
    assert dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()) == {
        "sent": 500}
