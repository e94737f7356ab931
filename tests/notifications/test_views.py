"""The Notifications tab: the rules table, the three-step wizard, deleting, and who may write."""
import re

import pytest
from sqlalchemy import select

from webapp.models import Delivery, NotificationRule
from webapp.services.notifications.rules import RuleForm, save_rule
from tests.conftest import make_app, make_installation, make_team, make_user
from tests.page_helpers import statements

TAB = "/settings/connected-apps/notifications"
WIZARD = TAB + "/wizard"
TARGET = "notifications-content"


@pytest.fixture
def apps(session, people):
    crm = make_app(session, "crm-sync", name="CRM Sync")
    files = make_app(session, "file-share", name="File Share")
    make_installation(session, people["acme"], crm)
    make_installation(session, people["acme"], files)
    session.commit()
    return {"crm": crm, "files": files}


def form(**fields):
    data = {"step": "1", "name": "Installs", "rule_type": "app_install", "frequency": "day",
            "channels": ["email", "in_app"], "audience": "super_admins", "nav": "next"}
    data.update({k: v for k, v in fields.items() if v is not None})
    return data


def text(response):
    return response.get_data(as_text=True)


def test_the_tab_lists_the_workspaces_rules_with_their_settings(browser, session, people, apps):
    sales = make_team(session, people["acme"], "Sales", [people["user"]])
    save_rule(session, people["acme"], people["admin"], RuleForm(
        name="Disconnects", rule_type="app_disconnect", frequency="week", channels=["email"],
        app_ids=[apps["crm"].id], audience="specific", user_ids=[people["user"].id],
        team_ids=[sales.id]))
    save_rule(session, people["globex"], people["outsider"], RuleForm(name="Globex secret", all_apps=True))
    session.commit()
    page = text(browser(people["admin"]).get(TAB))
    assert 'aria-selected="true">Notifications</a>' in page
    row = re.search(r"<tr id=\"rule-\d+\">(.*?)</tr>", page, re.S).group(1)
    cells = [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[:8] == ["Disconnects", "App disconnect", "Once a week", "CRM Sync",
                         "Carol User, Sales (team)", "Email", "Bob Admin", "Never"]
    assert "Actions" in cells[8] and "Manage notification" in row and "Delete notification" in row
    assert "Globex secret" not in page
    assert "Create new notification" in page


def test_users_who_are_not_admins_see_the_rules_read_only(browser, session, people, apps):
    save_rule(session, people["acme"], people["admin"], RuleForm(name="Installs", all_apps=True))
    session.commit()
    page = text(browser(people["user"]).get(TAB))
    assert "Installs" in page and "All apps" in page
    assert "Create new notification" not in page
    assert "Actions" not in page and "Manage notification" not in page


def test_every_write_route_answers_403_to_a_user_who_is_not_an_admin(browser, session, people, apps):
    rule = save_rule(session, people["acme"], people["admin"], RuleForm(name="Installs", all_apps=True))
    session.commit()
    carol = browser(people["user"])
    assert carol.get(TAB + "/new").status_code == 403
    assert carol.get(f"{TAB}/{rule.id}/manage").status_code == 403
    for nav in ("next", "back", "apply"):
        sent = form(step="3", nav=nav, all_apps="1", rule_id=str(rule.id))
        assert carol.post(WIZARD, data=sent, htmx_target=TARGET).status_code == 403
        assert carol.post(WIZARD, data=form(step="3", nav=nav, all_apps="1")).status_code == 403
    assert carol.delete(f"{TAB}/{rule.id}").status_code == 403
    session.expire_all()
    assert [r.name for r in session.scalars(select(NotificationRule))] == ["Installs"]


def test_create_new_notification_opens_the_wizard_in_place(browser, people, apps):
    response = browser(people["admin"]).get(TAB + "/new", htmx_target=TARGET)
    body = text(response)
    assert "<html" not in body and "Step 1 of 3" in body
    for label in ("Notification name", "Notification type", "Notification reminder", "Email", "In-app"):
        assert label in body
    for option in ("App install", "App disconnect", "App uninstall", "Once an hour", "Once a day",
                   "Once a week", "Once a month"):
        assert f">{option}</option>" in body
    assert ">Next</button>" in body and ">Back</button>" not in body
    # Without htmx the same URL is the whole page with the wizard in it.
    assert "<html" in text(browser(people["admin"]).get(TAB + "/new"))


def test_step_one_checks_the_name_and_channels_and_shows_errors_by_the_fields(browser, people, apps):
    bob = browser(people["admin"])
    response = bob.post(WIZARD, data=form(name="  ", channels=[]), htmx_target=TARGET)
    assert response.status_code == 422
    body = text(response)
    assert "Step 1 of 3" in body
    assert re.search(r'id="rule-name"[^>]*aria-invalid="true" aria-describedby="rule-name-error"', body)
    assert '<p id="rule-name-error" class="field-error" role="alert">Enter a notification name.</p>' in body
    assert "Choose at least one channel." in body
    body = text(bob.post(WIZARD, data=form(name="x" * 121), htmx_target=TARGET))
    assert "Use at most 120 characters." in body


def test_names_are_unique_per_workspace_ignoring_case(browser, session, people, apps):
    save_rule(session, people["acme"], people["admin"], RuleForm(name="Installs", all_apps=True))
    save_rule(session, people["globex"], people["outsider"], RuleForm(name="Globex only", all_apps=True))
    session.commit()
    bob = browser(people["admin"])
    refused = bob.post(WIZARD, data=form(name="INSTALLS"), htmx_target=TARGET)
    assert refused.status_code == 422
    assert "A notification with this name already exists. Choose another name." in text(refused)
    body = text(bob.post(WIZARD, data=form(name="Globex only"), htmx_target=TARGET))
    assert "Step 2 of 3" in body


def test_next_and_back_keep_what_was_entered(browser, people, apps):
    bob = browser(people["admin"])
    step2 = text(bob.post(WIZARD, data=form(name="Weekly uninstalls", rule_type="app_uninstall",
                                            frequency="week", channels=["in_app"]), htmx_target=TARGET))
    assert "Step 2 of 3" in step2
    assert re.search(r'<input type="checkbox" name="app_ids" value="\d+" > CRM Sync', step2)
    assert "All apps" in step2 and "File Share" in step2
    carried = dict(re.findall(
        r'<input type="hidden" name="(name|rule_type|frequency|channels)" value="([^"]*)"', step2))
    assert carried == {"name": "Weekly uninstalls", "rule_type": "app_uninstall",
                       "frequency": "week", "channels": "in_app"}

    no_app = text(bob.post(WIZARD, data=form(step="2", name="Weekly uninstalls"), htmx_target=TARGET))
    assert "Choose at least one app, or All apps." in no_app and "Step 2 of 3" in no_app

    step3 = text(bob.post(WIZARD, data=form(step="2", name="Weekly uninstalls", rule_type="app_uninstall",
                                            frequency="week", channels=["in_app"],
                                            app_ids=[str(apps["files"].id)]), htmx_target=TARGET))
    assert "Step 3 of 3" in step3
    for label in ("Only super admins will be notified", "Everyone will be notified",
                  "Notify specific users and teams", ">Users</label>", ">Teams</label>", ">Apply</button>",
                  ">Back</button>"):
        assert label in step3
    assert f'<input type="hidden" name="app_ids" value="{apps["files"].id}">' in step3

    back = text(bob.post(WIZARD, data=form(step="3", nav="back", name="Weekly uninstalls",
                                           rule_type="app_uninstall", frequency="week",
                                           channels=["in_app"], app_ids=[str(apps["files"].id)],
                                           audience="everyone"), htmx_target=TARGET))
    assert "Step 2 of 3" in back
    assert f'value="{apps["files"].id}" checked> File Share' in back
    assert '<input type="hidden" name="audience" value="everyone">' in back
    back = text(bob.post(WIZARD, data=form(step="2", nav="back", name="Weekly uninstalls",
                                           rule_type="app_uninstall", frequency="week",
                                           channels=["in_app"]), htmx_target=TARGET))
    assert 'value="Weekly uninstalls"' in back
    assert '<option value="app_uninstall" selected>' in back and '<option value="week" selected>' in back
    assert 'value="in_app" checked' in back and 'value="email" checked' not in back


def test_apply_saves_the_rule_and_shows_the_table_with_it(browser, session, people, apps):
    sales = make_team(session, people["acme"], "Sales", [people["user"]])
    session.commit()
    response = browser(people["admin"]).post(WIZARD, data=form(
        step="3", nav="apply", name="Disconnects", rule_type="app_disconnect", frequency="hour",
        channels=["email"], app_ids=[str(apps["crm"].id)], audience="specific",
        user_ids=[str(people["super_admin"].id)], team_ids=[str(sales.id)]), htmx_target=TARGET)
    assert response.headers["HX-Push-Url"] == TAB
    body = text(response)
    assert "<table" in body and "Disconnects" in body and "Alice Super, Sales (team)" in body
    rule = session.scalar(select(NotificationRule))
    assert (rule.name, rule.rule_type, rule.frequency, rule.channels, rule.all_apps) == (
        "Disconnects", "app_disconnect", "hour", ["email"], False)
    assert [a.name for a in rule.apps] == ["CRM Sync"]
    assert [u.email for u in rule.users] == ["alice@acme.test"] and [t.name for t in rule.teams] == ["Sales"]
    assert rule.created_by_id == people["admin"].id


def test_specific_audience_needs_someone(browser, people, apps):
    body = text(browser(people["admin"]).post(WIZARD, data=form(
        step="3", nav="apply", all_apps="1", audience="specific"), htmx_target=TARGET))
    assert "Step 3 of 3" in body and "Choose at least one user or team." in body


def test_manage_notification_opens_the_wizard_filled_in_and_apply_updates(browser, session, people, apps):
    rule = save_rule(session, people["acme"], people["admin"], RuleForm(
        name="Installs", frequency="month", channels=["in_app"], app_ids=[apps["crm"].id]))
    session.commit()
    bob = browser(people["admin"])
    body = text(bob.get(f"{TAB}/{rule.id}/manage", htmx_target=TARGET))
    assert "Manage notification" in body and 'value="Installs"' in body
    assert '<option value="month" selected>' in body and f'name="rule_id" value="{rule.id}"' in body
    # Keeping its own name is not a clash.
    assert "Step 2 of 3" in text(bob.post(WIZARD, data=form(name="Installs", rule_id=str(rule.id)),
                                          htmx_target=TARGET))
    bob.post(WIZARD, data=form(step="3", nav="apply", rule_id=str(rule.id), name="Every install",
                               all_apps="1", audience="everyone"), htmx_target=TARGET)
    session.expire_all()
    rules = list(session.scalars(select(NotificationRule)))
    assert [(r.id, r.name, r.all_apps, r.apps, r.audience) for r in rules] == [
        (rule.id, "Every install", True, [], "everyone")]


def test_delete_notification_removes_the_rule_and_answers_an_empty_row(browser, session, people, apps):
    rule = save_rule(session, people["acme"], people["admin"], RuleForm(name="Installs", all_apps=True))
    session.commit()
    page = text(browser(people["admin"]).get(TAB))
    assert f'hx-delete="{TAB}/{rule.id}"' in page and "hx-confirm=" in page
    assert f'hx-target="#rule-{rule.id}" hx-swap="outerHTML"' in page
    response = browser(people["admin"]).delete(f"{TAB}/{rule.id}")
    assert response.status_code == 200 and text(response) == ""
    assert session.scalar(select(NotificationRule)) is None


def test_another_workspaces_rules_apps_users_and_teams_are_refused(browser, session, people, apps):
    theirs = save_rule(session, people["globex"], people["outsider"], RuleForm(name="Theirs", all_apps=True))
    globex_app = make_app(session, "globex-only")
    make_installation(session, people["globex"], globex_app)
    globex_user = make_user(session, people["globex"], "gus@globex.test")
    globex_team = make_team(session, people["globex"], "Globex team", [globex_user])
    session.commit()
    bob = browser(people["admin"])
    assert bob.get(f"{TAB}/{theirs.id}/manage").status_code == 404
    assert bob.delete(f"{TAB}/{theirs.id}").status_code == 404
    assert bob.post(WIZARD, data=form(rule_id=str(theirs.id))).status_code == 404
    refused = bob.post(WIZARD, data=form(step="2", app_ids=[str(globex_app.id)]), htmx_target=TARGET)
    assert refused.status_code == 400 and "Apps must be apps installed in your workspace." in text(refused)
    refused = bob.post(WIZARD, data=form(step="3", nav="apply", all_apps="1", audience="specific",
                                         user_ids=[str(globex_user.id)]), htmx_target=TARGET)
    assert refused.status_code == 400 and "Users must be people of your workspace." in text(refused)
    refused = bob.post(WIZARD, data=form(step="3", nav="apply", all_apps="1", audience="specific",
                                         team_ids=[str(globex_team.id)]), htmx_target=TARGET)
    assert refused.status_code == 400 and "Teams must be teams of your workspace." in text(refused)
    for forged in ({"rule_type": "app_hack"}, {"frequency": "yearly"}, {"channels": ["sms"]},
                   {"audience": "world"}, {"user_ids": ["abc"]}):
        assert bob.post(WIZARD, data=form(**forged), htmx_target=TARGET).status_code == 400
    session.expire_all()
    assert session.get(NotificationRule, theirs.id).name == "Theirs"


def test_failed_deliveries_show_on_the_rule_row_for_admins_only(browser, session, people, apps):
    from datetime import datetime, timezone

    rule = save_rule(session, people["acme"], people["admin"], RuleForm(name="Installs", all_apps=True))
    session.flush()
    start = datetime(2026, 11, 3, tzinfo=timezone.utc)
    session.add(Delivery(workspace_id=people["acme"].id, rule_id=rule.id, recipient_id=people["admin"].id,
                         channel="email", window_start=start, window_end=start, status="failed",
                         last_error="SMTP server refused: 550 5.1.1 Mailbox unavailable"))
    session.add(Delivery(workspace_id=people["acme"].id, rule_id=rule.id, recipient_id=people["user"].id,
                         channel="email", window_start=start, window_end=start, status="sent",
                         sent_at=datetime(2026, 11, 4, 9, 30, tzinfo=timezone.utc)))
    session.commit()
    admin_page = text(browser(people["admin"]).get(TAB))
    assert "1 failed delivery: SMTP server refused: 550 5.1.1 Mailbox unavailable" in admin_page
    assert "Nov 4, 2026 09:30 UTC" in admin_page
    assert "failed deliver" not in text(browser(people["user"]).get(TAB))


def test_the_rules_table_does_not_grow_queries_with_rules(browser, session, people, apps, app):
    def count_queries(n):
        for i in range(n):
            save_rule(session, people["acme"], people["admin"], RuleForm(
                name=f"Rule {n}-{i}", app_ids=[apps["crm"].id], audience="specific",
                user_ids=[people["user"].id]))
        session.commit()
        bob = browser(people["admin"])
        with app.app_context(), statements() as sent:
            assert bob.get(TAB).status_code == 200
        return len(sent)

    assert count_queries(1) == count_queries(5)


def test_ids_that_no_column_can_hold_are_refused_not_sent_to_the_database(browser, people, apps):
    bob = browser(people["admin"])
    for forged in ({"rule_id": "9" * 30}, {"rule_id": "²"}):
        assert bob.post(WIZARD, data=form(**forged), htmx_target=TARGET).status_code == 404
    for forged in ({"user_ids": ["9" * 30]}, {"team_ids": ["2147483648"]}, {"app_ids": ["0"]},
                   {"user_ids": ["²"]}, {"team_ids": ["1" * 5000]}):
        sent = form(step="3", nav="apply", all_apps="1", audience="specific", **forged)
        assert bob.post(WIZARD, data=sent, htmx_target=TARGET).status_code == 400, forged
