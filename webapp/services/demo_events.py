"""The demo workspace's log: each app's history, and generated everyday work around it.

The history of each installation is played through the services (demo_history.py), each step
writing its own event. Generated events fill the stretches where that history has the app
installed and connected, walking a small state machine forward in time: sync toggles alternate
per key and return to where they started, re-authentications happen while connected (by whoever
holds the app's grant then: its installer, or for a user-level app one of the users connected),
and a disconnect is followed by a reconnect before anything else. Only account-level apps are
disconnected and reconnected: a multi-account app has no status, and a user-level app's
connections are each user's own. An app whose refresh token expired was not used since its
install, so only sync settings change around it. Nothing is generated before the change that gave
a sync setting its seeded value. So every app's log replays into the installation's state,
status, sync values and connections.

A million rows must load in well under two minutes on SQLite, so the walk runs over precomputed
random arrays and rows go to the driver's executemany as plain tuples: no ORM objects, no per-row
type processing. Times are converted with the dialect's own DateTime bind processor, so they are
stored exactly as the UTCDateTime columns store them; the few distinct `details` values are
serialised once. Rows and steps go in in time order (generated rows in batches between the
steps), so ids follow time as in an append-only log.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import Session

from webapp.models import App, Event, User, Workspace

LOG_DAYS = 90
CHUNK_SIZE = 20_000
NEWEST_GENERATED = 3600  # seconds before now: the generated log stops an hour ago
# Shares of the generated events; each disconnect brings a reconnect, the rest re-authenticate.
DISCONNECT_SHARE = 0.1
SYNC_SHARE = 0.5
SYSTEM_DISCONNECT_SHARE = 0.7  # most disconnects come from the app side (a revoked token)
COLUMNS = ("workspace_id", "app_id", "actor_id", "activity", "occurred_at", "details")
SYNC, REAUTH, DISCONNECT, RECONNECT, NOTHING = range(5)


@dataclass
class HistoryEvent:
    """The event a history step's service writes, as the generated log needs to know it."""
    activity: str
    occurred_at: datetime
    actor_id: int | None
    details: dict = field(default_factory=dict)


def write_log(session: Session, workspace: Workspace, apps: dict[int, App],
              reauth_scopes: dict[int, list[str]], users: list[User], steps: list, count: int,
              now: datetime, random_seed: int = 2026) -> int:
    """Runs the history `steps` (see demo_history.Step) and inserts about `count` generated
    events over the past LOG_DAYS days around them, for the apps of `apps` (by id), all in time
    order. `reauth_scopes` are the scopes an app's re-authentications name. Returns how many
    events were generated."""
    rng = random.Random(random_seed)
    start = _naive(now - timedelta(days=LOG_DAYS)).replace(microsecond=0)
    end = LOG_DAYS * 86400 - NEWEST_GENERATED
    histories: dict[int, list[HistoryEvent]] = {}
    for step in steps:
        if step.event is not None:
            histories.setdefault(step.app_id, []).append(step.event)
    logs = [_AppLog(app, sorted(histories.get(app_id, []), key=lambda h: h.occurred_at), start,
                    reauth_scopes.get(app_id, []))
            for app_id, app in apps.items() if app_id in histories]
    gaps = [(log, a, b) for log in logs for a, b in log.gaps(end)] if count > 0 else []
    per_gap = Counter(rng.choices(range(len(gaps)), weights=[b - a - 1 for _, a, b in gaps],
                                  k=count)) if gaps else Counter()
    for index, (log, a, b) in enumerate(gaps):
        log.slots.extend(sorted(rng.sample(range(a + 1, b), min(per_gap[index], b - a - 1))))
    slots = sum(len(log.slots) for log in logs)

    active = [u for u in users if u.active]
    admins = [u for u in active if u.is_admin]
    randoms = _Randoms(
        kind=[rng.random() for _ in range(slots)], pick=[rng.random() for _ in range(slots)],
        admin=rng.choices([u.id for u in admins], weights=[3 if u.role == "super_admin" else 4
                                                          for u in admins], k=slots))
    rows: list[tuple] = []
    cursor = 0
    for log in logs:
        cursor = log.walk(rng, randoms, cursor, rows)
    _LogWriter(session, workspace, start).write(rows, steps)
    return len(rows)


