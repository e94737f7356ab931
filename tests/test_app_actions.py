"""App page actions (uninstall, disconnect, sync settings, a user's own connection) and the
marketplace's Install."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.html import (alerts, button, by_role, dialog, heading, is_full_page, link, names, one, parse,
                        region, table_rows, text_of)
from webapp.models import Event, Grant, Installation
from webapp.services import lifecycle

SYNC = [{"key": "contact_sync", "label": "Contact sync", "default": True},
        {"key": "deal_sync", "label": "Deal sync", "default": False}]


@pytest.fixture
def crm(session, people):
    """An account-level app installed in Acme by its admin through a real grant."""
    app = make_app(session, "crm-bridge", name="CRM Bridge", sync_settings=SYNC,
                   install_url="http://127.0.0.1:8900/install")
    lifecycle.consent(session, people["acme"], app, people["admin"], app.all_scopes)
    session.commit()
    return app


@pytest.fixture
def notes(session, people):
    """A user-level app that Carol (user) and Bob (admin) connected for themselves."""
    app = make_app(session, "team-notes", name="Team Notes", install_level="user",
                   install_url="http://127.0.0.1:8900/notes/install?lang=en")
    lifecycle.consent(session, people["acme"], app, people["user"], app.all_scopes)
    lifecycle.consent(session, people["acme"], app, people["admin"], app.all_scopes)
    session.commit()
    return app


def installation_of(session, app, workspace) -> Installation:
    session.expire_all()
    return session.scalar(select(Installation).where(Installation.app_id == app.id,
                                                     Installation.workspace_id == workspace.id))


def events(session, activity=None) -> list[Event]:
    session.expire_all()
    query = select(Event).order_by(Event.id)
    if activity:
        query = query.where(Event.activity == activity)
    return list(session.scalars(query))


def page(client, slug):
    response = client.get(f"/settings/connected-apps/apps/{slug}")
    assert response.status_code == 200
    return parse(response)


ACTIONS = ["Re-authenticate", "Reconnect", "Install again", "Connect"]


def actions(html) -> list[str]:
    """The buttons and links of the page's lifecycle actions (outside dialogs) that it offers."""
    offered = names(html, "button") + names(html, "link")
    return [name for name in offered if name in ACTIONS + ["Uninstall", "Disconnect"]
            or name.startswith(("Turn on", "Turn off"))]


def install_link(html, name) -> str:
    return link(html, name)["href"]


def test_admin_sees_the_actions_and_user_sees_none(browser, people, crm):
    html = page(browser(people["admin"]), crm.slug)
    opener = button(html, "Uninstall")
    assert opener["aria-haspopup"] == "dialog" and opener["data-dialog-open"] == "uninstall-dialog"
    uninstall = dialog(html, "Uninstall CRM Bridge?")
    assert uninstall["id"] == "uninstall-dialog" and "Every token is revoked" in text_of(uninstall)
    assert names(uninstall, "button") == ["Uninstall", "Cancel"]
    assert sorted(actions(html)) == ["Disconnect", "Turn off Contact sync", "Turn on Deal sync",
                                     "Uninstall"]  # no Re-authenticate: nothing new to authorize

    html = page(browser(people["user"]), crm.slug)
    assert actions(html) == [] and by_role(html, "dialog", include_hidden=True) == []
    assert "Contact sync" in text_of(region(html, "Sync settings"))  # the values stay, read-only


def test_re_authenticate_appears_when_a_new_version_asks_for_more(session, browser, people, crm):
    crm.version = "1.1.0"
    crm.optional_scopes = [*crm.optional_scopes, "files.read"]
    lifecycle.refresh_flags_for_app(session, crm)
    session.commit()
    html = page(browser(people["admin"]), crm.slug)
    assert install_link(html, "Re-authenticate") == "http://127.0.0.1:8900/install?workspace=acme"
    assert "1 new scope to authorize: files.read" in text_of(html)
    assert "Re-authenticate" not in actions(page(browser(people["user"]), crm.slug))


def test_without_an_install_page_the_page_says_why_there_is_no_re_authenticate(session, browser,
                                                                                 people, crm):
    crm.install_url = None
    crm.version = "1.1.0"
    crm.optional_scopes = [*crm.optional_scopes, "files.read"]
    lifecycle.refresh_flags_for_app(session, crm)
    session.commit()
    html = page(browser(people["admin"]), crm.slug)
    assert "Re-authenticate" not in actions(html)
    assert "has no install page registered, so it cannot be re-authenticated" in text_of(html)


