"""What a page offers is what the server accepts: for every state of an installation, install
level and role, the buttons and forms of the app page and the marketplace are collected, then
each action is sent to the server, which must accept exactly the ones shown and refuse the rest.

"Needs your attention" on the overview and the rows of My apps may offer only links the app
page offers too (Reconnect on all three or none; Re-authenticate on My apps and the app page or
neither). Actions that are forms on the console (uninstall, disconnect, sync, disconnect my
connection) are posted as they are. Actions that are links to the app's install page (install, reconnect,
re-authenticate, connect) end on the console's consent page, whose "Connect app" is posted: a
link may only be shown to someone whose consent the server accepts. Notification rules get the
same walk per role.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import select

from tests.conftest import make_app, make_user
from tests.html import accessible_name, by_role, link, one, parse, popup, text_of
from webapp.models import Grant, Installation, NotificationRule
from webapp.services import lifecycle
from webapp.services.policy import Action

STATES = ("connected", "disconnected", "expired", "error", "uninstalled", "never_installed")
LEVELS = ("account", "user", "multi_account")
ROLES = ("super_admin", "admin", "user")
SYNC = [{"key": "contact_sync", "label": "Contact sync", "default": True}]
POSTED = (Action.UNINSTALL, Action.DISCONNECT, Action.CHANGE_SYNC, Action.DISCONNECT_MY_CONNECTION)
LINKS = {"Re-authenticate": Action.REAUTHENTICATE, "Reconnect": Action.RECONNECT,
         "Install again": Action.INSTALL_AGAIN, "Connect": Action.CONNECT,
         "Install": Action.INSTALL}


@dataclass
class Copy:
    """One app in one state, seeded afresh whenever an accepted action has changed it."""

    app: object
    installation: Installation | None

    @property
    def base(self) -> str:
        return f"/settings/connected-apps/apps/{self.app.slug}"


class Seeder:
    def __init__(self, session, people, level: str):
        self.session, self.people, self.level = session, people, level
        self.state = STATES[0]
        self.elsewhere: set[tuple[str, str, Action]] = set()  # (state, place, action) offered
        self.other = make_user(session, people["acme"], "dave@acme.test", "user", "Dave Other")
        session.commit()

    def copy(self, viewer, *, viewer_connected: bool, install_page: bool = True) -> Copy:
        """The app installed by someone else (an admin, or another user for a user-level app),
        with contacts.write left to authorize, then brought into the state."""
        slug = f"walk-{secrets.token_hex(4)}"
        app = make_app(self.session, slug, name=f"Walk {slug[5:]}", install_level=self.level,
                       sync_settings=SYNC,
                       install_url=f"https://{slug}.example/install" if install_page else None)
        if self.state == "never_installed":
            self.session.commit()
            return Copy(app, None)
        acme = self.people["acme"]
        installer = self.other if self.level == "user" else self.people["admin"]
        grant = lifecycle.consent(self.session, acme, app, installer, ["contacts.read"])
        if viewer_connected and viewer.id != installer.id:
            lifecycle.consent(self.session, acme, app, viewer, ["contacts.read"])
        installation = self.session.get(Installation, grant.installation_id)
        if self.state in ("expired", "error"):
            installation.status = self.state
        elif self.state == "disconnected":
            lifecycle.disconnect(self.session, installation, installer, "admin_disconnected")
        elif self.state == "uninstalled":
            lifecycle.uninstall(self.session, installation, installer)
        self.session.commit()
        return Copy(app, installation)

    def grant_to_post(self, copy: Copy, viewer) -> int:
        """The viewer's own connection when they ever had one, otherwise someone else's."""
        if copy.installation is None:
            return 999999
        grants = list(self.session.scalars(select(Grant).where(
            Grant.installation_id == copy.installation.id).order_by(Grant.id)))
        own = [grant for grant in grants if grant.user_id == viewer.id]
        return (own or grants)[-1].id


def read(response):
    assert response.status_code < 500, response.get_data(as_text=True)
    return parse(response)


def named(doc, role: str, include_hidden: bool = False) -> list[tuple[str, object]]:
    """Every element of `role` with its accessible name (one pass over the page)."""
    return [(accessible_name(e), e) for e in by_role(doc, role, include_hidden=include_hidden)]


def offered_links(doc, copy: Copy, problems: list, where: str) -> set[Action]:
    offered = set()
    expected = f"{copy.app.install_url}?workspace=acme"
    for label, found in named(doc, "link"):
        if label in LINKS:
            if found["href"] != expected:
                problems.append(f"{where}: {label} leads to {found['href']}, not {expected}")
            offered.add(LINKS[label])
    return offered


def _posts_to(control, url, problems: list, where: str) -> None:
    form = control.find_parent("form")
    target = form.get("action") if form is not None else None
    if not (target == url if isinstance(url, str) else url.fullmatch(target or "")):
        problems.append(f"{where}: {text_of(control)} posts to {target}")


def offered_on_app_page(doc, copy: Copy, problems: list, where: str) -> set[Action]:
    offered = offered_links(doc, copy, problems, where)
    buttons = named(doc, "button")
    dialogs = dict(named(doc, "dialog", include_hidden=True))
    for label, action in (("Uninstall", Action.UNINSTALL), ("Disconnect", Action.DISCONNECT)):
        opener = any(name == label for name, _ in buttons)
        dialog = dialogs.get(f"{label} {copy.app.name}?")
        if opener != (dialog is not None):
            problems.append(f"{where}: the {label} button and its dialog disagree")
        if dialog is not None:
            _posts_to(one(dialog, "button", label), f"{copy.base}/{action}", problems, where)
            offered.add(action)
    own = re.compile(rf"{re.escape(copy.base)}/connections/\d+/disconnect")
    for name, control in buttons:
        if re.fullmatch(r"Turn (on|off) Contact sync", name):
            _posts_to(control, f"{copy.base}/sync/contact_sync", problems, where)
            offered.add(Action.CHANGE_SYNC)
        elif name == "Disconnect my connection":
            _posts_to(control, own, problems, where)
            offered.add(Action.DISCONNECT_MY_CONNECTION)
    return offered


def card_of(doc, name: str):
    return link(doc, name).find_parent("li")


def post_action(client, seeder: Seeder, copy: Copy, viewer, action: Action):
    if action is Action.CHANGE_SYNC:
        return client.post(f"{copy.base}/sync/contact_sync", data={"enabled": "off"})
    if action is Action.DISCONNECT_MY_CONNECTION:
        grant_id = seeder.grant_to_post(copy, viewer)
        return client.post(f"{copy.base}/connections/{grant_id}/disconnect")
    return client.post(f"{copy.base}/{action}")


def consent(client, copy: Copy) -> tuple[bool, bool]:
    """The consent page as the app's authorization request opens it: whether it offers
    "Connect app", and whether the server accepts it (a redirect carrying a code)."""
    verifier = secrets.token_urlsafe(48)
    url = "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": copy.app.client_id,
        "redirect_uri": copy.app.redirect_uris[0], "scope": " ".join(copy.app.all_scopes),
        "state": "walk", "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256"})
    offered = bool(by_role(read(client.get(url)), "button", "Connect app"))
    answer = client.post(url, data={"decision": "connect"})
    assert answer.status_code < 500, answer.get_data(as_text=True)
    return offered, answer.status_code == 302 and "code=" in answer.headers.get("Location", "")


def accepted(response) -> bool:
    assert response.status_code < 500, response.get_data(as_text=True)
    return response.status_code < 400


def rows_of(doc, copy: Copy, region_name: str | None = None) -> list:
    """The table rows of the page (or of one of its regions) that link to the copy's app page."""
    if region_name is not None:
        found = by_role(doc, "region", region_name)
        if not found:
            return []
        doc = found[0]
    return [row for row in doc.find_all("tr")
            if row.find("a", href=copy.base, string=copy.app.name) is not None]


