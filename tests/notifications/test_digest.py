"""Closing windows: one delivery per recipient per channel per window, written through the outbox."""
from datetime import datetime, timezone

from sqlalchemy import func, select

from webapp.extensions import work_queue
from webapp.models import Delivery, NotificationRule
from webapp.services import lifecycle
from webapp.services.notifications.outbox import send_due
from webapp.services.notifications.rules import RuleForm, save_rule
from tests.conftest import make_app, make_installation, make_user
from tests.notifications.conftest import app_settings


def at(hour, minute=0, day=3):
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


def make_rule(session, people, now=None, **fields):
    """A rule Bob made (by default at 10:15 on Nov 3, so its first window starts at 10:00)."""
    defaults = dict(name="Watch", rule_type="app_install", frequency="hour", all_apps=True,
                    channels=["email", "in_app"], audience="everyone")
    defaults.update(fields)
    rule = save_rule(session, people["acme"], people["admin"], RuleForm(**defaults),
                     now=now or at(10, 15))
    session.commit()
    return rule


def deliveries(session, **where):
    query = select(Delivery).order_by(Delivery.id)
    for key, value in where.items():
        query = query.where(getattr(Delivery, key) == value)
    return list(session.scalars(query))


def test_an_install_makes_one_delivery_per_recipient_and_channel_and_running_twice_adds_none(
        session, people, rq_queue):
    rule = make_rule(session, people)
    app = make_app(session, "crm-sync", name="CRM Sync")
    lifecycle.consent(session, people["acme"], app, people["user"], ["contacts.read"], now=at(10, 20))
    session.commit()

    report = send_due(session, app_settings(), work_queue(), at(11))
    rows = deliveries(session)
    assert report.deliveries == 6 and len(rows) == 6  # 3 people x 2 channels
    assert {(r.recipient_id, r.channel) for r in rows} == {
        (people[p].id, c) for p in ("super_admin", "admin", "user") for c in ("email", "in_app")}
    assert {r.window_start for r in rows} == {at(10)}
    lines = rows[0].payload["lines"]
    assert [(line["activity"], line["app"], line["actor"]) for line in lines] == [
        ("Installed", "CRM Sync", "Carol User")]
    assert lines[0]["app_url"] == "http://localhost/settings/connected-apps/apps/crm-sync"
    assert rows[0].payload["manage_url"].endswith(f"/notifications/{rule.id}/manage")
    assert {r.status for r in rows} == {"queued"}
    [job] = rq_queue.jobs  # one send job for the window's six deliveries
    assert job.args == ([r.id for r in rows],)

    again = send_due(session, app_settings(), work_queue(), at(11))
    assert again.deliveries == 0 and len(deliveries(session)) == 6
    assert rq_queue.count == 1


def test_an_empty_window_sends_nothing(session, people, rq_queue):
    make_rule(session, people)
    report = send_due(session, app_settings(), work_queue(), at(13))
    assert [w.window_start for w in report.windows] == [at(10), at(11), at(12)]
    assert deliveries(session) == []


def test_missed_windows_are_closed_one_by_one_after_downtime(session, people, rq_queue):
    rule = make_rule(session, people, audience="super_admins", channels=["email"])
    first, second = make_app(session, "first-app"), make_app(session, "second-app")
    lifecycle.consent(session, people["acme"], first, people["admin"], ["contacts.read"], now=at(10, 30))
    lifecycle.consent(session, people["acme"], second, people["admin"], ["contacts.read"], now=at(12, 5))
    session.commit()

    send_due(session, app_settings(), work_queue(), at(15, 30))
    rows = deliveries(session)
    assert [(r.window_start, r.payload["lines"][0]["app"]) for r in rows] == [
        (at(10), "First App"), (at(12), "Second App")]
    assert session.get(NotificationRule, rule.id).evaluated_until == at(15)


def test_a_rule_created_mid_window_starts_with_that_window(session, people, rq_queue):
    app = make_app(session, "crm-sync")
    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(10, 5))
    session.commit()
    make_rule(session, people, audience="super_admins", channels=["email"], now=at(10, 40))
    send_due(session, app_settings(), work_queue(), at(11))
    [row] = deliveries(session)
    assert (row.recipient_id, row.channel, row.window_start) == (people["super_admin"].id, "email",
                                                                 at(10))
    assert [(line["activity"], line["app"], line["actor"]) for line in row.payload["lines"]] == [
        ("Installed", "Crm Sync", "Bob Admin")]  # the install before the rule, in its window


def test_rules_match_their_type_and_their_apps_only(session, people, rq_queue):
    watched, other = make_app(session, "watched-app"), make_app(session, "other-app")
    w = make_installation(session, people["acme"], watched)
    o = make_installation(session, people["acme"], other)
    session.commit()
    uninstalls = make_rule(session, people, name="Uninstalls", rule_type="app_uninstall",
                           all_apps=False, app_ids=[watched.id], audience="super_admins",
                           channels=["email"])
    installs = make_rule(session, people, name="Installs", audience="super_admins", channels=["email"])
    lifecycle.uninstall(session, o, people["admin"], now=at(10, 30))
    lifecycle.uninstall(session, w, people["admin"], now=at(10, 30))
    session.commit()
    send_due(session, app_settings(), work_queue(), at(11))
    rows = deliveries(session)
    assert [(r.rule_id, [line["app"] for line in r.payload["lines"]]) for r in rows] == [
        (uninstalls.id, ["Watched App"])]
    assert deliveries(session, rule_id=installs.id) == []