def test_admin_uninstalls_with_one_event_and_every_token_revoked(session, browser, people, crm):
    client = browser(people["admin"])
    response = client.post(f"/settings/connected-apps/apps/{crm.slug}/uninstall")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/settings/connected-apps/apps/{crm.slug}")
    assert text_of(one(page(client, crm.slug), "status")) == "CRM Bridge was uninstalled."
    assert installation_of(session, crm, people["acme"]).state == "uninstalled"
    assert [(e.activity, e.actor_id) for e in events(session, "uninstalled")] == [
        ("uninstalled", people["admin"].id)]
    assert all(g.revoked_at is not None for g in session.scalars(select(Grant)))


def test_htmx_uninstall_answers_with_hx_redirect(browser, people, crm):
    response = browser(people["admin"]).post(f"/settings/connected-apps/apps/{crm.slug}/uninstall",
                                             htmx_target="main")
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/settings/connected-apps/apps/{crm.slug}"


def test_uninstalling_twice_is_refused_with_a_message(session, browser, people, crm):
    client = browser(people["admin"])
    client.post(f"/settings/connected-apps/apps/{crm.slug}/uninstall")
    again = client.post(f"/settings/connected-apps/apps/{crm.slug}/uninstall")
    assert again.status_code == 409
    assert "CRM Bridge is not installed." in alerts(again)[0]
    assert len(events(session, "uninstalled")) == 1
    html = page(client, crm.slug)
    assert by_role(html, "dialog", "Uninstall CRM Bridge?", include_hidden=True) == []
    assert actions(html) == ["Install again"]
    assert install_link(html, "Install again") == "http://127.0.0.1:8900/install?workspace=acme"
    assert actions(page(browser(people["user"]), crm.slug)) == []


def test_admin_disconnects_and_can_reconnect(session, browser, people, crm):
    client = browser(people["admin"])
    response = client.post(f"/settings/connected-apps/apps/{crm.slug}/disconnect")
    assert response.status_code == 303
    assert installation_of(session, crm, people["acme"]).status == "disconnected"
    assert len(events(session, "disconnected")) == 1
    html = page(client, crm.slug)
    assert text_of(one(html, "status")) == "CRM Bridge was disconnected."
    assert "Disconnect" not in actions(html)
    assert install_link(html, "Reconnect") == "http://127.0.0.1:8900/install?workspace=acme"
    again = client.post(f"/settings/connected-apps/apps/{crm.slug}/disconnect")
    assert again.status_code == 409
    assert "CRM Bridge is already disconnected." in alerts(again)[0]
    assert len(events(session, "disconnected")) == 1


def test_admin_toggles_sync_settings_with_one_event_each(session, browser, people, crm):
    client = browser(people["admin"])
    url = f"/settings/connected-apps/apps/{crm.slug}/sync/contact_sync"
    assert client.post(url, data={"enabled": "off"}).status_code == 303
    installation = installation_of(session, crm, people["acme"])
    assert installation.sync_values["contact_sync"] is False
    assert [e.details["key"] for e in events(session, "sync_off")] == ["contact_sync"]
    html = page(client, crm.slug)
    assert text_of(one(html, "status")) == "Contact sync turned off."
    assert button(html, "Turn on Contact sync")

    assert client.post(url, data={"enabled": "on"}).status_code == 303
    assert installation_of(session, crm, people["acme"]).sync_values["contact_sync"] is True
    assert len(events(session, "sync_on")) == 1


def test_sync_input_is_checked(session, browser, people, crm):
    client = browser(people["admin"])
    base = f"/settings/connected-apps/apps/{crm.slug}/sync"
    assert client.post(f"{base}/contact_sync", data={"enabled": "maybe"}).status_code == 400
    assert client.post(f"{base}/contact_sync").status_code == 400
    assert client.post(f"{base}/nope", data={"enabled": "on"}).status_code == 404
    client.post(f"/settings/connected-apps/apps/{crm.slug}/uninstall")
    refused = client.post(f"{base}/contact_sync", data={"enabled": "off"})
    assert refused.status_code == 409
    assert not events(session, "sync_off")


