"""The app log's reading side, without HTTP: filters, keyset pages, cursors, export rows."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest

from tests.conftest import make_app, make_installation
from webapp.services import event_log
from webapp.services.event_log import LogFilters, LogQueryError
from webapp.services.events import record_event

SECRET = "test-secret"


def at(day: int, hour: int = 9, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, micro, tzinfo=timezone.utc)


@pytest.fixture
def world(session, people):
    """Acme with three apps (one uninstalled), Globex with its own app and events."""
    acme, globex = people["acme"], people["globex"]
    crm, chat, files, secret = (make_app(session, slug) for slug in ("crm", "chat", "files", "secret"))
    installs = {
        "crm": make_installation(session, acme, crm, people["admin"]),
        "chat": make_installation(session, acme, chat, people["admin"]),
        "files": make_installation(session, acme, files, people["admin"], state="uninstalled"),
        "globex_secret": make_installation(session, globex, secret, people["outsider"]),
        "globex_crm": make_installation(session, globex, crm, people["outsider"]),
    }
    log = [
        ("crm", "installed", people["admin"], at(1)),
        ("chat", "installed", people["super_admin"], at(2)),
        ("crm", "disconnected", None, at(3)),
        ("crm", "reconnected", people["user"], at(4)),
        ("files", "uninstalled", people["admin"], at(5)),
        ("chat", "sync_off", people["user"], at(6)),
        ("globex_secret", "installed", people["outsider"], at(3)),
        ("globex_crm", "disconnected", people["outsider"], at(4)),
    ]
    for key, activity, actor, when in log:
        record_event(session, installs[key], activity, actor.id if actor else None, occurred_at=when)
    session.commit()
    return {"people": people, "apps": {"crm": crm, "chat": chat, "files": files, "secret": secret},
            "installs": installs}


def rows(session, workspace_id, **filters):
    return event_log.fetch_page(session, workspace_id, LogFilters(**filters)).rows


def summary(page_rows):
    return [(r.app_name, r.activity_label, r.user_label) for r in page_rows]


def test_it_lists_the_workspace_log_newest_first(session, world):
    acme = world["people"]["acme"]
    assert summary(rows(session, acme.id)) == [
        ("Chat", "Sync turned off", "Carol User"),
        ("Files", "Uninstalled", "Bob Admin"),
        ("Crm", "Reconnected", "Carol User"),
        ("Crm", "Disconnected", "System"),
        ("Chat", "Installed", "Alice Super"),
        ("Crm", "Installed", "Bob Admin"),
    ]


def test_it_filters_by_activity(session, world):
    acme = world["people"]["acme"]
    assert summary(rows(session, acme.id, activity="installed")) == [
        ("Chat", "Installed", "Alice Super"), ("Crm", "Installed", "Bob Admin")]


def test_it_filters_by_user(session, world):
    acme, carol = world["people"]["acme"], world["people"]["user"]
    assert summary(rows(session, acme.id, user_id=carol.id)) == [
        ("Chat", "Sync turned off", "Carol User"), ("Crm", "Reconnected", "Carol User")]


def test_it_filters_by_app_including_uninstalled_ones(session, world):
    acme = world["people"]["acme"]
    assert [r.activity for r in rows(session, acme.id, app_id=world["apps"]["crm"].id)] == [
        "reconnected", "disconnected", "installed"]
    assert [r.activity for r in rows(session, acme.id, app_id=world["apps"]["files"].id)] == ["uninstalled"]


def test_it_filters_from_a_day_and_to_a_day(session, world):
    acme = world["people"]["acme"]
    assert [r.occurred_at.day for r in rows(session, acme.id, date_from=date(2026, 11, 4))] == [6, 5, 4]
    assert [r.occurred_at.day for r in rows(session, acme.id, date_to=date(2026, 11, 2))] == [2, 1]


def test_the_far_ends_of_the_calendar_are_valid_dates(session, world):
    acme = world["people"]["acme"]
    filters = parse(session, world, **{"from": "0001-01-01", "to": "9999-12-31"})
    assert len(event_log.fetch_page(session, acme.id, filters).rows) == 6


def test_it_combines_filters(session, world):
    people, acme = world["people"], world["people"]["acme"]
    combined = rows(session, acme.id, activity="installed", user_id=people["admin"].id,
                    app_id=world["apps"]["crm"].id, date_from=date(2026, 11, 1), date_to=date(2026, 11, 1))
    assert summary(combined) == [("Crm", "Installed", "Bob Admin")]
    assert rows(session, acme.id, activity="installed", app_id=world["apps"]["crm"].id,
                date_from=date(2026, 11, 2)) == []


def test_dates_are_whole_utc_days_with_both_ends_included(session, world):
    acme, crm = world["people"]["acme"], world["installs"]["crm"]
    edges = [datetime(2026, 10, 31, 23, 59, 59, 999999, tzinfo=timezone.utc), at(20, 0, 0, 0),
             at(20, 23, 59, 59, 999999), at(21, 0, 0, 0)]
    for when in edges:
        record_event(session, crm, "sync_on", None, occurred_at=when)
    session.commit()
    same_day = rows(session, acme.id, activity="sync_on", date_from=date(2026, 11, 20),
                    date_to=date(2026, 11, 20))
    assert [r.occurred_at for r in same_day] == [edges[2], edges[1]]
    from_first = rows(session, acme.id, activity="sync_on", date_from=date(2026, 11, 1))
    assert edges[0] not in [r.occurred_at for r in from_first]


def test_keyset_pages_lose_and_repeat_nothing_when_times_are_equal(session, world):
    acme, chat = world["people"]["acme"], world["installs"]["chat"]
    same_moment = at(10, 12)
    for n in range(130):
        record_event(session, chat, "sync_on" if n % 2 else "sync_off", None,
                     occurred_at=same_moment if n % 3 else at(10, 12, 0, 0, n))
    session.commit()
    everything = event_log.fetch_page(session, acme.id, LogFilters(), limit=1000).rows
    walked, after = [], None
    while True:
        page = event_log.fetch_page(session, acme.id, LogFilters(), after=after, limit=50)
        walked.extend(page.rows)
        assert len(page.rows) <= 50
        if page.next_key is None:
            break
        after = page.next_key
    assert len(walked) == len({r.id for r in walked}) == 136
    assert [r.id for r in walked] == [r.id for r in everything]
    keys = [(r.occurred_at, r.id) for r in walked]
    assert keys == sorted(keys, reverse=True)


def test_the_last_page_has_no_next_key(session, world):
    acme = world["people"]["acme"]
    page = event_log.fetch_page(session, acme.id, LogFilters(), limit=6)
    assert len(page.rows) == 6 and page.next_key is None
    page = event_log.fetch_page(session, acme.id, LogFilters(), limit=5)
    assert page.next_key == (page.rows[-1].occurred_at, page.rows[-1].id)


def test_export_rows_are_every_filtered_row_across_batches(session, world):
    acme, crm = world["people"]["acme"], world["installs"]["crm"]
    for n in range(25):
        record_event(session, crm, "sync_on", None, occurred_at=at(12, 8, n))
    session.commit()
    filters = LogFilters(activity="sync_on")
    exported = list(event_log.iter_export_rows(session, acme.id, filters, batch_size=7))
    assert [r.id for r in exported] == [r.id for r in rows(session, acme.id, activity="sync_on")]
    assert len(exported) == 25


def parse(session, world, workspace="acme", fixed_app_id=None, **args):
    return event_log.parse_filters(session, world["people"][workspace].id, args,
                                   fixed_app_id=fixed_app_id)


def test_parse_filters_reads_valid_query_strings(session, world):
    people, crm = world["people"], world["apps"]["crm"]
    filters = parse(session, world, activity="installed", user=str(people["user"].id), app=str(crm.id),
                    **{"from": "2026-11-01", "to": "2026-11-30"})
    assert filters == LogFilters("installed", people["user"].id, crm.id, date(2026, 11, 1), date(2026, 11, 30))
    assert filters.as_args() == {"activity": "installed", "user": str(people["user"].id),
                                 "app": str(crm.id), "from": "2026-11-01", "to": "2026-11-30"}
    assert parse(session, world, activity="", user="", app="", **{"from": "", "to": ""}) == LogFilters()


@pytest.mark.parametrize("args, message", [
    ({"activity": "hacked"}, "Unknown activity type"),
    ({"user": "abc"}, "User must be chosen from the list"),
    ({"user": "-1"}, "User must be chosen from the list"),
    ({"user": "99999"}, "not part of this workspace"),
    ({"app": "1e3"}, "App must be chosen from the list"),
    ({"app": "99999"}, "not installed in this workspace"),
    ({"user": "999999999999999999"}, "not part of this workspace"),
    ({"app": "4294967296"}, "not installed in this workspace"),
    ({"app": "1" * 40}, "App must be chosen from the list"),
    ({"from": "2026-13-01"}, "From must be a date written YYYY-MM-DD"),
    ({"from": "20261101"}, "From must be a date written YYYY-MM-DD"),
    ({"to": "yesterday"}, "To must be a date written YYYY-MM-DD"),
    ({"from": "2026-11-02", "to": "2026-11-01"}, "From must be on or before To"),
])
def test_parse_filters_refuses_bad_input_with_a_message(session, world, args, message):
    with pytest.raises(LogQueryError, match=message):
        parse(session, world, **args)


def test_another_workspaces_user_and_app_are_refused(session, world):
    with pytest.raises(LogQueryError, match="not part of this workspace"):
        parse(session, world, user=str(world["people"]["outsider"].id))
    with pytest.raises(LogQueryError, match="not installed in this workspace"):
        parse(session, world, app=str(world["apps"]["secret"].id))


def test_a_fixed_app_wins_over_the_query_string(session, world):
    crm = world["apps"]["crm"]
    filters = parse(session, world, fixed_app_id=crm.id, app=str(world["apps"]["secret"].id))
    assert filters.app_id == crm.id


def test_workspaces_never_see_each_others_events(session, world):
    people, crm = world["people"], world["apps"]["crm"]
    acme_rows = rows(session, people["acme"].id, app_id=crm.id)
    globex_rows = rows(session, people["globex"].id)
    assert {r.user_label for r in acme_rows} == {"Bob Admin", "System", "Carol User"}
    assert summary(globex_rows) == [("Crm", "Disconnected", "Olga Outsider"),
                                    ("Secret", "Installed", "Olga Outsider")]
    assert not {r.id for r in acme_rows} & {r.id for r in globex_rows}


def test_filter_options_list_the_workspaces_users_and_every_installed_app(session, world):
    options = event_log.filter_options(session, world["people"]["acme"].id)
    assert [name for _, name in options.users] == ["Alice Super", "Bob Admin", "Carol User"]
    assert [name for _, name in options.apps] == ["Chat", "Crm", "Files"]
    assert options.activities["reauthenticated"] == "Re-authenticated"


def test_a_cursor_round_trips_and_a_forged_one_is_refused(session, world):
    key = (at(7, 10, 11, 12, 345678), 42)
    token = event_log.encode_cursor(SECRET, key)
    assert event_log.decode_cursor(SECRET, token) == key
    assert event_log.decode_cursor(SECRET, "") is None
    forged = event_log.encode_cursor("another-secret", key)
    unsigned_shape = event_log.URLSafeSerializer(SECRET, salt=event_log.CURSOR_SALT).dumps(["x", "y"])
    for bad in (forged, token[:-2] + "xx", "garbage", unsigned_shape, token + "."):
        with pytest.raises(LogQueryError, match="not valid"):
            event_log.decode_cursor(SECRET, bad)


def test_export_cells_neutralise_formulas(session, world):
    dangerous = ["=HYPERLINK(\"http://evil\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
    for value in dangerous:
        assert event_log.csv_safe(value) == "'" + value
    assert event_log.csv_safe("Crm") == "Crm"
    row = event_log.LogRow(1, "error", "=cmd|' /C calc'!A0", "@Mallory", at(1), {"reason": "-x"})
    assert event_log.export_cells(row) == ["Error", "'=cmd|' /C calc'!A0", "'@Mallory",
                                           "2026-11-01T09:00:00Z", "'-x"]


def test_csv_lines_start_with_the_header_and_stream_in_chunks(session, world):
    acme = world["people"]["acme"]
    exported = list(event_log.iter_export_rows(session, acme.id, LogFilters()))
    chunks = list(event_log.csv_lines(exported, rows_per_chunk=2))
    assert len(chunks) == 4
    table = list(csv.reader(io.StringIO("".join(chunks))))
    assert table[0] == ["Activity", "App", "User", "Date", "Details"]
    assert table[1][:4] == ["Sync turned off", "Chat", "Carol User", "2026-11-06T09:00:00Z"]
    assert len(table) == 7



def test_pages_within_a_date_range_continue_from_the_cursor_and_respect_to(session, world):
    acme, crm = world["people"]["acme"], world["installs"]["crm"]
    for n in range(60):
        record_event(session, crm, "sync_on", None, occurred_at=at(15 + n % 4, 1, n))
    session.commit()
    filters = LogFilters(date_from=date(2026, 11, 15), date_to=date(2026, 11, 17))
    first = event_log.fetch_page(session, acme.id, filters, limit=20)
    second = event_log.fetch_page(session, acme.id, filters, after=first.next_key, limit=20)
    walked = first.rows + second.rows + event_log.fetch_page(
        session, acme.id, filters, after=second.next_key, limit=20).rows
    assert len(walked) == len({r.id for r in walked}) == 45
    assert all(date(2026, 11, 15) <= r.occurred_at.date() <= date(2026, 11, 17) for r in walked)
    # a cursor from later than "To" (an old link with a new "To") still ends at "To"
    late = event_log.fetch_page(session, acme.id, filters, after=(at(30), 10**9), limit=100)
    assert [r.id for r in late.rows] == [r.id for r in walked]
