"""Introspection benchmark: a resource server's /oauth/introspect with usage counting on and off.

    .venv/bin/python bench/introspect_bench.py [--requests 1000] [--rounds 9] [--threads 8]
        [--redis-url URL]

Builds its own SQLite database in a temporary directory (migrations, a workspace, an app, a
resource server) and gets a real access token through the OAuth flow in the Flask test client.
Then, in rounds that alternate, it sends `--requests` introspections (with `scope=contacts.read`,
as an API serving a read would) from `--threads` threads at once (8: what `make run`'s gunicorn
serves with) with counting off (no counter) and on (the app's UsageCounter: each call's increments
added in memory, sent to Redis as one pipeline per moment by the counter's thread), and prints
each mode's median throughput, the process's CPU time per request (the sender's included), and
the throughput ratio (target: counting keeps at least 90%). Finally it folds what was counted into its own database and
checks that every counted call is there exactly once.

The counts go to a redis-server of the benchmark's own on a free port (testsupport), so that
nothing else's data is touched and nothing else touches them; `--redis-url` names another Redis,
whose `usage:*` keys are then removed at the start and at the end.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RATIO = 0.90
PASSWORD = "bench-password"
REDIRECT_URI = "http://127.0.0.1:8900/callback"
MANIFEST = {
    "slug": "bench-app", "name": "Bench App", "vendor": "Bench", "category": "Sales",
    "description": "Calls the contacts API.", "version": "1.0.0", "install_level": "account",
    "install_url": "http://127.0.0.1:8900/install", "redirect_uris": [REDIRECT_URI],
    "scopes": {"required": ["contacts.read"], "conditionally_required": [], "optional": []},
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="introspections per round")
    parser.add_argument("--rounds", type=int, default=9, help="measured rounds per mode")
    parser.add_argument("--threads", type=int, default=8, help="concurrent callers")
    parser.add_argument("--redis-url", default=None,
                        help="where the counts go (default: a redis-server of its own; the "
                             "usage keys of the one named are removed at the start and end)")
    return parser.parse_args()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def access_token(client, client_id: str, client_secret: str) -> str:
    """The authorization code flow with PKCE, as a person and an app would go through it."""
    import base64

    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": "admin@bench.test", "password": PASSWORD,
                                "csrf_token": csrf_of(login)})
    verifier = base64.urlsafe_b64encode(os.urandom(48)).rstrip(b"=").decode()
    url = "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
        "scope": "contacts.read", "state": "bench", "code_challenge_method": "S256",
        "code_challenge": create_s256_code_challenge(verifier)})
    consent = client.get(url).get_data(as_text=True)
    answer = client.post(url, data={"decision": "connect", "csrf_token": csrf_of(consent)})
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = client.post("/oauth/token", auth=(client_id, client_secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier}).get_json()
    return tokens["access_token"]


def clear_usage(redis) -> None:
    keys = list(redis.scan_iter("usage:*"))
    if keys:
        redis.delete(*keys)


def main() -> None:
    args = parse_args()
    workdir = tempfile.mkdtemp(prefix="introspect-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("APP_ENV", "development")

    from flask_migrate import upgrade
    from redis import Redis
    from sqlalchemy import func, select

    from webapp import create_app
    from webapp.database import utcnow
    from webapp.extensions import db
    from webapp.models import UsageHourly
    from webapp.services.accounts import create_user, get_or_create_workspace
    from webapp.services.registration import register_app
    from webapp.services.resource_servers import register_resource_server
    from webapp.services.usage import UsageCounter, fold_usage

    own_redis = None
    if args.redis_url is None:
        from testsupport.redis_server import RedisServer

        own_redis = RedisServer(Path(workdir)).start()
    redis_url = args.redis_url or own_redis.url
    app = create_app({"RATELIMIT_ENABLED": False, "REDIS_URL": redis_url})
    counting = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=5)
    counting.ping()
    clear_usage(counting)
    counter = UsageCounter(counting)
    try:
        with app.app_context():
            upgrade()
            workspace = get_or_create_workspace(db.session, "bench", plan="professional")
            create_user(db.session, workspace, "admin@bench.test", PASSWORD, role="admin")
            client_app = register_app(db.session, MANIFEST).as_json()
            server = register_resource_server(db.session, "Bench API").as_json()
            db.session.commit()
        client = app.test_client()
        with app.app_context():
            token = access_token(client, client_app["client_id"], client_app["client_secret"])
        auth = (server["client_id"], server["client_secret"])
        form = {"token": token, "token_type_hint": "access_token", "scope": "contacts.read"}

        def caller(count: int, failures: list) -> None:
            api = app.test_client()
            for _ in range(count):
                response = api.post("/oauth/introspect", data=form, auth=auth)
                if response.status_code != 200 or response.get_json().get("active") is not True:
                    failures.append(response.status_code)
                    return

        def round_of(mode: str) -> tuple[float, float]:
            """Throughput (requests/s) and CPU ms per request of one round."""
            app.extensions["usage_counter"] = counter if mode == "on" else None
            failures: list = []
            shares = [args.requests // args.threads + (i < args.requests % args.threads)
                      for i in range(args.threads)]
            threads = [threading.Thread(target=caller, args=(share, failures)) for share in shares]
            started, started_cpu = time.perf_counter(), time.process_time()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            if failures:
                raise SystemExit(f"introspection failed: HTTP {failures[0]}")
            return args.requests / elapsed, cpu * 1000 / args.requests

        for mode in ("off", "on"):  # warm-up
            round_of(mode)
        counter.flush()
        clear_usage(counting)
        rates: dict[str, list[float]] = {"off": [], "on": []}
        cpu: dict[str, list[float]] = {"off": [], "on": []}
        for index in range(args.rounds):
            # Alternate which mode goes first, so that drift on a shared machine falls on both.
            for mode in (("off", "on") if index % 2 == 0 else ("on", "off")):
                rate, cpu_ms = round_of(mode)
                rates[mode].append(rate)
                cpu[mode].append(cpu_ms)

        counter.close()
        with app.app_context():
            fold_usage(db.session, counting, utcnow())
            folded = db.session.scalar(select(func.sum(UsageHourly.calls))
                                       .where(UsageHourly.scope == ""))
        expected = args.rounds * args.requests
    finally:
        clear_usage(counting)
        if own_redis is not None:
            own_redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    off, on = statistics.median(rates["off"]), statistics.median(rates["on"])
    ratio = on / off
    print(f"{args.rounds} rounds of {args.requests} introspections per mode from {args.threads} "
          f"threads (in-process, SQLite); load average at the end "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for mode, median in (("off", off), ("on", on)):
        print(f"counting {mode + ':':4} median {median:7.1f} requests/s, "
              f"{statistics.median(cpu[mode]):.2f} CPU ms per request  (rounds: "
              f"{', '.join(f'{r:.0f}' for r in rates[mode])})")
    print(f"ratio on/off: {ratio:.3f}  target >= {TARGET_RATIO:.2f}: "
          f"{'PASS' if ratio >= TARGET_RATIO else 'MISS'}")
    print(f"folded calls: {folded} of {expected} counted, {counter.lost} reported lost  "
          f"{'PASS' if folded == expected else 'MISS'}")


if __name__ == "__main__":
    main()
