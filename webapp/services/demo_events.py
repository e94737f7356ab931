"""The demo workspace's log: each app's believable lifecycle history, bulk-inserted fast.

Per installation, the seed gives the history it is built on (installs, uninstalls, the disconnect
that left it disconnected, other users' grants, the change that gave a sync setting its seeded
value). Generated events fill the stretches where that history has the app installed and
connected, walking a small state machine forward in time: sync toggles alternate per key and
return to where they started, re-authentications happen while connected, and a disconnect is
followed by a reconnect before anything else. Multi-account apps have no status, so no
disconnects. An expired installation's tokens ran out a few days ago: nothing happens since.
So every app's log replays into the installation's seeded state, status and sync values.

A million rows must load in well under two minutes on SQLite, so the walk runs over precomputed
random arrays and rows go to the driver's executemany as plain tuples: no ORM objects, no per-row
type processing. Times are converted with the dialect's own DateTime bind processor, so they are
stored exactly as the UTCDateTime columns store them; the few distinct `details` values are
serialised once. Rows are inserted oldest first, so ids follow time as in an append-only log.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import Session

from webapp.models import Event, Installation, User, Workspace

LOG_DAYS = 90
CHUNK_SIZE = 20_000
NEWEST_GENERATED = 3600  # seconds before now: the generated log stops an hour ago
EXPIRED_QUIET_DAYS = 3
# Shares of the generated events; each disconnect brings a reconnect, the rest re-authenticate.
DISCONNECT_SHARE = 0.1
SYNC_SHARE = 0.5
SYSTEM_DISCONNECT_SHARE = 0.7  # most disconnects come from the app side (a revoked token)
COLUMNS = ("workspace_id", "app_id", "actor_id", "activity", "occurred_at", "details")
SYNC, REAUTH, DISCONNECT, RECONNECT = range(4)


@dataclass
class HistoryEvent:
    """An event of the seeded history. For a sync toggle, the direction follows the state at its
    time (generated toggles before it come in pairs), so it gives the setting its seeded value."""
    activity: str
    occurred_at: datetime
    actor_id: int | None
    details: dict = field(default_factory=dict)


def insert_log(session: Session, workspace: Workspace, installations: list[Installation],
               users: list[User], histories: dict[int, list[HistoryEvent]], count: int,
               now: datetime, random_seed: int = 2026) -> int:
    """Inserts every installation's history (`histories` by app id) and about `count` generated
    events over the past LOG_DAYS days, oldest first. Returns how many were generated."""
    rng = random.Random(random_seed)
    start = _naive(now - timedelta(days=LOG_DAYS)).replace(microsecond=0)
    end = LOG_DAYS * 86400 - NEWEST_GENERATED
    apps = [_AppLog(i, sorted(histories.get(i.app_id, []), key=lambda h: h.occurred_at), start)
            for i in installations]
    gaps = [(app, a, b) for app in apps for a, b in app.gaps(end)]
    per_gap = Counter(rng.choices(range(len(gaps)), weights=[b - a - 1 for _, a, b in gaps],
                                  k=count)) if gaps and count > 0 else Counter()
    for index, (app, a, b) in enumerate(gaps):
        app.slots.extend(sorted(rng.sample(range(a + 1, b), min(per_gap[index], b - a - 1))))
    generated = sum(len(app.slots) for app in apps)

    active = [u for u in users if u.active]
    admins = [u for u in active if u.is_admin]
    weights = [3 if u.role == "super_admin" else 4 if u.is_admin else 2 for u in active]
    randoms = _Randoms(
        kind=[rng.random() for _ in range(generated)], pick=[rng.random() for _ in range(generated)],
        anyone=rng.choices([u.id for u in active], weights=weights, k=generated),
        admin=rng.choices([u.id for u in admins], weights=[3 if u.role == "super_admin" else 4
                                                          for u in admins], k=generated))
    rows: list[tuple] = []
    cursor = 0
    for app in apps:
        cursor = app.walk(rng, randoms, cursor, rows)
    rows.sort(key=lambda row: row[0])  # stable: each app's own order is kept

    connection = session.connection()
    to_db_time = (DateTime().dialect_impl(connection.dialect).bind_processor(connection.dialect)
                  or (lambda value: value))
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {Event.__tablename__} ({', '.join(COLUMNS)}) "
                 f"VALUES ({', '.join([marker] * len(COLUMNS))})")
    serialised: dict = {}
    batch: list[tuple] = []
    for offset, app_id, actor_id, activity, exact, details in rows:
        if details not in serialised:
            serialised[details] = json.dumps(dict(details))
        when = exact or start + timedelta(seconds=offset)
        batch.append((workspace.id, app_id, actor_id, activity, to_db_time(when),
                      serialised[details]))
        if len(batch) >= CHUNK_SIZE:
            connection.exec_driver_sql(statement, batch)
            batch = []
    if batch:
        connection.exec_driver_sql(statement, batch)
    return generated


@dataclass
class _Randoms:
    kind: list[float]
    pick: list[float]
    anyone: list[int]
    admin: list[int]


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _frozen(details: dict) -> tuple:
    return tuple((key, tuple(value) if isinstance(value, list) else value)
                 for key, value in details.items())


class _AppLog:
    """One installation's history and generated slots (whole seconds after the log's start)."""

    def __init__(self, installation: Installation, history: list[HistoryEvent], start: datetime):
        app = installation.app
        self.installation = installation
        self.history = [((_naive(h.occurred_at) - start).total_seconds(), h) for h in history]
        self.start = start
        self.keys = [(s["key"], s.get("label", s["key"])) for s in app.sync_settings or []]
        self.defaults = {s["key"]: bool(s.get("default", False)) for s in app.sync_settings or []}
        self.user_level = app.install_level == "user"
        self.has_status = app.install_level != "multi_account"
        self.scopes = tuple(app.all_scopes[-1:])
        self.slots: list[int] = []

    def gaps(self, end: int) -> list[tuple[int, int]]:
        """Open intervals (whole seconds) between history events where the app is installed and
        connected, so that any generated activity is valid there."""
        if self.installation.status == "expired":
            end = min(end, (LOG_DAYS - EXPIRED_QUIET_DAYS) * 86400)
        gaps, live, previous = [], False, None
        for offset, event in self.history:
            if live:
                gaps.append((int(previous), min(int(-(-offset // 1)), end)))
            live = _live_after(live, event)
            previous = offset
        if live and previous < end:
            gaps.append((int(previous), end))
        return [(a, b) for a, b in gaps if b - a > 1]

    def walk(self, rng: random.Random, randoms: _Randoms, cursor: int, rows: list[tuple]) -> int:
        """Appends this app's rows (history and generated, in time order) to `rows`; returns the
        cursor into the random arrays after its slots."""
        items = sorted([(offset, 0, event) for offset, event in self.history]
                       + [(offset, 1, None) for offset in self.slots], key=lambda item: item[0])
        kinds = self._kinds(items, randoms, cursor)
        keys = self._sync_keys(rng, kinds, randoms, cursor)
        app_id = self.installation.app_id
        values = dict(self.defaults)
        slot = 0
        for offset, is_slot, event in items:
            if not is_slot:
                activity, details = event.activity, event.details
                if activity in ("sync_on", "sync_off"):
                    activity = "sync_off" if values[details["key"]] else "sync_on"
                    values[details["key"]] = activity == "sync_on"
                rows.append((offset, app_id, event.actor_id, activity, _naive(event.occurred_at),
                             _frozen(details)))
                continue
            kind, index = kinds[slot], cursor + slot
            if kind == SYNC:
                key, label = keys[slot]
                values[key] = not values[key]
                activity = "sync_on" if values[key] else "sync_off"
                row = (randoms.admin[index], activity, (("key", key), ("label", label)))
            elif kind == REAUTH:
                row = (self._consenter(randoms, index), "reauthenticated", (("scopes", self.scopes),))
            elif kind == DISCONNECT:
                if randoms.pick[index] < SYSTEM_DISCONNECT_SHARE:
                    reason = "refresh_token_reuse" if randoms.pick[index] < 0.1 else "revoked_by_app"
                    row = (None, "disconnected", (("reason", reason),))
                else:
                    row = (randoms.admin[index], "disconnected", (("reason", "admin_disconnected"),))
            else:
                row = (self._consenter(randoms, index), "reconnected",
                       (("user_grant", True),) if self.user_level else ())
            rows.append((offset, app_id, *row[:2], None, row[2]))
            slot += 1
        return cursor + slot

    def _consenter(self, randoms: _Randoms, index: int) -> int:
        # Anyone connects a user-level app for themself; admins connect the others.
        return randoms.anyone[index] if self.user_level else randoms.admin[index]

    def _kinds(self, items: list[tuple], randoms: _Randoms, cursor: int) -> list[int]:
        kinds: list[int] = []
        reconnect_next = False
        for position, (_, is_slot, _) in enumerate(items):
            if not is_slot:
                continue
            roll = randoms.kind[cursor + len(kinds)]
            next_is_slot = position + 1 < len(items) and items[position + 1][1] == 1
            if reconnect_next:
                kinds.append(RECONNECT)
                reconnect_next = False
            elif self.has_status and roll < DISCONNECT_SHARE and next_is_slot:
                kinds.append(DISCONNECT)
                reconnect_next = True
            elif self.keys and roll < DISCONNECT_SHARE + SYNC_SHARE:
                kinds.append(SYNC)
            else:
                kinds.append(REAUTH)
        return kinds

    def _sync_keys(self, rng: random.Random, kinds: list[int], randoms: _Randoms, cursor: int
                   ) -> dict[int, tuple[str, str]]:
        """Keys of the sync toggles, each key toggled an even number of times so that generated
        toggles leave the values where the history puts them."""
        toggles = [slot for slot, kind in enumerate(kinds) if kind == SYNC]
        if len(toggles) % 2:
            reauths = [slot for slot, kind in enumerate(kinds) if kind == REAUTH]
            if reauths:
                changed = rng.choice(reauths)
                kinds[changed] = SYNC
                toggles = sorted([*toggles, changed])
            else:
                kinds[toggles.pop()] = REAUTH
        chosen = {slot: int(randoms.pick[cursor + slot] * len(self.keys)) for slot in toggles}
        odd = [key for key, n in Counter(chosen.values()).items() if n % 2]
        for first, second in zip(odd[::2], odd[1::2]):
            last = max(slot for slot, key in chosen.items() if key == first)
            chosen[last] = second
        return {slot: self.keys[key] for slot, key in chosen.items()}


def _live_after(live: bool, event: HistoryEvent) -> bool:
    """Whether the app is installed and connected after this history event."""
    if event.activity in ("installed", "reinstalled", "reconnected"):
        return True
    if event.activity == "uninstalled" or (event.activity == "disconnected"
                                           and not event.details.get("user_grant")):
        return False
    return live