def offered_elsewhere(client, seeder: Seeder, copy: Copy, on_page: set[Action], problems: list,
                      where: str) -> set[Action]:
    """The fixes "Needs your attention" and My apps offer beside the app: each must be one the
    app page offers too, and Reconnect is offered on all three or on none."""
    overview = read(client.get("/settings/connected-apps/"))
    my_apps = read(client.get("/settings/connected-apps/my-apps"))
    offered = {}
    for place, rows in (("overview", rows_of(overview, copy, "Needs your attention")),
                        ("my apps", rows_of(my_apps, copy))):
        offered[place] = set()
        for row in rows:
            offered[place] |= offered_links(row, copy, problems, f"{where} {place}")
        if offered[place] - on_page:
            problems.append(f"{where}: {place} offers {sorted(offered[place] - on_page)}, "
                            "the app page does not")
        seeder.elsewhere |= {(seeder.state, place, action) for action in offered[place]}
        if (Action.RECONNECT in offered[place]) != (Action.RECONNECT in on_page):
            problems.append(f"{where}: the app page and {place} disagree about Reconnect")
    if (Action.REAUTHENTICATE in offered["my apps"]) != (Action.REAUTHENTICATE in on_page):
        problems.append(f"{where}: the app page and my apps disagree about Re-authenticate")
    if offered["overview"] - {Action.RECONNECT}:
        problems.append(f"{where}: the overview offers {sorted(offered['overview'])}")
    return offered["overview"] | offered["my apps"]