class _LogWriter:
    """Generated rows in batches, each step run (by its service) once the rows before it are in."""

    def __init__(self, session: Session, workspace: Workspace, start: datetime):
        self.session, self.workspace, self.start = session, workspace, start
        connection = session.connection()
        self.connection = connection
        self.to_db_time = (DateTime().dialect_impl(connection.dialect)
                           .bind_processor(connection.dialect) or (lambda value: value))
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        self.statement = (f"INSERT INTO {Event.__tablename__} ({', '.join(COLUMNS)}) "
                          f"VALUES ({', '.join([marker] * len(COLUMNS))})")
        self.serialised: dict = {}
        self.batch: list[tuple] = []

    def write(self, rows: list[tuple], steps: list) -> None:
        items = [(self.start + timedelta(seconds=offset), 1, position, row)
                 for position, row in enumerate(rows) for offset in (row[0],)]
        items += [(_naive(step.at), 0, position, step) for position, step in enumerate(steps)]
        items.sort(key=lambda item: item[:3])  # a step's own order is kept among equal times
        for when, is_row, _, item in items:
            if is_row:
                self._add(when, item)
                continue
            if item.event is not None:
                self._flush()
            item.run()
            self.session.flush()
        self._flush()

    def _add(self, when: datetime, row: tuple) -> None:
        _, app_id, actor_id, activity, details = row
        if details not in self.serialised:
            self.serialised[details] = json.dumps(dict(details))
        self.batch.append((self.workspace.id, app_id, actor_id, activity, self.to_db_time(when),
                           self.serialised[details]))
        if len(self.batch) >= CHUNK_SIZE:
            self._flush()

    def _flush(self) -> None:
        if self.batch:
            self.session.flush()
            self.connection.exec_driver_sql(self.statement, self.batch)
            self.batch = []


@dataclass
class _Randoms:
    kind: list[float]
    pick: list[float]
    admin: list[int]


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _frozen(details: dict) -> tuple:
    return tuple((key, tuple(value) if isinstance(value, list) else value)
                 for key, value in details.items())