def test_all_apps_includes_apps_installed_after_the_rule(session, people, rq_queue):
    make_rule(session, people, audience="super_admins", channels=["email"])
    newcomer = make_app(session, "newcomer")
    lifecycle.consent(session, people["acme"], newcomer, people["admin"], ["contacts.read"], now=at(10, 50))
    session.commit()
    send_due(session, app_settings(), work_queue(), at(11))
    assert deliveries(session)[0].payload["lines"][0]["app"] == "Newcomer"


def test_another_workspaces_events_never_reach_a_rule(session, people, rq_queue):
    make_rule(session, people)
    app = make_app(session, "crm-sync")
    lifecycle.consent(session, people["globex"], app, people["outsider"], ["contacts.read"], now=at(10, 20))
    session.commit()
    send_due(session, app_settings(), work_queue(), at(11))
    assert deliveries(session) == []


def test_disconnect_rule_reminds_each_window_and_says_when_an_app_recovered(
        session, people, rq_queue):
    app = make_app(session, "crm-sync", name="CRM Sync")
    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(9))
    session.commit()
    make_rule(session, people, rule_type="app_disconnect", audience="super_admins",
              channels=["email"], frequency="day", now=at(9))
    from webapp.models import Installation

    installation = session.scalar(select(Installation))
    lifecycle.disconnect(session, installation, people["admin"], "revoked_by_admin", now=at(14))
    session.commit()

    def kinds_for(day):
        rows = deliveries(session, window_start=at(0, day=day))
        return [(line["kind"], line["text"].split(" (")[0]) for row in rows
                for line in row.payload["lines"]]

    send_due(session, app_settings(), work_queue(), at(0, day=6))
    assert kinds_for(3) == [("event", "CRM Sync was disconnected")]
    assert kinds_for(4) == [("reminder", "CRM Sync is still disconnected")]
    assert kinds_for(5) == [("reminder", "CRM Sync is still disconnected")]

    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(8, day=6))
    session.commit()
    send_due(session, app_settings(), work_queue(), at(0, day=8))
    assert kinds_for(6) == [("recovered", "CRM Sync has recovered: it was reconnected")]
    assert kinds_for(7) == []  # connected again and nothing happened: nothing is sent


def test_deactivated_and_other_workspace_users_get_nothing(session, people, rq_queue):
    make_user(session, people["acme"], "gone@acme.test", active=False)
    make_rule(session, people, channels=["in_app"])
    app = make_app(session, "crm-sync")
    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(10, 20))
    session.commit()
    send_due(session, app_settings(), work_queue(), at(11))
    recipients = {r.recipient_id for r in deliveries(session)}
    assert recipients == {people["super_admin"].id, people["admin"].id, people["user"].id}


def test_the_unique_key_holds_even_if_a_window_is_closed_twice(session, people, rq_queue):
    from webapp.services.notifications.digest import close_window

    rule = make_rule(session, people)
    app = make_app(session, "crm-sync")
    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(10, 20))
    session.commit()
    first = close_window(session, app_settings().links, rule, people["acme"], at(10), at(11))
    session.commit()
    second = close_window(session, app_settings().links, rule, people["acme"], at(10), at(11))
    session.commit()
    assert (first, second) == (6, 0)
    assert session.scalar(select(func.count(Delivery.id))) == 6
    assert sorted((r.recipient_id, r.channel) for r in deliveries(session)) == sorted(
        (people[p].id, c) for p in ("super_admin", "admin", "user") for c in ("email", "in_app"))


def test_windows_follow_the_workspace_timezone(session, people, rq_queue):
    people["acme"].timezone = "Europe/Berlin"
    session.commit()
    make_rule(session, people, frequency="day", audience="super_admins", channels=["email"])
    app = make_app(session, "crm-sync")
    # 23:30 in Berlin: still Nov 3 there
    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(22, 30))
    session.commit()
    assert send_due(session, app_settings(), work_queue(), at(22, 59)).windows == []
    [window] = send_due(session, app_settings(), work_queue(), at(23)).windows  # Berlin midnight
    assert (window.window_start, window.window_end) == (at(23, day=2), at(23))
    [row] = deliveries(session)
    assert row.payload["window"] == "Tue Nov 3, 2026"


def test_changing_a_rules_reminder_continues_from_where_it_was(session, people, rq_queue):
    from webapp.services.notifications.rules import RuleForm as Form

    rule = make_rule(session, people, frequency="hour", audience="super_admins", channels=["email"])
    send_due(session, app_settings(), work_queue(), at(11))
    changed = Form.from_rule(rule)
    changed.frequency = "day"
    save_rule(session, people["acme"], people["admin"], changed, rule)
    session.commit()
    app = make_app(session, "crm-sync")
    lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(15))
    session.commit()
    # The first daily window runs from the last hourly boundary to midnight; then whole days.
    windows = send_due(session, app_settings(), work_queue(), at(0, day=5)).windows
    assert [(w.window_start, w.window_end, w.deliveries) for w in windows] == [
        (at(11), at(0, day=4), 1), (at(0, day=4), at(0, day=5), 0)]
    [row] = deliveries(session, window_start=at(11))
    assert row.recipient_id == people["super_admin"].id and row.payload["window"] == "Tue Nov 3, 2026"
    assert [line["app"] for line in row.payload["lines"]] == ["Crm Sync"]
