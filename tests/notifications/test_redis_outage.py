"""Redis goes away while events happen and rules are edited: nothing breaks, nothing is lost."""
from datetime import timedelta

from sqlalchemy import func, select

from webapp.extensions import db, work_queue
from webapp.models import Delivery, NotificationRule, User, Workspace
from webapp.services import lifecycle
from webapp.services.notifications.outbox import relay, send_due
from tests.conftest import Browser, make_app, make_user
from tests.notifications.conftest import app_settings, run_worker
from tests.notifications.test_digest import at, make_rule


def test_deliveries_wait_while_redis_is_down_and_arrive_once_when_it_returns(
        session, people, smtp_sink, private_redis, private_app):
    for i in range(7):
        make_user(session, people["acme"], f"member{i}@acme.test")
    app_row = make_app(session, "crm-sync", name="CRM Sync")
    make_rule(session, people, name="Installs", channels=["email"])
    admin_id, workspace_id = people["admin"].id, people["acme"].id

    private_redis.stop()
    with private_app.app_context():
        bob = Browser(private_app.test_client()).sign_in(db.session.get(User, admin_id))
        # Pages keep answering, and rules can be edited.
        for url in ("/settings/connected-apps/", "/settings/connected-apps/notifications",
                    "/notifications"):
            assert bob.get(url).status_code == 200, url
        assert bob.get("/notifications", htmx_target="notification-count").status_code == 200
        edited = bob.post("/settings/connected-apps/notifications/wizard", data={
            "step": "3", "nav": "apply", "name": "Uninstalls", "rule_type": "app_uninstall",
            "frequency": "hour", "channels": "email", "all_apps": "1", "audience": "super_admins"},
            headers={"HX-Request": "true", "HX-Target": "notifications-content"})
        assert edited.status_code == 200 and "Uninstalls" in edited.get_data(as_text=True)

        # Events happen, and the window closes, while Redis is down.
        acme = db.session.get(Workspace, workspace_id)
        lifecycle.consent(db.session, acme, db.session.get(type(app_row), app_row.id),
                          db.session.get(User, admin_id), ["contacts.read"], now=at(10, 20))
        db.session.commit()
        report = send_due(db.session, app_settings(), work_queue(), at(11))
        assert report.deliveries == 10
        statuses = db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        assert statuses == [("pending", 10)]
        assert relay(db.session, app_settings(), work_queue(), min_age=timedelta(0)) == 0
        assert db.session.scalar(select(func.count(NotificationRule.id))) == 2
    assert smtp_sink.messages == []

    private_redis.start()
    with private_app.app_context():
        assert relay(db.session, app_settings(), work_queue(), min_age=timedelta(0)) == 10
    run_worker(private_app)
    with private_app.app_context():
        # A second relay and worker find nothing left to do.
        assert relay(db.session, app_settings(), work_queue(), min_age=timedelta(0)) == 0
    run_worker(private_app)

    recipients = sorted(m["To"] for m in smtp_sink.messages)
    assert recipients == sorted(["Alice Super <alice@acme.test>", "Bob Admin <bob@acme.test>",
                                 "Carol User <carol@acme.test>",
                                 *(f"Member{i} <member{i}@acme.test>" for i in range(7))])
    assert {m["Subject"] for m in smtp_sink.messages} == {
        "Installs: 1 update (Nov 3, 2026 10:00–11:00 UTC)"}
    session.expire_all()
    assert {d.status for d in session.scalars(select(Delivery))} == {"sent"}


def test_send_due_relays_waiting_deliveries_first(session, people, smtp_sink, private_redis,
                                                  private_app):
    make_rule(session, people, name="Installs", channels=["email"], audience="super_admins")
    app_row = make_app(session, "crm-sync")
    session.commit()
    private_redis.stop()
    with private_app.app_context():
        lifecycle.consent(db.session, db.session.get(Workspace, people["acme"].id),
                          db.session.get(type(app_row), app_row.id),
                          db.session.get(User, people["admin"].id), ["contacts.read"], now=at(10, 20))
        db.session.commit()
        send_due(db.session, app_settings(), work_queue(), at(11))
    private_redis.start()
    with private_app.app_context():
        # The scheduler's next run (the same function) queues what waited, once it is old enough.
        [row] = db.session.scalars(select(Delivery)).all()
        row.created_at = row.created_at - timedelta(seconds=10)
        db.session.commit()
        assert send_due(db.session, app_settings(), work_queue(), at(11)).relayed == 1
    run_worker(private_app)
    assert len(smtp_sink.messages) == 1
