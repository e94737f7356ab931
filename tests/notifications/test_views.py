"""The Notifications tab: the rules table, the three-step wizard, deleting, and who may write."""
import pytest
from sqlalchemy import select

from webapp.models import Delivery, NotificationRule
from webapp.services.notifications.rules import RuleForm, save_rule
from tests.conftest import make_app, make_installation, make_team, make_user
from tests.html import (alerts, button, by_role, chosen, description, field, heading, is_full_page,
                        names, one, options, parse, popup, region, table_rows, text_of)
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


def page_of(response):
    return parse(response)


def hidden(html) -> dict[str, list[str]]:
    """What the wizard's form carries from the other steps (its hidden fields)."""
    carried: dict[str, list[str]] = {}
    for entry in parse(html).find_all("input", type="hidden"):
        if entry["name"] not in ("csrf_token", "step"):
            carried.setdefault(entry["name"], []).append(entry["value"])
    return carried


def progress(html) -> str:
    return text_of(parse(html).find(string=lambda s: s.startswith("Step ")).parent)


def checked(html, label) -> bool:
    return field(html, label).has_attr("checked")


def test_the_tab_lists_the_workspaces_rules_with_their_settings(browser, session, people, apps):
    sales = make_team(session, people["acme"], "Sales", [people["user"]])
    save_rule(session, people["acme"], people["admin"], RuleForm(
        name="Disconnects", rule_type="app_disconnect", frequency="week", channels=["email"],
        app_ids=[apps["crm"].id], audience="specific", user_ids=[people["user"].id],
        team_ids=[sales.id]))
    save_rule(session, people["globex"], people["outsider"], RuleForm(name="Globex secret", all_apps=True))
    session.commit()
    page = page_of(browser(people["admin"]).get(TAB))
    assert names(page, "tab", selected=True) == ["Notifications"]
    [cells] = table_rows(page)
    assert cells == ["Disconnects", "App disconnect", "Once a week", "CRM Sync",
                     "Carol User, Sales (team)", "Email", "Bob Admin", "Never", "Actions"]
    assert names(popup(page, "Actions"), "button") == ["Manage notification", "Delete notification"]
    assert "Globex secret" not in text_of(page)
    assert button(page, "Create new notification")


def test_users_who_are_not_admins_see_the_rules_read_only(browser, session, people, apps):
    save_rule(session, people["acme"], people["admin"], RuleForm(name="Installs", all_apps=True))
    session.commit()
    page = page_of(browser(people["user"]).get(TAB))
    [cells] = table_rows(page)
    assert cells[0] == "Installs" and cells[3] == "All apps" and len(cells) == 8
    assert by_role(region(page, "Notifications"), "button", include_hidden=True) == []


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
    body = page_of(response)
    assert not is_full_page(body) and progress(body) == "Step 1 of 3: Notification details"
    assert heading(body, "Create new notification")
    assert field(body, "Notification name")["value"] == ""
    assert [text for _, text, _ in options(body, "Notification type")] == [
        "App install", "App disconnect", "App uninstall"]
    assert [text for _, text, _ in options(body, "Notification reminder")] == [
        "Once an hour", "Once a day", "Once a week", "Once a month"]
    assert names(one(body, "group", "Channels"), "checkbox") == ["Email", "In-app"]
    assert "Next" in names(body, "button") and "Back" not in names(body, "button")
    # Without htmx the same URL is the whole page with the wizard in it.
    whole = browser(people["admin"]).get(TAB + "/new")
    assert is_full_page(whole) and heading(whole, "Create new notification")


def test_step_one_checks_the_name_and_channels_and_shows_errors_by_the_fields(browser, people, apps):
    bob = browser(people["admin"])
    response = bob.post(WIZARD, data=form(name="  ", channels=[]), htmx_target=TARGET)
    assert response.status_code == 422
    body = page_of(response)
    assert progress(body) == "Step 1 of 3: Notification details"
    name = field(body, "Notification name")
    assert name["aria-invalid"] == "true" and description(name) == "Enter a notification name."
    assert description(one(body, "group", "Channels")) == "Choose at least one channel."
    assert alerts(body) == ["Enter a notification name.", "Choose at least one channel."]
    body = page_of(bob.post(WIZARD, data=form(name="x" * 121), htmx_target=TARGET))
    assert description(field(body, "Notification name")) == "Use at most 120 characters."


