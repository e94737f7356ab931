"""App log benchmark: the overview page and the log fragment against a large log on SQLite.

    .venv/bin/python bench/log_bench.py [--events 1000000] [--repeat 30]

Builds its own SQLite database in a temporary directory (migrations, then the demo seed with
`--events` log events), logs in as the demo admin through the Flask test client and, for each case,
prints the median in-process server time over `--repeat` requests (after a warm-up) next to the
median time of the bare SQL behind it, executed directly through the driver with the very
statement and parameters the request issued. It also lists the SQL of the overview page and checks
that the only statement touching the events table is the log's first page (LIMIT 51).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_FRAGMENT_MS = 15.0
TARGET_OVERVIEW_MS = 30.0
TARGET_DEEP_RATIO = 1.3
DEEP_PAGE = 10_000
PASSWORD = "bench-password"
WARM_UP = 3
OVERVIEW = "/settings/connected-apps/"
EVENTS_TABLE = re.compile(r"\bFROM events\b|\bJOIN events\b", re.IGNORECASE)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="log events to seed")
    parser.add_argument("--repeat", type=int, default=30, help="measured requests per case")
    parser.add_argument("--keep", action="store_true", help="keep the database and print its path")
    parser.add_argument("--deep-page", type=int, default=DEEP_PAGE,
                        help="the page reached by cursor (needs 50 events per page)")
    return parser.parse_args()


class StatementLog:
    """Records (statement, parameters) of every query while `active`."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.active = False
        self.statements: list[tuple[str, tuple]] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, connection, cursor, statement, parameters, context, executemany):
        if self.active:
            self.statements.append((statement, parameters))

    def capture(self, action):
        self.statements, self.active = [], True
        try:
            action()
        finally:
            self.active = False
        return self.statements


def median_ms(actions: list, repeat: int) -> list[tuple[float, float]]:
    """Median wall time and median CPU time of this process, in ms, of each action.

    The actions take turns, round after round, so a burst of load on a shared machine falls on
    every case alike. The wall time includes waiting for a core on a busy machine; CPU time does not.
    """
    for _ in range(WARM_UP):
        for action in actions:
            action()
    wall = [[] for _ in actions]
    cpu = [[] for _ in actions]
    for _ in range(repeat):
        for index, action in enumerate(actions):
            start, start_cpu = time.perf_counter(), time.process_time()
            action()
            wall[index].append((time.perf_counter() - start) * 1000)
            cpu[index].append((time.process_time() - start_cpu) * 1000)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(wall, cpu)]


