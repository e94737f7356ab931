"""End-to-end fixtures: the real console on a free port, an SMTP sink, the sample app, Chromium.

Environment: E2E_REDIS_URL (default redis://127.0.0.1:6379/7, flushed at the start),
E2E_DATABASE_URL (default a temporary SQLite file; a PostgreSQL database given here is emptied),
E2E_CHROMIUM (default /usr/bin/chromium).

This is a test root of its own (`pytest e2e`): it shares nothing with tests/conftest.py, so the
`browser`, `context` and `page` fixtures here are pytest-playwright's.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from testsupport.ports import free_port, port_is_free
from testsupport.smtp import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "e2e" / "artifacts"
BIN = Path(sys.executable).parent
FLASK = str(BIN / "flask")
E2E_REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/7")
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
SAMPLE_APP_DIR = ROOT / "examples" / "sample_app"
SAMPLE_APP_PORT = 8900
DEMO_APPS_PORT = 8901

expect.set_options(timeout=15_000)  # generous: CI machines may be busy


def pytest_configure(config):
    # Failures leave a screenshot and a trace in e2e/artifacts/ (git-ignored).
    if config.getoption("--output", "test-results") == "test-results":
        config.option.output = str(ARTIFACTS)
    if config.getoption("--screenshot", "off") == "off":
        config.option.screenshot = "only-on-failure"
        config.option.full_page_screenshot = True
    if config.getoption("--tracing", "off") == "off":
        config.option.tracing = "retain-on-failure"


def wait_for_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- SMTP sink ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def smtp_sink():
    """Collects every message the console sends."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


# --- the console --------------------------------------------------------------------------------

@dataclass
class Console:
    url: str
    env: dict

    def cli(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        """Runs `flask --app wsgi ARGS` against the live server's database and Redis."""
        result = subprocess.run([FLASK, "--app", "wsgi", *args], cwd=ROOT, env=self.env, text=True,
                                capture_output=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def run_worker(self) -> subprocess.CompletedProcess:
        return self.cli("worker", "--burst")


def _database_url(workdir: Path) -> str:
    """SQLite in a temporary folder; or E2E_DATABASE_URL (PostgreSQL), emptied first."""
    url = os.environ.get("E2E_DATABASE_URL")
    if not url:
        return f"sqlite:///{workdir}/e2e.sqlite3"
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def _flush_own_redis_db() -> None:
    # Only the e2e database number: leftover jobs of an earlier run must not leak into this one.
    from redis import Redis

    Redis.from_url(E2E_REDIS_URL, socket_connect_timeout=2).flushdb()


@pytest.fixture(scope="session")
def console(tmp_path_factory, smtp_sink):
    workdir = tmp_path_factory.mktemp("console")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    demo_apps_port = DEMO_APPS_PORT if port_is_free(DEMO_APPS_PORT) else free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "DATABASE_", "SMTP_"))}
    env.update({
        "APP_ENV": "development",
        "DATABASE_URL": _database_url(workdir),
        "REDIS_URL": E2E_REDIS_URL,
        "PUBLIC_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_sink.port),
        "MAIL_FROM": "Connected Apps <noreply@example.com>",
        "PYTHONUNBUFFERED": "1",
        # The seed points the demo apps at their host (the demo_apps fixture starts it).
        "DEMO_APPS_URL": f"http://127.0.0.1:{demo_apps_port}",
        "DEMO_APPS_FILE": str(workdir / "demo_apps.json"),
    })
    console = Console(url=url, env=env)
    _flush_own_redis_db()
    console.cli("db", "upgrade")
    console.cli("demo", "seed", "--events", "500", timeout=300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "console.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen([FLASK, "--app", "wsgi", "run", "--host", "127.0.0.1", "--port",
                                    str(port), "--no-reload", "--no-debugger"],
                                   cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"{url}/healthz", process, log)
        yield console
    finally:
        stop(process)


@pytest.fixture(scope="session")
def base_url(console):
    return console.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900},
            "accept_downloads": True, "timezone_id": "UTC", "locale": "en-US"}


