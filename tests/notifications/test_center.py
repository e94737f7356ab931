"""The notification center: the top bar's button with the unread count, the list, marking read."""
import re

from sqlalchemy import select

from webapp.models import InAppNotification
from webapp.services import lifecycle
from webapp.services.notifications.outbox import deliver, send_due
from tests.conftest import make_app
from tests.notifications.test_digest import at, deliveries, make_rule


def notify_everyone(session, people, slugs=("crm-sync",)):
    make_rule(session, people, channels=["in_app"], audience="everyone")
    for slug in slugs:
        app = make_app(session, slug)
        lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(10, 20))
    session.commit()
    send_due(session, at(11))
    for row in deliveries(session):
        deliver(session, row.id)


def badge(html):
    match = re.search(r'<button type="button" popovertarget="notification-panel"[^>]*>'
                      r'Notification center <span id="notification-count"[^>]*>(\d+)</span></button>', html)
    return int(match.group(1)) if match else None


def test_the_top_bar_shows_the_unread_count_and_polls_for_it(browser, session, people, rq_queue):
    carol = browser(people["user"])
    assert badge(carol.get("/settings/connected-apps/").get_data(as_text=True)) == 0
    notify_everyone(session, people)
    page = carol.get("/settings/connected-apps/").get_data(as_text=True)
    assert badge(page) == 1
    assert 'hx-get="/notifications/count" hx-trigger="every 30s" hx-swap="outerHTML"' in page
    count = carol.get("/notifications/count").get_data(as_text=True)
    assert re.fullmatch(r'<span id="notification-count"[^>]*>1</span>\s*', count)


def test_the_list_shows_the_notifications_with_links_and_opening_one_marks_it_read(
        browser, session, people, rq_queue):
    notify_everyone(session, people)
    carol = browser(people["user"])
    panel = carol.get("/notifications", htmx_target="notification-panel-body").get_data(as_text=True)
    assert "<html" not in panel
    assert "Watch: 1 update (Nov 3, 2026 10:00–11:00 UTC)" in panel
    assert "Crm Sync was installed" in panel and "Mark all as read" in panel
    note = session.scalar(select(InAppNotification).where(InAppNotification.user_id == people["user"].id))
    opened = carol.post(f"/notifications/{note.id}/open", data={})
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/settings/connected-apps/apps/crm-sync"
    assert carol.get("/notifications/count").get_data(as_text=True).count(">0<") == 1
    # The page without htmx lists the same notifications.
    assert "Watch: 1 update" in carol.get("/notifications").get_data(as_text=True)


def test_mark_all_as_read_clears_the_count(browser, session, people, rq_queue):
    make_rule(session, people, name="Second", channels=["in_app"], audience="everyone",
              rule_type="app_install")
    notify_everyone(session, people)
    carol = browser(people["user"])
    assert badge(carol.get("/settings/").get_data(as_text=True)) == 2
    answer = carol.post("/notifications/read-all", htmx_target="notification-panel-body")
    body = answer.get_data(as_text=True)
    assert 'id="notification-count"' in body and 'hx-swap-oob="true">0</span>' in body
    assert "Mark all as read" not in body
    assert badge(carol.get("/settings/").get_data(as_text=True)) == 0
    # Only Carol's notifications were read.
    bob = browser(people["admin"])
    assert badge(bob.get("/settings/").get_data(as_text=True)) == 2


def test_nobody_opens_someone_elses_notification(browser, session, people, rq_queue):
    notify_everyone(session, people)
    note = session.scalar(select(InAppNotification).where(InAppNotification.user_id == people["admin"].id))
    assert browser(people["user"]).post(f"/notifications/{note.id}/open").status_code == 404
    assert browser(people["outsider"]).post(f"/notifications/{note.id}/open").status_code == 404
    session.expire_all()
    assert note.read_at is None
