"""Digest benchmark: one rule, 10,000 recipients, delivered to a local SMTP sink by two workers.

    .venv/bin/python bench/digest_bench.py [--recipients 10000] [--workers 2] [--database-url URL]

Builds everything it needs and removes it afterwards: a SQLite database in a temporary directory
(or the empty PostgreSQL database given with --database-url, whose tables it drops first), a
redis-server of its own on a free port, and an SMTP sink (aiosmtpd) in a separate process that
writes the Message-ID of every accepted message to a file. It creates a workspace with N active
users, an "App install" rule for everyone by email, and one install event; closes the window
with the same code as `flask --app wsgi notifications send-due` (N delivery rows, queued as send
jobs), then starts `--workers` processes of `flask --app wsgi worker --burst` and measures until
they exit. It prints deliveries per second, the total time, how many messages the sink accepted,
how many Message-IDs it saw twice (duplicates) and the delivery statuses in the database.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testsupport.ports import free_port  # noqa: E402  (after the checkout is on the path)
from testsupport.redis_server import RedisServer  # noqa: E402

TARGET_SECONDS = 60.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None,
                        help="an empty PostgreSQL database to use instead of a temporary SQLite one")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
    return parser.parse_args()


def start_sink(workdir: Path) -> tuple[subprocess.Popen, int, Path]:
    """The SMTP sink in a process of its own: receiving shares no interpreter with the measuring."""
    port, log = free_port(), workdir / "sink.log"
    log.touch()
    process = subprocess.Popen([sys.executable, "-m", "testsupport.smtp", str(port), str(log)],
                               cwd=ROOT)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port, log
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("SMTP sink did not start")


def seed(app, recipients: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import insert, text
    from werkzeug.security import generate_password_hash

    from webapp.extensions import db
    from webapp.models import App, Installation, User, Workspace
    from webapp.services.events import record_event
    from webapp.services.notifications.rules import RuleForm, save_rule

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        workspace = Workspace(slug="bench", name="Bench", plan="professional")
        db.session.add(workspace)
        db.session.flush()
        password = generate_password_hash("bench-password")
        db.session.execute(insert(User), [
            dict(workspace_id=workspace.id, email=f"person{i:05}@bench.test", name=f"Person {i:05}",
                 role="super_admin" if i == 0 else "user", password_hash=password, active=True,
                 created_at=datetime.now(timezone.utc))
            for i in range(recipients)])
        admin = db.session.scalar(db.select(User).where(User.email == "person00000@bench.test"))
        app_row = App(slug="bench-app", name="Bench App", vendor="Bench", category="Sales",
                      version="1.0.0", client_id="bench-app-client")
        db.session.add(app_row)
        db.session.flush()
        installation = Installation(workspace_id=workspace.id, app_id=app_row.id,
                                    installed_version="1.0.0", installed_by_id=admin.id)
        db.session.add(installation)
        db.session.flush()
        rule = save_rule(db.session, workspace, admin, RuleForm(
            name="Every install", frequency="hour", all_apps=True, channels=["email"],
            audience="everyone"))
        record_event(db.session, installation, "installed", admin.id, occurred_at=rule.evaluated_until)
        db.session.commit()


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="digest-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    redis, sink = RedisServer(workdir), None
    workers: list[subprocess.Popen] = []
    try:
        redis_url = redis.start().url
        sink, smtp_port, sink_log = start_sink(workdir)
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, SMTP_HOST="127.0.0.1",
                   SMTP_PORT=str(smtp_port), PUBLIC_URL="http://127.0.0.1:5000", APP_ENV="development")
        os.environ.update(env)

        from webapp import create_app
        from webapp.extensions import db, work_queue
        from webapp.services.notifications.outbox import JOB_SIZE, send_due
        from webapp.services.notifications.settings import NotificationSettings
        from webapp.services.notifications.windows import next_window_start, workspace_zone

        app = create_app()
        seed(app, args.recipients)
        with app.app_context():
            from webapp.models import Delivery, NotificationRule

            rule = db.session.scalar(db.select(NotificationRule))
            window_end = next_window_start(rule.evaluated_until, "hour", workspace_zone("UTC"))
            settings = NotificationSettings.from_config(app.config)
            started = time.perf_counter()
            report = send_due(db.session, settings, work_queue(), window_end)
            close_seconds = time.perf_counter() - started
            db.session.remove()
        print(f"closed the window: {report.deliveries} deliveries written and queued as "
              f"{-(-report.deliveries // JOB_SIZE)} jobs in {close_seconds:.2f} s")

        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for _ in range(args.workers)]
        last_count, last_seen = 0, started
        while any(w.poll() is None for w in workers):
            if time.perf_counter() - started > args.timeout:
                raise SystemExit(f"gave up after {args.timeout:.0f} s")
            count = sum(1 for _ in sink_log.open())
            if count != last_count:
                last_count, last_seen = count, time.perf_counter()
            time.sleep(0.1)
        total = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
        delivered_in = last_seen - started
        ids = Counter(line.strip() for line in sink_log.open() if line.strip())
        duplicates = sum(n - 1 for n in ids.values())
        with app.app_context():
            statuses = dict(db.session.execute(db.select(Delivery.status, db.func.count())
                                               .group_by(Delivery.status)).all())
            db.session.remove()
            db.engine.dispose()
        accepted = sum(ids.values())
        print(f"recipients:             {args.recipients}")
        print(f"workers:                {args.workers} x `flask --app wsgi worker --burst`")
        where = database_url.split("@")[-1] if "@" in database_url else "SQLite (temporary file)"
        print(f"database:               {where}")
        print(f"messages accepted:      {accepted} ({len(ids)} distinct Message-IDs)")
        print(f"duplicates:             {duplicates}")
        print(f"delivery statuses:      {statuses}")
        print(f"last message after:     {delivered_in:.1f} s (workers started -> last message accepted)")
        print(f"total time:             {total:.1f} s (workers started -> both exited)")
        print(f"deliveries per second:  {len(ids) / delivered_in:.0f}")
        print(f"worker CPU time:        {worker_cpu:.1f} s in all (workers and their work horses), "
              f"{1000 * worker_cpu / max(len(ids), 1):.1f} ms per delivery")
        ok = len(ids) == args.recipients and duplicates == 0 and delivered_in <= TARGET_SECONDS
        print(f"target (all within {TARGET_SECONDS:.0f} s, zero duplicates): {'PASS' if ok else 'MISS'}")
        return 0
    finally:
        for process in [*workers, sink]:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