def walk_one(client, seeder: Seeder, viewer, role: str, viewer_connected: bool,
             problems: list) -> set[Action]:
    where = f"{seeder.level}/{seeder.state}/{role}" + ("/connected" if viewer_connected else "")
    copy = seeder.copy(viewer, viewer_connected=viewer_connected)
    app_page = client.get(copy.base)
    if copy.installation is None:
        assert app_page.status_code == 404
        on_page = set()
    else:
        on_page = offered_on_app_page(read(app_page), copy, problems, where)
        on_page |= offered_elsewhere(client, seeder, copy, on_page, problems, where)

    listing_url = f"/marketplace/{copy.app.slug}"
    listing = offered_links(read(client.get(listing_url)), copy, problems, where + " listing")
    dialog = offered_links(read(client.get(listing_url, htmx_target="install-dialog-body")),
                           copy, problems, where + " dialog")
    card = card_of(read(client.get("/marketplace/", query_string={"q": copy.app.name})),
                   copy.app.name)
    if listing != dialog:
        problems.append(f"{where}: the listing offers {sorted(listing)}, its dialog {sorted(dialog)}")
    if bool(by_role(card, "button", "Install")) != (Action.INSTALL in listing):
        problems.append(f"{where}: the card and the listing disagree about Install")

    for action in POSTED:
        if accepted(post_action(client, seeder, copy, viewer, action)) != (action in on_page):
            problems.append(f"{where}: {action} is {'shown' if action in on_page else 'hidden'} "
                            f"but the server {'refuses' if action in on_page else 'accepts'} it")
            copy = seeder.copy(viewer, viewer_connected=viewer_connected)
        elif action in on_page:  # it changed the installation: start again from the state
            copy = seeder.copy(viewer, viewer_connected=viewer_connected)

    offered, consented = consent(client, copy)
    if offered != consented:
        problems.append(f"{where}: the consent page {'offers' if offered else 'hides'} "
                        f"Connect app but the server {'refuses' if offered else 'accepts'} it")
    links = (on_page | listing) - set(POSTED)
    if links and not consented:
        problems.append(f"{where}: {sorted(links)} shown, but the consent is refused")

    # Without an install page the same user has the same forms and no links.
    bare = seeder.copy(viewer, viewer_connected=viewer_connected, install_page=False)
    if bare.installation is not None:
        bare_page = offered_on_app_page(read(client.get(bare.base)), bare, problems, where)
        if bare_page != on_page & set(POSTED):
            problems.append(f"{where} without install page: {sorted(bare_page)} shown")
    if offered_links(read(client.get(f"/marketplace/{bare.app.slug}")), bare, problems, where):
        problems.append(f"{where} without install page: the listing links to nowhere")
    return on_page | listing