ADMIN_ROUTES = [("uninstall", {}), ("disconnect", {}), ("sync/contact_sync", {"enabled": "off"})]


@pytest.mark.parametrize("action, data", ADMIN_ROUTES)
def test_users_get_403_and_nothing_changes(session, browser, people, crm, action, data):
    response = browser(people["user"]).post(f"/settings/connected-apps/apps/{crm.slug}/{action}",
                                            data=data)
    assert response.status_code == 403
    assert len(events(session)) == 1  # only the install
    assert installation_of(session, crm, people["acme"]).status == "connected"


@pytest.mark.parametrize("action, data", ADMIN_ROUTES)
def test_outsiders_get_404(session, browser, people, crm, action, data):
    response = browser(people["outsider"]).post(f"/settings/connected-apps/apps/{crm.slug}/{action}",
                                                data=data)
    assert response.status_code == 404
    assert len(events(session)) == 1


@pytest.mark.parametrize("action, data", ADMIN_ROUTES)
def test_get_is_not_allowed(browser, people, crm, action, data):
    assert browser(people["admin"]).get(
        f"/settings/connected-apps/apps/{crm.slug}/{action}").status_code == 405


@pytest.mark.parametrize("action, data", ADMIN_ROUTES)
def test_a_post_without_csrf_token_is_refused(session, browser, people, crm, action, data):
    client = browser(people["admin"])
    client.csrf_token = None
    response = client.post(f"/settings/connected-apps/apps/{crm.slug}/{action}", data=data)
    assert response.status_code == 400
    assert len(events(session)) == 1


def test_the_forms_carry_the_csrf_token(browser, people, crm):
    client = browser(people["admin"])
    html = page(client, crm.slug)
    for action in ("sync/contact_sync", "disconnect", "uninstall"):
        form = html.find("form", action=f"/settings/connected-apps/apps/{crm.slug}/{action}")
        assert form, action
        client.csrf_token = None
        data = {"csrf_token": form.find("input", attrs={"name": "csrf_token"})["value"]}
        if action.startswith("sync"):
            data["enabled"] = "off"
        assert client.post(f"/settings/connected-apps/apps/{crm.slug}/{action}",
                           data=data).status_code == 303


# User-level apps: who connected, and disconnecting one's own connection

def my_grant_id(session, app, user) -> int:
    return session.scalar(select(Grant.id).where(Grant.app_id == app.id, Grant.user_id == user.id,
                                                 Grant.revoked_at.is_(None)))


def test_the_page_lists_who_connected(browser, people, notes):
    html = page(browser(people["user"]), notes.slug)
    connected = region(html, "Connected users")
    assert [row[0] for row in table_rows(connected)] == ["Carol User (you)", "Bob Admin"]
    assert all("contacts.read" in row[2] for row in table_rows(connected))
    assert button(html, "Disconnect my connection")


def test_a_user_disconnects_their_own_connection(session, browser, people, notes):
    client = browser(people["user"])
    grant_id = my_grant_id(session, notes, people["user"])
    response = client.post(f"/settings/connected-apps/apps/{notes.slug}/connections/{grant_id}/disconnect")
    assert response.status_code == 303
    assert [(e.activity, e.actor_id) for e in events(session, "disconnected")] == [
        ("disconnected", people["user"].id)]
    assert my_grant_id(session, notes, people["admin"]) is not None  # Bob's stays
    html = page(client, notes.slug)
    assert text_of(one(html, "status")) == "Your connection to Team Notes was disconnected."
    assert by_role(html, "button", "Disconnect my connection") == []
    assert install_link(html, "Connect") == "http://127.0.0.1:8900/notes/install?lang=en&workspace=acme"


def test_nobody_disconnects_someone_elses_connection(session, browser, people, notes):
    carol_grant = my_grant_id(session, notes, people["user"])
    url = f"/settings/connected-apps/apps/{notes.slug}/connections/{carol_grant}/disconnect"
    assert browser(people["admin"]).post(url).status_code == 403
    assert browser(people["super_admin"]).post(url).status_code == 403
    assert browser(people["outsider"]).post(url).status_code == 404
    assert browser(people["user"]).get(url).status_code == 405
    assert not events(session, "disconnected")
    assert my_grant_id(session, notes, people["user"]) == carol_grant


