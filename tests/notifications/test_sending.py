"""Sending through the real worker to a real SMTP server on loopback (aiosmtpd)."""
from datetime import timedelta

from sqlalchemy import select

from webapp.database import utcnow
from webapp.extensions import work_queue
from webapp.models import InAppNotification
from webapp.services import lifecycle
from webapp.services.notifications.outbox import LEASE, deliver_many, relay, send_due
from testsupport.ports import free_port
from tests.conftest import make_app
from tests.html import link, parse, text_of
from tests.notifications.conftest import app_settings, run_worker
from tests.notifications.test_digest import at, deliveries, make_rule


def install_event(session, people, slug="crm-sync", name="CRM Sync"):
    app = make_app(session, slug, name=name)
    lifecycle.consent(session, people["acme"], app, people["user"], ["contacts.read"], now=at(10, 20))
    session.commit()
    return app


def test_the_digest_arrives_by_email_with_text_and_html_parts(app, session, people,
                                                                rq_queue, smtp_sink):
    rule = make_rule(session, people, name="New apps", audience="super_admins", channels=["email"])
    install_event(session, people)
    send_due(session, app_settings(), work_queue(), at(11))
    run_worker(app)

    [message] = smtp_sink.messages
    assert message["To"] == "Alice Super <alice@acme.test>"
    assert message["Subject"] == "New apps: 1 update (Nov 3, 2026 10:00–11:00 UTC)"
    [row] = deliveries(session)
    key = f"{rule.id}.{people['super_admin'].id}.email.20261103T100000Z"
    assert message["Message-ID"] == f"<delivery.{key}@localhost>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "CRM Sync was installed by Carol User" in text
    assert "http://localhost/settings/connected-apps/apps/crm-sync" in text
    assert f"http://localhost/settings/connected-apps/notifications/{rule.id}/manage" in text
    assert link(html, "CRM Sync")["href"] == "http://localhost/settings/connected-apps/apps/crm-sync"
    assert link(html, "Manage this notification")["href"] == \
        f"http://localhost/settings/connected-apps/notifications/{rule.id}/manage"
    assert "CRM Sync was installed by Carol User" in text_of(parse(html))
    session.expire_all()
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_a_sent_delivery_is_never_sent_again(app, session, people, rq_queue, smtp_sink):
    make_rule(session, people, audience="everyone", channels=["email"])
    install_event(session, people)
    send_due(session, app_settings(), work_queue(), at(11))
    run_worker(app)
    everyone = ["Alice Super <alice@acme.test>", "Bob Admin <bob@acme.test>",
                "Carol User <carol@acme.test>"]
    assert sorted(m["To"] for m in smtp_sink.messages) == everyone

    # A second scheduler, a re-run job and a stale relay all find nothing to send.
    send_due(session, app_settings(), work_queue(), at(11))
    ids = [row.id for row in deliveries(session)]
    assert deliver_many(session, app_settings(), ids)["skipped"] == ids
    for delivery_id in ids:
        rq_queue.enqueue("worker.jobs.send_deliveries", [delivery_id])
    rq_queue.enqueue("worker.jobs.send_deliveries", ids)
    relay(session, app_settings(), work_queue(), now=utcnow() + timedelta(hours=2), min_age=timedelta(0))
    run_worker(app)
    assert sorted(m["To"] for m in smtp_sink.messages) == everyone  # nobody got it twice


def test_in_app_deliveries_write_one_notification_each(app, session, people, rq_queue):
    make_rule(session, people, audience="everyone", channels=["in_app"])
    install_event(session, people)
    send_due(session, app_settings(), work_queue(), at(11))
    run_worker(app)
    for row in deliveries(session):
        rq_queue.enqueue("worker.jobs.send_deliveries", [row.id])
    run_worker(app)
    session.expire_all()
    notes = list(session.scalars(select(InAppNotification).order_by(InAppNotification.user_id)))
    assert [n.user_id for n in notes] == sorted(
        people[p].id for p in ("super_admin", "admin", "user"))
    assert notes[0].title.startswith("Watch: 1 update")
    assert notes[0].body == "CRM Sync was installed"
    assert notes[0].link == "/settings/connected-apps/apps/crm-sync"
    assert {r.status for r in deliveries(session)} == {"sent"}