def login(client, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "login failed"


def main() -> None:
    args = parse_args()
    workdir = tempfile.mkdtemp(prefix="log-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("APP_ENV", "development")

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import App, Event, User, Workspace
    from webapp.services.demo import seed_demo

    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        result = seed_demo(db.session, event_count=args.events, password=PASSWORD)
        print(f"seeded in {time.perf_counter() - started:.1f} s: {result.summary()}")
        workspace = db.session.scalar(select(Workspace).where(Workspace.slug == "demo"))
        admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
        # Filters that match full pages (50 rows rendered), the usual case an admin meets.
        busy_user = db.session.scalar(select(User).where(User.email == "superadmin@example.com"))
        busy_app = db.session.scalar(select(App).where(App.slug == "helpharbor"))
        latest = db.session.scalar(select(func.max(Event.occurred_at)))
        span = {"from": (latest - timedelta(days=60)).date().isoformat(),
                "to": (latest - timedelta(days=30)).date().isoformat()}
        second_cursor = walk_to_page(db.session, workspace.id, app.config["SECRET_KEY"], 2)
        deep_cursor = walk_to_page(db.session, workspace.id, app.config["SECRET_KEY"], args.deep_page)
        db.session.remove()
        cases = [
            ("overview page", OVERVIEW, None),
            ("log: first page", OVERVIEW, "app-log-table"),
            ("log: activity", f"{OVERVIEW}?activity=sync_off", "app-log-table"),
            ("log: user", f"{OVERVIEW}?user={busy_user.id}", "app-log-table"),
            ("log: app", f"{OVERVIEW}?app={busy_app.id}", "app-log-table"),
            ("log: from/to", f"{OVERVIEW}?from={span['from']}&to={span['to']}", "app-log-table"),
            ("log: all filters", f"{OVERVIEW}?activity=sync_on&user={admin.id}&app={busy_app.id}"
                                 f"&from={span['from']}&to={span['to']}", "app-log-table"),
            ("log: page 2 by cursor", f"{OVERVIEW}?cursor={second_cursor}", "app-log-more"),
            (f"log: page {args.deep_page:,} by cursor", f"{OVERVIEW}?cursor={deep_cursor}",
             "app-log-more"),
        ]
        run_cases(app, db, cases, args.repeat)
    if args.keep:
        print(f"\ndatabase kept: {workdir}/bench.sqlite3")
    else:
        shutil.rmtree(workdir)


def walk_to_page(session, workspace_id: int, secret_key: str, page_number: int) -> str:
    """The cursor that loads `page_number`, found by following the keyset page after page."""
    from webapp.services import event_log

    started = time.perf_counter()
    filters, after = event_log.LogFilters(), None
    for _ in range(page_number - 1):
        page = event_log.fetch_page(session, workspace_id, filters, after=after)
        if page.next_key is None:
            raise SystemExit(f"the log has fewer than {page_number} pages: seed more events")
        after = page.next_key
    print(f"walked {page_number - 1:,} page(s) to the cursor of page {page_number:,} "
          f"in {time.perf_counter() - started:.1f} s")
    return event_log.encode_cursor(secret_key, after)


def run_cases(app, db, cases, repeat: int) -> None:
    client = app.test_client()
    with app.app_context():
        login(client, "admin@example.com")
        statements = StatementLog(db.engine)
        raw = db.engine.raw_connection()
        requests, behind_each, overview_sql = [], [], []
        for name, url, target in cases:
            headers = {"HX-Request": "true", "HX-Target": target} if target else {}

            def request(url=url, headers=headers):
                response = client.get(url, headers=headers)
                assert response.status_code == 200, (url, response.status_code)

            issued = statements.capture(request)
            if target is None:
                overview_sql = behind = issued
            else:
                behind = [s for s in issued if EVENTS_TABLE.search(s[0])]
            requests.append(request)
            behind_each.append(behind)
        server = median_ms(requests, repeat)
        # The bare SQL is cheap: measure it many more times so its median is steady.
        bare = median_ms([lambda behind=behind: run_raw(raw, behind) for behind in behind_each],
                         max(10 * repeat, 300))
        rows = [(case[0], server_ms, bare_ms, behind)
                for case, server_ms, bare_ms, behind in zip(cases, server, bare, behind_each)]
        raw.close()
    report(rows, overview_sql, repeat)


def run_raw(raw, statements) -> None:
    cursor = raw.cursor()
    for statement, parameters in statements:
        cursor.execute(statement, parameters)
        cursor.fetchall()
    cursor.close()


def report(rows, overview_sql, repeat: int) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nmedian of {repeat} requests (bare SQL: {max(10 * repeat, 300)} runs) after {WARM_UP} "
          f"warm-up requests, in milliseconds ({os.cpu_count()} CPUs, load average {load}); "
          f"server CPU = CPU time of the process\n")
    print("| case | median server ms | median server CPU ms | median bare SQL ms | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, server, bare, _ in rows:
        print(f"| {name} | {server[0]:.2f} | {server[1]:.2f} | {bare[0]:.2f} | {server[0] / bare[0]:.0f}x |")
    overview, first, second, deep = rows[0][1], rows[1][1], rows[-2][1], rows[-1][1]
    deep_ratio = deep[0] / first[0]
    print(f"\ndeep page / first page: server {deep_ratio:.2f}x (CPU {deep[1] / first[1]:.2f}x), "
          f"bare SQL {rows[-1][2][0] / rows[1][2][0]:.2f}x")
    print(f"deep page / page 2 (both 'Load more' fragments): server {deep[0] / second[0]:.2f}x "
          f"(CPU {deep[1] / second[1]:.2f}x), bare SQL {rows[-1][2][0] / rows[-2][2][0]:.2f}x")

    print("\nSQL issued by the overview page:")
    for statement, parameters in overview_sql:
        print(f"  {' '.join(statement.split())[:160]}  {parameters}")
    touching = [s for s, _ in overview_sql if EVENTS_TABLE.search(s)]
    only_first_page = len(touching) == 1 and bool(re.search(r"LIMIT 51\b", touching[0]))
    print(f"overview: {len(touching)} statement(s) touch the events table; "
          + ("OK: only the log's first page (LIMIT 51)" if only_first_page
             else "FAIL: the overview must not query the events table beyond the log's first page"))

    print("\nquery plans of the log queries:")
    for name, _, _, behind in rows[1:]:
        for statement, _ in behind:
            print(f"  {name}: {plan(statement, behind)}")

    verdicts = [(f"{name}: {server[0]:.2f} ms < {TARGET_FRAGMENT_MS:g} ms", server[0] < TARGET_FRAGMENT_MS)
                for name, server, _, _ in rows[1:]]
    verdicts.append((f"overview page: {overview[0]:.2f} ms < {TARGET_OVERVIEW_MS:g} ms",
                     overview[0] < TARGET_OVERVIEW_MS))
    verdicts.append((f"deep page within {TARGET_DEEP_RATIO}x of the first page: {deep_ratio:.2f}x",
                     deep_ratio <= TARGET_DEEP_RATIO))
    verdicts.append(("overview reads events only for the log's first page", only_first_page))
    print("\ntargets (server wall time):")
    for text, ok in verdicts:
        print(f"  {'PASS' if ok else 'MISS'}  {text}")


def plan(statement: str, behind) -> str:
    from webapp.extensions import db

    parameters = next(p for s, p in behind if s == statement)
    with db.engine.connect() as connection:
        steps = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "; ".join(step[-1] for step in steps)


if __name__ == "__main__":
    main()