def test_names_are_unique_per_workspace_ignoring_case(browser, session, people, apps):
    save_rule(session, people["acme"], people["admin"], RuleForm(name="Installs", all_apps=True))
    save_rule(session, people["globex"], people["outsider"], RuleForm(name="Globex only", all_apps=True))
    session.commit()
    bob = browser(people["admin"])
    refused = bob.post(WIZARD, data=form(name="INSTALLS"), htmx_target=TARGET)
    assert refused.status_code == 422
    assert description(field(refused, "Notification name")) == \
        "A notification with this name already exists. Choose another name."
    body = bob.post(WIZARD, data=form(name="Globex only"), htmx_target=TARGET)
    assert progress(body) == "Step 2 of 3: Apps"


def test_next_and_back_keep_what_was_entered(browser, people, apps):
    bob = browser(people["admin"])
    step2 = page_of(bob.post(WIZARD, data=form(name="Weekly uninstalls", rule_type="app_uninstall",
                                               frequency="week", channels=["in_app"]), htmx_target=TARGET))
    assert progress(step2) == "Step 2 of 3: Apps"
    assert names(one(step2, "group", "Apps"), "checkbox") == ["All apps", "CRM Sync", "File Share"]
    assert not any(checked(step2, label) for label in ("All apps", "CRM Sync", "File Share"))
    assert field(step2, "CRM Sync")["value"] == str(apps["crm"].id)
    assert hidden(step2) == {"name": ["Weekly uninstalls"], "rule_type": ["app_uninstall"],
                             "frequency": ["week"], "channels": ["in_app"], "audience": ["super_admins"]}

    no_app = bob.post(WIZARD, data=form(step="2", name="Weekly uninstalls"), htmx_target=TARGET)
    assert progress(no_app) == "Step 2 of 3: Apps"
    assert description(one(no_app, "group", "Apps")) == "Choose at least one app, or All apps."

    step3 = page_of(bob.post(WIZARD, data=form(step="2", name="Weekly uninstalls", rule_type="app_uninstall",
                                               frequency="week", channels=["in_app"],
                                               app_ids=[str(apps["files"].id)]), htmx_target=TARGET))
    assert progress(step3) == "Step 3 of 3: Recipients"
    assert names(one(step3, "group", "Recipients"), "radio") == [
        "Only super admins will be notified", "Everyone will be notified",
        "Notify specific users and teams"]
    assert field(step3, "Users").has_attr("multiple") and field(step3, "Teams").has_attr("multiple")
    assert names(step3, "button")[-2:] == ["Apply", "Back"]
    assert hidden(step3)["app_ids"] == [str(apps["files"].id)]

    back = bob.post(WIZARD, data=form(step="3", nav="back", name="Weekly uninstalls",
                                      rule_type="app_uninstall", frequency="week",
                                      channels=["in_app"], app_ids=[str(apps["files"].id)],
                                      audience="everyone"), htmx_target=TARGET)
    assert progress(back) == "Step 2 of 3: Apps"
    assert checked(back, "File Share") and not checked(back, "CRM Sync")
    assert hidden(back)["audience"] == ["everyone"]
    back = bob.post(WIZARD, data=form(step="2", nav="back", name="Weekly uninstalls",
                                      rule_type="app_uninstall", frequency="week",
                                      channels=["in_app"]), htmx_target=TARGET)
    assert field(back, "Notification name")["value"] == "Weekly uninstalls"
    assert chosen(back, "Notification type") == ["App uninstall"]
    assert chosen(back, "Notification reminder") == ["Once a week"]
    assert checked(back, "In-app") and not checked(back, "Email")


def test_apply_saves_the_rule_and_shows_the_table_with_it(browser, session, people, apps):
    sales = make_team(session, people["acme"], "Sales", [people["user"]])
    session.commit()
    response = browser(people["admin"]).post(WIZARD, data=form(
        step="3", nav="apply", name="Disconnects", rule_type="app_disconnect", frequency="hour",
        channels=["email"], app_ids=[str(apps["crm"].id)], audience="specific",
        user_ids=[str(people["super_admin"].id)], team_ids=[str(sales.id)]), htmx_target=TARGET)
    assert response.headers["HX-Push-Url"] == TAB
    [cells] = table_rows(response)
    assert cells[0] == "Disconnects" and cells[4] == "Alice Super, Sales (team)"
    rule = session.scalar(select(NotificationRule))
    assert (rule.name, rule.rule_type, rule.frequency, rule.channels, rule.all_apps) == (
        "Disconnects", "app_disconnect", "hour", ["email"], False)
    assert [a.name for a in rule.apps] == ["CRM Sync"]
    assert [u.email for u in rule.users] == ["alice@acme.test"] and [t.name for t in rule.teams] == ["Sales"]
    assert rule.created_by_id == people["admin"].id