@pytest.fixture(scope="session")
def demo_apps(console):
    """`flask demo host`: the demo catalogue's apps, on the port the seed pointed them at."""
    url = console.env["DEMO_APPS_URL"]
    log = ARTIFACTS / "demo_apps.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen([FLASK, "--app", "wsgi", "demo", "host", "--port",
                                    url.rsplit(":", 1)[1]], cwd=ROOT, env=console.env,
                                   stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_for_http(url + "/", process, log)
        yield url
    finally:
        stop(process)


# --- the sample app -----------------------------------------------------------------------------

@dataclass
class SampleApp:
    url: str
    manifest: dict
    manifest_v2_path: Path
    state_file: Path
    slug: str
    name: str
    client_id: str
    client_secret: str

    def tokens(self) -> dict:
        """The connections the sample app keeps (its token file), by workspace slug."""
        return json.loads(self.state_file.read_text()) if self.state_file.exists() else {}


def _rewrite_port(value, old: int, new: int):
    """The manifest's URIs name port 8900; the e2e run may have to serve the app elsewhere."""
    if isinstance(value, str):
        return re.sub(rf"(https?://(?:127\.0\.0\.1|localhost)):{old}\b", rf"\g<1>:{new}", value)
    if isinstance(value, list):
        return [_rewrite_port(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite_port(v, old, new) for k, v in value.items()}
    return value


@pytest.fixture(scope="session")
def sample_app(console, tmp_path_factory):
    """Sample Notes registered (version 1) in the console and running on its own port."""
    if not (SAMPLE_APP_DIR / "app.py").exists():
        pytest.skip("examples/sample_app is not there yet")
    port = SAMPLE_APP_PORT if port_is_free(SAMPLE_APP_PORT) else free_port()
    workdir = tmp_path_factory.mktemp("sample_app")
    manifests = {}
    for name in ("manifest.json", "manifest-v2.json"):
        manifest = _rewrite_port(json.loads((SAMPLE_APP_DIR / name).read_text()), SAMPLE_APP_PORT, port)
        (workdir / name).write_text(json.dumps(manifest, indent=2))
        manifests[name] = manifest
    output = console.cli("apps", "register", str(workdir / "manifest.json")).stdout
    registered = json.loads(output[output.index("{"):])
    url = f"http://127.0.0.1:{port}"
    state_file = workdir / "tokens.json"
    env = {**console.env, "PORT": str(port), "HOST": "127.0.0.1", "CONSOLE_URL": console.url,
           "CLIENT_ID": registered["client_id"], "CLIENT_SECRET": registered["client_secret"],
           "SAMPLE_APP_URL": url, "SAMPLE_APP_STATE": str(state_file)}
    log = ARTIFACTS / "sample_app.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen([sys.executable, str(SAMPLE_APP_DIR / "app.py")], cwd=ROOT,
                                   env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_for_http(url + "/", process, log)
        yield SampleApp(url=url, manifest=manifests["manifest.json"],
                        manifest_v2_path=workdir / "manifest-v2.json", state_file=state_file,
                        slug=registered["slug"], name=manifests["manifest.json"]["name"],
                        client_id=registered["client_id"], client_secret=registered["client_secret"])
    finally:
        stop(process)


# --- people -------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def session_cookies(browser, base_url):
    """Logs each demo user in once per run (through the form) and keeps the session cookie."""
    from e2e.flows import log_in

    cookies: dict[str, list] = {}

    def for_user(email: str) -> list:
        if email not in cookies:
            context = browser.new_context(base_url=base_url)
            log_in(context.new_page(), email)
            cookies[email] = context.cookies()
            context.close()
        return cookies[email]

    return for_user


@pytest.fixture
def as_user(page, session_cookies):
    """as_user(email) -> the test's page, logged in as that demo user."""

    def open_as(email: str):
        page.context.add_cookies(session_cookies(email))
        return page

    return open_as