@pytest.mark.parametrize("level", LEVELS)
def test_every_page_offers_exactly_what_the_server_accepts(session, people, browser, level):
    seeder = Seeder(session, people, level)
    problems: list[str] = []
    seen: dict[tuple[str, str], set[Action]] = {}
    for role in ROLES:
        viewer = people[role]
        client = browser(viewer)
        for state in STATES:
            seeder.state = state
            # A user-level app's connection is personal: walk it with and without the viewer's.
            personal = level == "user" and state in ("connected", "expired", "error")
            for viewer_connected in (False, True) if personal else (False,):
                seen[state, role] = seen.get((state, role), set()) | walk_one(
                    client, seeder, viewer, role, viewer_connected, problems)
    assert not problems, "\n".join(problems)
    # The walk saw the actions it is about (a page that showed nothing would pass vacuously).
    for state in ("connected", "disconnected", "expired", "error"):
        assert Action.UNINSTALL in seen[state, "admin"] and not seen[state, "user"] & set(POSTED[:3])
    assert Action.INSTALL_AGAIN in seen["uninstalled", "super_admin"]
    if level != "multi_account":  # which is not reconnected as a whole
        assert {("disconnected", "overview", Action.RECONNECT),
                ("expired", "my apps", Action.RECONNECT),
                ("connected", "my apps", Action.REAUTHENTICATE)} <= seeder.elsewhere
    assert Action.INSTALL in seen["never_installed", "admin"]


TAB = "/settings/connected-apps/notifications"


@pytest.mark.parametrize("role", ROLES)
def test_notification_rules_offer_exactly_what_the_server_accepts(session, people, browser, role):
    def rule_named(name):
        rule = NotificationRule(workspace_id=people["acme"].id, name=name, rule_type="app_install",
                                frequency="day", channels=["in_app"], audience="everyone",
                                all_apps=True, created_by_id=people["admin"].id)
        session.add(rule)
        session.commit()
        return rule

    rule = rule_named("Installs")
    client = browser(people[role])
    tab = read(client.get(TAB))
    # The row's menu opens from its "Actions" button.
    menu = popup(tab, "Actions") if by_role(tab, "button", "Actions") else None
    shown = {Action.CREATE_NOTIFICATION: bool(by_role(tab, "button", "Create new notification"))}
    for action, label in ((Action.MANAGE_NOTIFICATION, "Manage notification"),
                          (Action.DELETE_NOTIFICATION, "Delete notification")):
        shown[action] = menu is not None and bool(by_role(menu, "button", label))
    step = {"step": "1", "nav": "next", "name": "Walked", "rule_type": "app_install",
            "frequency": "day", "channels": ["in_app"], "audience": "everyone"}
    answers = {
        Action.CREATE_NOTIFICATION: [client.get(f"{TAB}/new"),
                                     client.post(f"{TAB}/wizard", data=step)],
        Action.MANAGE_NOTIFICATION: [client.get(f"{TAB}/{rule.id}/manage"),
                                     client.post(f"{TAB}/wizard",
                                                 data={**step, "rule_id": str(rule.id)})],
        Action.DELETE_NOTIFICATION: [client.delete(f"{TAB}/{rule_named('Spare').id}")],
    }
    for action, responses in answers.items():
        assert [accepted(r) for r in responses] == [shown[action]] * len(responses), action
    assert any(shown.values()) is (role != "user")
