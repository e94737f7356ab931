"""`flask notifications send-due` and the scheduler's entry run the same code."""
from datetime import timedelta

from sqlalchemy import select

from webapp.models import Delivery
from webapp.services import lifecycle
from tests.conftest import make_app
from tests.notifications.test_digest import at, make_rule


def test_send_due_closes_windows_ended_by_the_given_time_and_twice_sends_nothing_twice(
        app, session, people, rq_queue):
    make_rule(session, people, audience="super_admins", channels=["email"])
    crm = make_app(session, "crm-sync")
    lifecycle.consent(session, people["acme"], crm, people["admin"], ["contacts.read"], now=at(10, 20))
    session.commit()
    runner = app.test_cli_runner()

    early = runner.invoke(args=["notifications", "send-due", "--at", "2026-11-03T10:59:59Z"])
    assert early.exit_code == 0, early.output
    assert "closed 0 window(s), wrote 0 deliveries" in early.output

    first = runner.invoke(args=["notifications", "send-due", "--at", "2026-11-03T11:00:00+00:00"])
    assert "closed 1 window(s), wrote 1 deliveries" in first.output
    second = runner.invoke(args=["notifications", "send-due", "--at", "2026-11-03T11:00:00"])
    assert "closed 0 window(s), wrote 0 deliveries" in second.output
    session.expire_all()
    [row] = session.scalars(select(Delivery)).all()
    assert (row.recipient_id, row.channel, row.window_start) == (people["super_admin"].id, "email",
                                                                 at(10))
    assert [line["app"] for line in row.payload["lines"]] == ["Crm Sync"]


def test_send_due_refuses_a_time_that_is_not_iso_8601(app, people):
    result = app.test_cli_runner().invoke(args=["notifications", "send-due", "--at", "tomorrow"])
    assert result.exit_code == 2
    assert "'tomorrow' is not an ISO 8601 time" in result.output


def test_the_schedule_registers_send_due_every_minute_with_rq_cron(app, rq_queue):
    from rq.cron import CronScheduler

    from worker.jobs import send_due_notifications
    from worker.schedule import schedule

    cron = CronScheduler(connection=rq_queue.connection)
    jobs = [cron.register(**entry) for entry in schedule(app.config)]
    assert (send_due_notifications, "* * * * *") in [(job.func, job.cron) for job in jobs]


def test_the_scheduled_job_is_the_send_due_command(app, session, people, rq_queue):
    from worker.jobs import send_due_notifications

    from webapp.database import utcnow

    # A rule made now has no window ended yet (unless an hour ends right now).
    recent = make_rule(session, people, audience="super_admins", channels=["email"], now=utcnow())
    before = recent.evaluated_until
    report = send_due_notifications()
    session.expire_all()
    assert report == {"relayed": 0, "deliveries": 0,
                      "windows": (recent.evaluated_until - before) // timedelta(hours=1)}
    # Made three weeks ago, it catches up on every hour since, each in turn.
    older = make_rule(session, people, name="Older", audience="super_admins", channels=["email"],
                      now=utcnow() - timedelta(weeks=3))
    start = older.evaluated_until
    windows = send_due_notifications()["windows"]
    session.expire_all()
    assert older.evaluated_until <= utcnow() < older.evaluated_until + timedelta(hours=1)
    assert windows == (older.evaluated_until - start) // timedelta(hours=1) >= 3 * 7 * 24
