"""Folding counts from Redis into the usage table: exactly once, whatever step a fold dies at."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import make_app, make_installation
from webapp.extensions import db
from webapp.models import UsageFold, UsageHourly
from webapp.services.usage import count_api_call, fold_usage

NOW = datetime(2026, 11, 30, 10, 15, tzinfo=timezone.utc)
STEPS = ["claimed", "read", "written", "committed", "forgotten"]


class Crash(Exception):
    """Stands for the process dying at that point."""


@pytest.fixture
def installations(session, people):
    crm = make_installation(session, people["acme"], make_app(session, "crm-sync"))
    mail = make_installation(session, people["globex"], make_app(session, "mail-bridge"))
    session.commit()
    return crm, mail


def table(session) -> dict[tuple[int, int, str, datetime], int]:
    session.expire_all()
    return {(row.installation_id, row.workspace_id, row.scope, row.hour): row.calls
            for row in session.scalars(select(UsageHourly))}


def usage_keys(redis) -> list[bytes]:
    return sorted(redis.scan_iter("usage:*"))


def count(redis, installation, calls: int, scopes=(), now=NOW):
    for _ in range(calls):
        assert count_api_call(redis, installation.id, list(scopes), now)


def test_the_fold_moves_counts_per_installation_scope_and_hour(session, redis, installations):
    crm, mail = installations
    count(redis, crm, 2, ["contacts.read"])
    count(redis, crm, 1, now=NOW - timedelta(hours=1))
    count(redis, mail, 4, ["files.read", "contacts.read"])
    report = fold_usage(session, redis, NOW)
    hour = NOW.replace(minute=0)
    assert table(session) == {
        (crm.id, crm.workspace_id, "", hour): 2,
        (crm.id, crm.workspace_id, "contacts.read", hour): 2,
        (crm.id, crm.workspace_id, "", hour - timedelta(hours=1)): 1,
        (mail.id, mail.workspace_id, "", hour): 4,
        (mail.id, mail.workspace_id, "contacts.read", hour): 4,
        (mail.id, mail.workspace_id, "files.read", hour): 4,
    }
    assert (report.batches, report.calls, report.rows) == (2, 7, 6)
    assert report.summary() == "folded 7 API calls from 2 batches into 6 rows"
    assert usage_keys(redis) == []


def test_folding_twice_counts_nothing_twice_and_later_calls_add_up(session, redis, installations):
    crm, _ = installations
    count(redis, crm, 3)
    fold_usage(session, redis, NOW)
    assert fold_usage(session, redis, NOW).calls == 0
    count(redis, crm, 2, now=NOW + timedelta(minutes=1))
    fold_usage(session, redis, NOW + timedelta(minutes=1))
    assert table(session) == {(crm.id, crm.workspace_id, "", NOW.replace(minute=0)): 5}


@pytest.mark.parametrize("step", STEPS)
def test_a_fold_dying_at_any_step_neither_loses_nor_doubles_counts(step, session, redis,
                                                                   installations):
    crm, mail = installations
    count(redis, crm, 3, ["contacts.read"])
    count(redis, mail, 2, now=NOW - timedelta(hours=2))

    def die(reached: str) -> None:
        if reached == step:
            raise Crash(reached)

    with pytest.raises(Crash):
        fold_usage(session, redis, NOW, hook=die)
    session.rollback()  # what the database does to a dead process's open transaction
    count(redis, crm, 1)  # calls go on meanwhile
    report = fold_usage(session, redis, NOW + timedelta(minutes=1))
    hour = NOW.replace(minute=0)
    assert table(session) == {
        (crm.id, crm.workspace_id, "", hour): 4,
        (crm.id, crm.workspace_id, "contacts.read", hour): 3,
        (mail.id, mail.workspace_id, "", hour - timedelta(hours=2)): 2,
    }
    assert usage_keys(redis) == []
    assert report.repeated == (1 if step == "committed" else 0)


def test_two_folds_racing_on_one_batch_count_it_once(app, session, redis, installations):
    crm, _ = installations
    count(redis, crm, 5)

    def other_fold_meanwhile(reached: str) -> None:
        if reached == "read":
            other = Session(db.engine)
            try:
                fold_usage(other, redis, NOW)
            finally:
                other.close()

    report = fold_usage(session, redis, NOW, hook=other_fold_meanwhile)
    assert report.batches == 0  # the other fold won the batch this one had read
    assert table(session) == {(crm.id, crm.workspace_id, "", NOW.replace(minute=0)): 5}
    assert usage_keys(redis) == []


def test_counts_of_unknown_installations_are_dropped_without_blocking_the_rest(
        session, redis, installations):
    crm, _ = installations
    count(redis, crm, 1)
    assert count_api_call(redis, 999_999, ["contacts.read"], NOW)
    report = fold_usage(session, redis, NOW)
    assert (report.calls, report.dropped) == (1, 2)
    assert table(session) == {(crm.id, crm.workspace_id, "", NOW.replace(minute=0)): 1}
    assert usage_keys(redis) == []


def test_the_ledger_keeps_batches_only_as_long_as_redis_could_hold_them(session, redis,
                                                                       installations):
    crm, _ = installations
    count(redis, crm, 1)
    fold_usage(session, redis, NOW)
    assert session.scalar(select(func.count()).select_from(UsageFold)) == 1
    fold_usage(session, redis, NOW + timedelta(days=8, hours=23))
    assert session.scalar(select(func.count()).select_from(UsageFold)) == 1
    fold_usage(session, redis, NOW + timedelta(days=9, minutes=1))
    assert session.scalar(select(func.count()).select_from(UsageFold)) == 0
    assert table(session) == {(crm.id, crm.workspace_id, "", NOW.replace(minute=0)): 1}


def test_usage_fold_command_folds_and_says_what(app, session, redis, installations):
    crm, _ = installations
    count(redis, crm, 2, now=datetime.now(timezone.utc))
    result = app.test_cli_runner().invoke(args=["usage", "fold"])
    assert result.exit_code == 0, result.output
    assert "folded 2 API calls from 1 batches into 1 rows" in result.output
    again = app.test_cli_runner().invoke(args=["usage", "fold"])
    assert "folded 0 API calls" in again.output
    assert sum(table(session).values()) == 2


def test_usage_fold_command_with_redis_down_says_nothing_was_lost(app, session, monkeypatch):
    from redis import Redis

    monkeypatch.setitem(app.extensions, "redis", Redis.from_url("redis://127.0.0.1:1/0"))
    result = app.test_cli_runner().invoke(args=["usage", "fold"])
    assert result.exit_code == 1
    assert "Redis failed" in result.output and "nothing was lost" in result.output


def test_the_scheduled_job_is_the_fold(app, session, redis, installations, monkeypatch):
    from worker.jobs import fold_usage as job
    from worker.schedule import schedule

    assert any(entry["func"] is job and entry["cron"] == "* * * * *"
               for entry in schedule(app.config))
    monkeypatch.setitem(app.extensions, "redis", redis)
    crm, _ = installations
    count(redis, crm, 3, now=datetime.now(timezone.utc))
    assert job() == {"batches": 1, "calls": 3, "rows": 1, "repeated": 0}