def test_disconnecting_a_connection_twice_is_refused(session, browser, people, notes):
    client = browser(people["user"])
    grant_id = my_grant_id(session, notes, people["user"])
    url = f"/settings/connected-apps/apps/{notes.slug}/connections/{grant_id}/disconnect"
    client.post(url)
    again = client.post(url)
    assert again.status_code == 409
    assert "You have not connected Team Notes." in alerts(again)[0]
    assert len(events(session, "disconnected")) == 1


def test_a_grant_of_another_app_is_not_found_here(session, browser, people, notes, crm):
    admin_crm_grant = my_grant_id(session, crm, people["admin"])
    response = browser(people["admin"]).post(
        f"/settings/connected-apps/apps/{notes.slug}/connections/{admin_crm_grant}/disconnect")
    assert response.status_code == 404


# Marketplace: Install on cards, the install dialog, the listing

@pytest.fixture
def catalogue(session, people, crm):
    make_app(session, "mail-relay", name="Mail Relay", install_url="https://mail.example/install")
    make_app(session, "desk-notes", name="Desk Notes", install_level="user",
             install_url="https://desk.example/install")
    make_app(session, "no-door", name="No Door", install_url=None)
    session.commit()


def card(html, name: str):
    """The marketplace card whose title links to `name`."""
    [found] = [item for item in by_role(region(html, "Apps"), "listitem")
               if by_role(item, "link", name)]
    return found


def installs(within) -> list[str]:
    """The Install buttons and links in a card or page."""
    return [e.name for e in by_role(within, "button", "Install") + by_role(within, "link", "Install")]


def test_cards_offer_install_where_it_can_work(browser, people, catalogue):
    html = parse(browser(people["admin"]).get("/marketplace/"))
    install = button(card(html, "Mail Relay"), "Install")
    assert install["hx-target"] == "#install-dialog-body" and install["aria-haspopup"] == "dialog"
    assert installs(card(html, "Desk Notes")) == ["button"]
    assert installs(card(html, "No Door")) == []
    assert "No install page registered" in text_of(card(html, "No Door"))
    assert "Installed" in text_of(card(html, "CRM Bridge")) and installs(card(html, "CRM Bridge")) == []
    assert dialog(html, "Loading…")["id"] == "install-dialog"

    html = parse(browser(people["user"]).get("/marketplace/"))
    assert installs(card(html, "Mail Relay")) == []
    assert "An admin can install it" in text_of(card(html, "Mail Relay"))
    assert installs(card(html, "Desk Notes")) == ["button"]


def test_the_install_dialog_shows_the_listing_with_install(browser, people, catalogue):
    response = browser(people["admin"]).get("/marketplace/mail-relay", htmx_target="install-dialog-body")
    html = parse(response)
    assert response.status_code == 200
    assert not is_full_page(html)
    assert heading(html, "Mail Relay", level=2)["id"] == "install-dialog-title"  # names the dialog
    assert "contacts.read" in text_of(html)
    assert install_link(html, "Install") == "https://mail.example/install?workspace=acme"
    assert button(html, "Cancel").has_attr("data-dialog-close")
    assert "HX-Target" in response.headers["Vary"]


def test_the_listing_page_links_install_to_the_apps_install_url(browser, people, catalogue):
    html = parse(browser(people["admin"]).get("/marketplace/mail-relay"))
    assert is_full_page(html)
    assert install_link(html, "Install") == "https://mail.example/install?workspace=acme"
    installed = parse(browser(people["admin"]).get("/marketplace/crm-bridge"))
    assert installs(installed) == [] and "Installed" in text_of(installed)
    user_view = parse(browser(people["user"]).get("/marketplace/mail-relay"))
    assert installs(user_view) == []


def test_an_uninstalled_app_can_be_installed_again(browser, people, crm):
    client = browser(people["admin"])
    client.post(f"/settings/connected-apps/apps/{crm.slug}/uninstall")
    html = parse(client.get("/marketplace/"))
    assert installs(card(html, "CRM Bridge")) == ["button"]


def test_a_user_level_listing_offers_connect_to_those_not_connected(browser, people, notes):
    alice_view = browser(people["super_admin"]).get("/marketplace/team-notes")
    assert install_link(alice_view, "Connect") == \
        "http://127.0.0.1:8900/notes/install?lang=en&workspace=acme"
    assert by_role(browser(people["user"]).get("/marketplace/team-notes"), "link", "Connect") == []
