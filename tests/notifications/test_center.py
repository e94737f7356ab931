"""The notification center: the top bar's button with the unread count, the list, marking read."""
import re

from sqlalchemy import select

from webapp.extensions import work_queue
from webapp.models import InAppNotification
from webapp.services import lifecycle
from webapp.services.notifications.outbox import deliver_many, send_due
from tests.conftest import make_app
from tests.notifications.conftest import app_settings
from tests.html import (accessible_name, button, by_role, fragment_root, is_full_page, parse, popup,
                        text_of)
from tests.notifications.test_digest import at, deliveries, make_rule


def notify_everyone(session, people, slugs=("crm-sync",)):
    make_rule(session, people, channels=["in_app"], audience="everyone")
    for slug in slugs:
        app = make_app(session, slug)
        lifecycle.consent(session, people["acme"], app, people["admin"], ["contacts.read"], now=at(10, 20))
    session.commit()
    send_due(session, app_settings(), work_queue(), at(11))
    deliver_many(session, app_settings(), [row.id for row in deliveries(session)])


def badge(response) -> int | None:
    """The unread count on the top bar's "Notification center" button."""
    found = by_role(response, "button", re.compile(r"^Notification center \d+$"))
    return int(accessible_name(found[0]).rsplit(" ", 1)[1]) if found else None


def count_of(fragment) -> int:
    """The count as the poll (or an out-of-band swap) replaces it."""
    counter = parse(fragment).find(id="notification-count")
    return int(text_of(counter))


def test_the_top_bar_shows_the_unread_count_and_polls_for_it(browser, session, people, rq_queue):
    carol = browser(people["user"])
    assert badge(carol.get("/settings/connected-apps/")) == 0
    notify_everyone(session, people)
    page = parse(carol.get("/settings/connected-apps/"))
    assert badge(page) == 1
    center = button(page, "Notification center 1")
    assert popup(page, "Notification center 1")["aria-label"] == "Notifications"
    poll = center.find(id="notification-count")
    # The count swaps itself, not the button's panel.
    assert (poll["hx-get"], poll["hx-trigger"], poll["hx-target"], poll["hx-swap"]) == (
        "/notifications", "every 30s", "this", "outerHTML")
    count = carol.get("/notifications", htmx_target="notification-count")
    assert fragment_root(count)["id"] == "notification-count" and count_of(count) == 1


def test_the_list_shows_the_notifications_with_links_and_opening_one_marks_it_read(
        browser, session, people, rq_queue):
    notify_everyone(session, people)
    carol = browser(people["user"])
    panel = parse(carol.get("/notifications", htmx_target="notification-panel-body"))
    assert not is_full_page(panel)
    assert "Watch: 1 update (Nov 3, 2026 10:00–11:00 UTC)" in text_of(panel)
    assert "Crm Sync was installed" in text_of(panel) and button(panel, "Mark all as read")
    note = session.scalar(select(InAppNotification).where(InAppNotification.user_id == people["user"].id))
    opened = carol.post(f"/notifications/{note.id}/open", data={})
    assert opened.status_code == 303
    assert opened.headers["Location"] == "/settings/connected-apps/apps/crm-sync"
    assert count_of(carol.get("/notifications", htmx_target="notification-count")) == 0
    # The page without htmx lists the same notifications.
    whole = parse(carol.get("/notifications"))
    assert is_full_page(whole) and "Watch: 1 update" in text_of(whole)


def test_mark_all_as_read_clears_the_count(browser, session, people, rq_queue):
    make_rule(session, people, name="Second", channels=["in_app"], audience="everyone",
              rule_type="app_install")
    notify_everyone(session, people)
    carol = browser(people["user"])
    assert badge(carol.get("/settings/")) == 2
    answer = parse(carol.post("/notifications/read-all", htmx_target="notification-panel-body"))
    counter = answer.find(id="notification-count")  # swapped into the top bar too
    assert counter["hx-swap-oob"] == "true" and count_of(answer) == 0
    assert by_role(answer, "button", "Mark all as read") == []
    assert badge(carol.get("/settings/")) == 0
    # Only Carol's notifications were read.
    bob = browser(people["admin"])
    assert badge(bob.get("/settings/")) == 2


def test_nobody_opens_someone_elses_notification(browser, session, people, rq_queue):
    notify_everyone(session, people)
    note = session.scalar(select(InAppNotification).where(InAppNotification.user_id == people["admin"].id))
    assert browser(people["user"]).post(f"/notifications/{note.id}/open").status_code == 404
    assert browser(people["outsider"]).post(f"/notifications/{note.id}/open").status_code == 404
    session.expire_all()
    assert note.read_at is None