class _AppLog:
    """One app's history and generated slots (whole seconds after the log's start)."""

    def __init__(self, app: App, history: list[HistoryEvent], start: datetime,
                 reauth_scopes: list[str]):
        self.app_id = app.id
        self.history = [((_naive(h.occurred_at) - start).total_seconds(), h) for h in history]
        self.keys = [(s["key"], s.get("label", s["key"])) for s in app.sync_settings or []]
        self.defaults = {s["key"]: bool(s.get("default", False)) for s in app.sync_settings or []}
        self.user_level = app.install_level == "user"
        self.disconnects = app.install_level == "account"
        self.consents = not any(h.activity == "expired" for h in history)
        self.scopes = tuple(reauth_scopes[-1:])
        self.slots: list[int] = []

    def gaps(self, end: int) -> list[tuple[int, int]]:
        """Open intervals (whole seconds) between history events where the app is installed and
        connected, so that any generated activity is valid there; none before a sync setting
        got its seeded value."""
        gaps, live, previous = [], False, None
        for offset, event in self.history:
            if live and event.activity not in ("sync_on", "sync_off"):
                gaps.append((int(previous), min(int(-(-offset // 1)), end)))
            live = _live_after(live, event)
            previous = offset
        if live and previous < end:
            gaps.append((int(previous), end))
        gaps = [(max(a, -1), b) for a, b in gaps]  # slots are a+1 .. b-1, from the log's start
        return [(a, b) for a, b in gaps if b - a > 1]

    def walk(self, rng: random.Random, randoms: _Randoms, cursor: int, rows: list[tuple]) -> int:
        """Appends this app's generated rows to `rows`, following its history; returns the
        cursor into the random arrays after its slots."""
        items = sorted([(offset, 0, event) for offset, event in self.history]
                       + [(offset, 1, None) for offset in self.slots], key=lambda item: item[0])
        kinds = self._kinds(items, randoms, cursor)
        keys = self._sync_keys(rng, kinds, randoms, cursor)
        values = dict(self.defaults)
        holder: int | None = None  # who holds the grant of an account or multi-account app
        connected: list[int] = []  # users connected to a user-level app
        slot = 0
        for offset, is_slot, event in items:
            if not is_slot:
                if event.activity in ("sync_on", "sync_off"):
                    values[event.details["key"]] = event.activity == "sync_on"
                holder, connected = _connections_after(holder, connected, event)
                continue
            kind, index = kinds[slot], cursor + slot
            slot += 1
            if kind == SYNC:
                key, label = keys[slot - 1]
                values[key] = not values[key]
                activity = "sync_on" if values[key] else "sync_off"
                row = (randoms.admin[index], activity, (("key", key), ("label", label)))
            elif kind == REAUTH:
                who = (connected[int(randoms.pick[index] * len(connected))] if self.user_level
                       else holder)
                row = (who, "reauthenticated", (("scopes", self.scopes),))
            elif kind == DISCONNECT:
                if randoms.pick[index] < SYSTEM_DISCONNECT_SHARE:
                    reason = "refresh_token_reuse" if randoms.pick[index] < 0.1 else "revoked_by_app"
                    row = (None, "disconnected", (("reason", reason),))
                else:
                    row = (randoms.admin[index], "disconnected", (("reason", "admin_disconnected"),))
            elif kind == RECONNECT:
                row = (holder, "reconnected", ())
            else:
                continue
            rows.append((offset, self.app_id, *row))
        return cursor + slot

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
            elif self.consents and self.disconnects and roll < DISCONNECT_SHARE and next_is_slot:
                kinds.append(DISCONNECT)
                reconnect_next = True
            elif self.keys and (roll < DISCONNECT_SHARE + SYNC_SHARE or not self.consents):
                kinds.append(SYNC)
            elif self.consents and self.scopes:
                kinds.append(REAUTH)
            else:
                kinds.append(NOTHING)
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
                kinds[toggles.pop()] = NOTHING
        chosen = {slot: int(randoms.pick[cursor + slot] * len(self.keys)) for slot in toggles}
        odd = [key for key, n in Counter(chosen.values()).items() if n % 2]
        for first, second in zip(odd[::2], odd[1::2]):
            last = max(slot for slot, key in chosen.items() if key == first)
            chosen[last] = second
        return {slot: self.keys[key] for slot, key in chosen.items()}


def _connections_after(holder: int | None, connected: list[int], event: HistoryEvent
                       ) -> tuple[int | None, list[int]]:
    """Who holds the app's grants after a history event (as lifecycle.consent and the
    revocations leave them)."""
    activity, actor, user_grant = event.activity, event.actor_id, event.details.get("user_grant")
    if activity in ("installed", "reinstalled", "reconnected"):
        if activity == "installed" and user_grant:
            return holder, [*connected, actor]
        return actor, [actor]
    if activity == "uninstalled" or (activity == "disconnected" and not user_grant):
        return None, []
    if activity == "disconnected":
        return holder, [user for user in connected if user != actor]
    return holder, connected


def _live_after(live: bool, event: HistoryEvent) -> bool:
    """Whether the app is installed and connected after this history event."""
    if event.activity in ("installed", "reinstalled", "reconnected"):
        return True
    if event.activity in ("uninstalled", "expired") or (
            event.activity == "disconnected" and not event.details.get("user_grant")):
        return False
    return live
