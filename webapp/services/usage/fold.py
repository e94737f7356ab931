"""Folding the counts waiting in Redis into usage_hourly, idempotently and crash-safely.

1. Claim: one Lua script renames every hour hash that exists to a new batch key
   (`usage:batch:YYYYMMDDHH:{uuid}`) and adds it to the set of batches, atomically. Calls counted
   afterwards go to a fresh hash and the next fold.
2. For each batch in the set (this fold's and any a dead fold left behind): unless the ledger
   already holds it, read it and, in one transaction, insert its ledger row and add its counts
   to usage_hourly; commit.
3. Delete the batch key and its set entry (one MULTI).

A fold that dies before 2 commits leaves its batches in Redis, and the next fold counts them; one
that dies after leaves the ledger row, and the next fold only deletes them. Two folds racing on
one batch collide on the ledger's primary key: the loser rolls back and counts nothing.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis import Redis
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import Installation, UsageFold, UsageHourly
from webapp.services.usage.counting import (HOUR_FORMAT, KEEP_IN_REDIS, hour_key, hour_of,
                                            parse_hour)

log = logging.getLogger(__name__)

BATCH_PREFIX = "usage:batch:"
BATCH_SET = "usage:batches"
SCOPE_LIMIT = 80
UPSERT_CHUNK = 500
# Ledger rows outlive every batch key they could match (a batch key expires at most
# KEEP_IN_REDIS after its last count, which came before its fold), with a day for clock skew.
KEEP_LEDGER = KEEP_IN_REDIS + timedelta(days=1)

CLAIM_SCRIPT = """
local claimed = {}
for i = 2, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + 1])
    redis.call('SADD', KEYS[1], KEYS[i + 1])
    table.insert(claimed, KEYS[i + 1])
  end
end
return claimed
"""


@dataclass
class FoldReport:
    batches: int = 0  # batches whose counts were added now
    calls: int = 0  # installation calls added (scope rows not included)
    rows: int = 0  # usage_hourly rows written
    repeated: int = 0  # batches found already folded (a fold died before deleting them)
    dropped: int = 0  # counts naming an installation that does not exist

    def summary(self) -> str:
        text = f"folded {self.calls} API calls from {self.batches} batches into {self.rows} rows"
        if self.repeated:
            text += f"; {self.repeated} batches were already folded and are now deleted"
        if self.dropped:
            text += f"; {self.dropped} counts of unknown installations dropped"
        return text


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _hours_to_claim(now: datetime) -> list[datetime]:
    """Every hour whose hash may still be in Redis, and the next (a web host's clock ahead)."""
    last = hour_of(now) + timedelta(hours=1)
    hour = hour_of(now - KEEP_IN_REDIS)
    hours = []
    while hour <= last:
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def claim(redis: Redis, now: datetime) -> list[str]:
    """Renames the hour hashes waiting in Redis to new batches, atomically; returns their keys."""
    fold_id = uuid.uuid4().hex
    keys = [BATCH_SET]
    for hour in _hours_to_claim(now):
        keys += [hour_key(hour), f"{BATCH_PREFIX}{hour.strftime(HOUR_FORMAT)}:{fold_id}"]
    return [_text(name) for name in redis.register_script(CLAIM_SCRIPT)(keys=keys)]


def _rows(session: Session, counts: dict, hour: datetime, report: FoldReport) -> list[dict]:
    parsed: dict[tuple[int, str], int] = {}
    for raw_field, raw_calls in counts.items():
        installation, _, scope = _text(raw_field).partition(":")
        try:
            key, calls = (int(installation), scope), int(raw_calls)
        except ValueError:
            log.warning("usage fold: ignoring malformed field %r", raw_field)
            continue
        if len(scope) > SCOPE_LIMIT or calls <= 0:
            log.warning("usage fold: ignoring field %r = %r", raw_field, raw_calls)
            continue
        parsed[key] = parsed.get(key, 0) + calls
    ids = {installation for installation, _ in parsed}
    workspaces = dict(session.execute(select(Installation.id, Installation.workspace_id)
                                      .where(Installation.id.in_(ids))).all()) if ids else {}
    rows, dropped = [], 0
    for (installation, scope), calls in sorted(parsed.items()):
        if installation not in workspaces:
            dropped += 1
            continue
        rows.append({"installation_id": installation, "workspace_id": workspaces[installation],
                     "scope": scope, "hour": hour, "calls": calls})
    if dropped:
        log.warning("usage fold: %d counts name installations that do not exist", dropped)
        report.dropped += dropped
    return rows


def _upsert(session: Session, rows: list[dict]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    for start in range(0, len(rows), UPSERT_CHUNK):
        statement = insert(UsageHourly).values(rows[start:start + UPSERT_CHUNK])
        session.execute(statement.on_conflict_do_update(
            index_elements=["installation_id", "scope", "hour"],
            set_={"calls": UsageHourly.calls + statement.excluded.calls}))


def _forget(redis: Redis, batch: str) -> None:
    pipe = redis.pipeline(transaction=True)
    pipe.delete(batch)
    pipe.srem(BATCH_SET, batch)
    pipe.execute()


def _fold_batch(session: Session, redis: Redis, batch: str, now: datetime, report: FoldReport,
                step: Callable[[str], None]) -> None:
    if session.scalar(select(UsageFold.batch).where(UsageFold.batch == batch)) is not None:
        _forget(redis, batch)
        report.repeated += 1
        return
    counts = redis.hgetall(batch)
    step("read")
    if not counts:
        log.warning("usage fold: batch %s expired in Redis before it was folded", batch)
        _forget(redis, batch)
        return
    hour = parse_hour(batch[len(BATCH_PREFIX):].split(":", 1)[0])
    rows = _rows(session, counts, hour, report)
    calls = sum(row["calls"] for row in rows if row["scope"] == "")
    try:
        # The ledger row first: a racing fold of the same batch then fails before touching usage.
        session.add(UsageFold(batch=batch, folded_at=now, calls=calls))
        session.flush()
        if rows:
            _upsert(session, rows)
        step("written")
        session.commit()
    except IntegrityError:
        session.rollback()
        log.info("usage fold: batch %s was folded by another fold meanwhile", batch)
        return
    except BaseException:
        session.rollback()
        raise
    report.batches += 1
    report.calls += calls
    report.rows += len(rows)
    step("committed")
    _forget(redis, batch)
    step("forgotten")


def _no_hook(step: str) -> None:
    return None


def fold_usage(session: Session, redis: Redis, now: datetime,
               hook: Callable[[str], None] | None = None) -> FoldReport:
    """Moves every count waiting in Redis into usage_hourly; commits. Running it twice, or again
    after it died at any point, counts each call exactly once.

    `hook(step)` is called after each step ("claimed", "read", "written", "committed",
    "forgotten"), so that tests can stop a fold there as a crash would.
    """
    step = hook or _no_hook
    report = FoldReport()
    claim(redis, now)
    step("claimed")
    for batch in sorted(_text(name) for name in redis.smembers(BATCH_SET)):
        _fold_batch(session, redis, batch, now, report, step)
    session.execute(delete(UsageFold).where(UsageFold.folded_at < now - KEEP_LEDGER))
    session.commit()
    return report