def test_specific_audience_needs_someone(browser, people, apps):
    body = browser(people["admin"]).post(WIZARD, data=form(
        step="3", nav="apply", all_apps="1", audience="specific"), htmx_target=TARGET)
    assert progress(body) == "Step 3 of 3: Recipients"
    assert description(one(body, "group", "Recipients")) == "Choose at least one user or team."


def test_manage_notification_opens_the_wizard_filled_in_and_apply_updates(browser, session, people, apps):
    rule = save_rule(session, people["acme"], people["admin"], RuleForm(
        name="Installs", frequency="month", channels=["in_app"], app_ids=[apps["crm"].id]))
    session.commit()
    bob = browser(people["admin"])
    body = bob.get(f"{TAB}/{rule.id}/manage", htmx_target=TARGET)
    assert heading(body, "Manage notification")
    assert field(body, "Notification name")["value"] == "Installs"
    assert chosen(body, "Notification reminder") == ["Once a month"]
    assert hidden(body)["rule_id"] == [str(rule.id)]
    # Keeping its own name is not a clash.
    assert progress(bob.post(WIZARD, data=form(name="Installs", rule_id=str(rule.id)),
                             htmx_target=TARGET)) == "Step 2 of 3: Apps"
    bob.post(WIZARD, data=form(step="3", nav="apply", rule_id=str(rule.id), name="Every install",
                               all_apps="1", audience="everyone"), htmx_target=TARGET)
    session.expire_all()
    rules = list(session.scalars(select(NotificationRule)))
    assert [(r.id, r.name, r.all_apps, r.apps, r.audience) for r in rules] == [
        (rule.id, "Every install", True, [], "everyone")]


def test_delete_notification_removes_the_rule_and_answers_an_empty_row(browser, session, people, apps):
    rule = save_rule(session, people["acme"], people["admin"], RuleForm(name="Installs", all_apps=True))
    session.commit()
    page = page_of(browser(people["admin"]).get(TAB))
    delete = button(popup(page, "Actions"), "Delete notification")
    assert delete["hx-delete"] == f"{TAB}/{rule.id}"
    assert delete["hx-confirm"] == "Delete the notification “Installs”? It stops sending at once."
    assert (delete["hx-target"], delete["hx-swap"]) == (f"#rule-{rule.id}", "outerHTML")
    assert delete.find_parent("tr")["id"] == f"rule-{rule.id}"
    response = browser(people["admin"]).delete(f"{TAB}/{rule.id}")
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
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
    assert refused.status_code == 400
    assert alerts(refused) == ["Bad request. Apps must be apps installed in your workspace."]
    refused = bob.post(WIZARD, data=form(step="3", nav="apply", all_apps="1", audience="specific",
                                         user_ids=[str(globex_user.id)]), htmx_target=TARGET)
    assert refused.status_code == 400 and alerts(refused) == [
        "Bad request. Users must be people of your workspace."]
    refused = bob.post(WIZARD, data=form(step="3", nav="apply", all_apps="1", audience="specific",
                                         team_ids=[str(globex_team.id)]), htmx_target=TARGET)
    assert refused.status_code == 400 and alerts(refused) == [
        "Bad request. Teams must be teams of your workspace."]
    for forged in ({"rule_type": "app_hack"}, {"frequency": "yearly"}, {"channels": ["sms"]},
                   {"audience": "world"}, {"user_ids": ["abc"]}):
        assert bob.post(WIZARD, data=form(**forged), htmx_target=TARGET).status_code == 400
    session.expire_all()
    assert session.get(NotificationRule, theirs.id).name == "Theirs"


def test_failed_deliveries_show_on_the_rule_row_for_admins_only_and_last_sent_for_all(browser, session, people, apps):
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
    admin_page = page_of(browser(people["admin"]).get(TAB))
    last_sent = admin_page.find("tr", id=f"rule-{rule.id}").find_all("td")[7]
    assert text_of(one(last_sent, "status")) == \
        "1 failed delivery: SMTP server refused: 550 5.1.1 Mailbox unavailable"
    assert text_of(last_sent.find("time")) == "Nov 4, 2026 09:30 UTC"
    user_page = page_of(browser(people["user"]).get(TAB))
    assert by_role(user_page, "status") == [] and "failed deliver" not in text_of(user_page)
    # Everyone reads when the rule last sent, not a "Never" that is untrue.
    user_last_sent = user_page.find("tr", id=f"rule-{rule.id}").find_all("td")[7]
    assert text_of(user_last_sent.find("time")) == "Nov 4, 2026 09:30 UTC"


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