def test_a_transient_smtp_error_is_retried_and_then_delivered_once(app, session, people,
                                                                   rq_queue, smtp_sink):
    make_rule(session, people, audience="super_admins", channels=["email"])
    install_event(session, people)
    smtp_sink.reply_with("451 4.3.0 Try again later")
    send_due(session, app_settings(), work_queue(), at(11))
    run_worker(app)
    [message] = smtp_sink.messages
    assert (message["To"], message["Subject"]) == (
        "Alice Super <alice@acme.test>", "Watch: 1 update (Nov 3, 2026 10:00–11:00 UTC)")
    [row] = deliveries(session)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_permanent_smtp_error_marks_the_delivery_failed(app, session, people, rq_queue,
                                                          smtp_sink):
    make_rule(session, people, audience="super_admins", channels=["email"])
    install_event(session, people)
    smtp_sink.reply_with("550 5.1.1 Mailbox unavailable")
    send_due(session, app_settings(), work_queue(), at(11))
    run_worker(app)
    assert smtp_sink.messages == []
    [row] = deliveries(session)
    assert row.status == "failed" and row.attempts == 1
    assert row.last_error == "SMTP server refused: 550 5.1.1 Mailbox unavailable"


def test_transient_errors_until_retries_run_out_mark_the_delivery_failed(
        app, session, people, rq_queue, smtp_sink):
    make_rule(session, people, audience="super_admins", channels=["email"])
    install_event(session, people)
    smtp_sink.reply_with(*["451 4.3.0 Busy"] * 6)
    send_due(session, app_settings(), work_queue(), at(11))
    run_worker(app)
    [row] = deliveries(session)
    assert (row.status, row.attempts) == ("failed", 6)
    assert "451 4.3.0 Busy" in row.last_error


def test_an_unreachable_smtp_server_is_a_transient_error(app, session, people, rq_queue,
                                                         monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())
    make_rule(session, people, audience="super_admins", channels=["email"])
    install_event(session, people)
    send_due(session, app_settings(), work_queue(), at(11))
    [row] = deliveries(session)
    try:
        deliver_many(session, app_settings(), [row.id], may_retry=True)
    except Exception as error:  # re-raised so that RQ retries the job
        assert "SMTP server unreachable" in str(error)
    else:
        raise AssertionError("a transient error must be raised for RQ to retry")
    session.expire_all()
    assert (row.status, row.attempts) == ("queued", 1)
    assert deliver_many(session, app_settings(), [row.id], may_retry=False)["failed"] == [row.id]


def test_a_claim_held_by_a_live_worker_is_respected_and_an_expired_one_is_taken_over(
        app, session, people, rq_queue, smtp_sink):
    make_rule(session, people, audience="super_admins", channels=["email"])
    install_event(session, people)
    send_due(session, app_settings(), work_queue(), at(11))
    [row] = deliveries(session)
    row.status, row.claimed_at = "sending", utcnow()
    session.commit()
    assert deliver_many(session, app_settings(), [row.id])["skipped"] == [row.id]
    assert relay(session, app_settings(), work_queue(), min_age=timedelta(0)) == 0

    row.claimed_at = utcnow() - LEASE - timedelta(seconds=1)
    session.commit()
    rq_queue.empty()
    assert relay(session, app_settings(), work_queue(), min_age=timedelta(0)) == 1
    run_worker(app)
    [message] = smtp_sink.messages
    assert message["To"] == "Alice Super <alice@acme.test>"
    session.expire_all()
    assert row.status == "sent"


def test_one_refused_recipient_does_not_hold_up_the_rest_of_the_batch(
        app, session, people, rq_queue, smtp_sink):
    make_rule(session, people, audience="everyone", channels=["email"])
    install_event(session, people)
    # Alice is accepted, Bob refused for good, Carol deferred once and accepted on the retry.
    smtp_sink.reply_with("250 OK", "550 5.1.1 No such user", "451 4.3.0 Later", "250 OK")
    send_due(session, app_settings(), work_queue(), at(11))
    run_worker(app)
    session.expire_all()
    rows = {row.recipient_id: row for row in deliveries(session)}
    assert (rows[people["super_admin"].id].status, rows[people["super_admin"].id].attempts) == ("sent", 1)
    assert (rows[people["admin"].id].status, rows[people["admin"].id].attempts) == ("failed", 1)
    assert (rows[people["user"].id].status, rows[people["user"].id].attempts) == ("sent", 2)
    assert sorted(m["To"] for m in smtp_sink.messages) == [
        "Alice Super <alice@acme.test>", "Carol User <carol@acme.test>"]
