"""The marketplace: active search, category filter, cards and listing pages."""
import re

import pytest

from tests.conftest import make_app, make_installation
from tests.html import (by_role, chosen, field, fragment_root, heading, link, names, one, parse,
                        region, terms, text_of)
from tests.page_helpers import statements
from webapp.models import ROLES, LearningResource
from webapp.services import marketplace



def card_names(html) -> list[str]:
    """The apps shown, by the titles of their cards (each a link to its listing)."""
    doc = parse(html)
    if not by_role(doc, "list", "Apps"):
        return []
    cards = by_role(region(doc, "Apps"), "listitem")
    assert all(link(c, names(c, "heading")[0])["href"].startswith("/marketplace/") for c in cards)
    return [names(c, "heading")[0] for c in cards]


def card(html, name):
    [found] = [c for c in by_role(region(html, "Apps"), "listitem") if names(c, "heading") == [name]]
    return found


def installed_badge(within) -> bool:
    """Whether the card or listing says Installed (in this workspace)."""
    return re.search(r"\bInstalled\b", text_of(parse(within))) is not None


@pytest.fixture
def catalogue(session, people):
    apps = {
        "ledger-lite": make_app(session, "ledger-lite", name="Ledger Lite", vendor="Numbers Inc",
                                category="Finance", description="Bookkeeping for small teams."),
        "pipeline-pro": make_app(session, "pipeline-pro", name="Pipeline Pro", vendor="SalesWorks",
                                 category="Sales", description="Forecast deals with 100% focus.",
                                 required_scopes=["deals.read"], conditional_scopes=["files.read"],
                                 optional_scopes=["automation.write", "audit_logs.read"]),
        "chatter": make_app(session, "chatter", name="Chatter", vendor="Talky",
                            category="Communication", description="Team chat with LEDGER alerts.",
                            install_level="user"),
    }
    make_installation(session, people["acme"], apps["pipeline-pro"])
    make_installation(session, people["globex"], apps["chatter"])
    session.add(LearningResource(app_id=apps["pipeline-pro"].id, title="Pipeline Pro in practice",
                                 url="https://example.com/pp", minutes=6))
    session.commit()
    return apps


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_catalogue_with_installed_badges(people, catalogue, browser, role):
    response = browser(people[role]).get("/marketplace/")
    html = parse(response)
    assert response.status_code == 200
    assert heading(html, "Marketplace", level=1)
    search = field(html, "Search apps")
    assert (search["type"], search["name"]) == ("search", "q")
    assert card_names(html) == ["Chatter", "Ledger Lite", "Pipeline Pro"]
    pipeline = card(html, "Pipeline Pro")
    assert installed_badge(pipeline) and "SalesWorks · Sales" in text_of(pipeline)
    assert not installed_badge(card(html, "Chatter"))  # installed in Globex only


def test_search_input_is_a_debounced_active_search_that_pushes_the_url(people, catalogue, browser):
    search = field(browser(people["user"]).get("/marketplace/"), "Search apps")
    assert search["hx-get"] == "/marketplace/"
    assert search["hx-trigger"] == "input changed delay:300ms, search"
    assert search["hx-target"] == "#marketplace-results" and search["hx-push-url"] == "true"


@pytest.mark.parametrize("query, expected", [
    ("ledger", ["Chatter", "Ledger Lite"]),   # name, and description in another case
    ("NUMBERS", ["Ledger Lite"]),              # vendor
    ("finance", ["Ledger Lite"]),              # category
    ("100%", ["Pipeline Pro"]),                # a wildcard character is matched literally
    ("nothing-like-this", []),
])
def test_search_matches_name_vendor_description_and_category(people, catalogue, browser, query,
                                                             expected):
    response = browser(people["admin"]).get("/marketplace/", query_string={"q": query},
                                            htmx_target="marketplace-results")
    html = parse(response)
    assert response.status_code == 200
    assert fragment_root(html)["id"] == "marketplace-results"
    assert by_role(html, "heading", level=1) == []
    assert card_names(html) == expected
    count = f"{len(expected)} app{'' if len(expected) == 1 else 's'} matching “{query}”"
    assert text_of(one(html, "status")) == count
    if not expected:
        assert "No apps match. Try another word or show every app." in text_of(html)


def test_category_filter_and_search_combine(people, catalogue, browser):
    b = browser(people["admin"])
    html = b.get("/marketplace/?category=Communication", htmx_target="marketplace-results")
    assert card_names(html) == ["Chatter"]
    html = b.get("/marketplace/?category=Finance&q=chat", htmx_target="marketplace-results")
    assert card_names(html) == []


def test_pushed_url_restores_search_and_category_on_full_load(people, catalogue, browser):
    html = parse(browser(people["user"]).get("/marketplace/?q=ledger&category=Finance"))
    assert heading(html, "Marketplace", level=1)
    assert field(html, "Search apps")["value"] == "ledger"
    assert chosen(html, "Category") == ["Finance"]
    assert card_names(html) == ["Ledger Lite"]


@pytest.mark.parametrize("htmx_target", [None, "marketplace-results"])
def test_unknown_category_is_a_400_with_a_message(people, catalogue, browser, htmx_target):
    response = browser(people["admin"]).get("/marketplace/?category=Astrology",
                                            htmx_target=htmx_target)
    assert response.status_code == 400
    assert "Unknown category" in text_of(parse(response))


def test_listing_shows_details_scopes_by_kind_plan_gaps_and_resources(people, catalogue, browser,
                                                                      session):
    people["acme"].plan = "starter"
    session.commit()
    response = browser(people["user"]).get("/marketplace/pipeline-pro")
    html = parse(response)
    assert response.status_code == 200
    assert heading(html, "Pipeline Pro", level=1)
    about = region(html, "About")
    assert "Forecast deals with 100% focus." in text_of(about)
    facts = terms(about)
    assert (facts["Vendor"], facts["Version"], facts["Install level"]) == ("SalesWorks", "1.0.0", "Account")
    scopes = region(html, "Scopes it asks for")
    kinds = {kind: [text_of(code) for code in one(scopes, "group", kind).find_all("code")]
             for kind in ("Required", "Conditionally required", "Optional")}
    assert kinds == {"Required": ["deals.read"], "Conditionally required": ["files.read"],
                     "Optional": ["automation.write", "audit_logs.read"]}
    assert "Read deals and pipelines" in text_of(one(scopes, "group", "Required"))
    gaps = one(scopes, "note")
    assert [text_of(item) for item in by_role(gaps, "listitem")] == [
        "automation.write needs the Professional plan", "audit_logs.read needs the Enterprise plan"]
    assert text_of(gaps).startswith("Your workspace's Starter plan does not cover:")
    academy = region(html, "Learn more with Academy")
    assert link(academy, "Pipeline Pro in practice") and "6 min" in text_of(academy)
    assert installed_badge(html)
    assert link(html, "Open app page")["href"] == "/settings/connected-apps/apps/pipeline-pro"


def test_listing_of_an_app_installed_elsewhere_is_not_installed_here(people, catalogue, browser):
    html = parse(browser(people["admin"]).get("/marketplace/chatter"))
    assert heading(html, "Chatter", level=1)
    assert not installed_badge(html) and by_role(html, "link", "Open app page") == []
    assert "/settings/connected-apps/apps/chatter" not in str(html)


def test_outsider_sees_acmes_installed_app_as_not_installed(people, catalogue, browser):
    b = browser(people["outsider"])
    listing = parse(b.get("/marketplace/pipeline-pro"))
    assert not installed_badge(listing)
    assert "/settings/connected-apps/apps/pipeline-pro" not in str(listing)
    assert not installed_badge(card(b.get("/marketplace/"), "Pipeline Pro"))


def test_unknown_listing_is_404(people, catalogue, browser):
    response = browser(people["admin"]).get("/marketplace/no-such-app")
    assert response.status_code == 404
    assert "no such app" in text_of(parse(response))


def test_marketplace_query_count_does_not_grow_with_the_catalogue(people, browser, session):
    b = browser(people["admin"])

    def add(count, start):
        for n in range(start, start + count):
            app = make_app(session, f"app-{n:02d}", category=("Sales", "Finance", "Ops")[n % 3])
            if n % 2:
                make_installation(session, people["acme"], app)
        session.commit()

    add(3, 0)
    with statements() as few:
        shown = b.get("/marketplace/")
    assert len(card_names(shown)) == 3
    add(12, 3)
    with statements() as many:
        shown = b.get("/marketplace/")
    assert len(card_names(shown)) == 15
    assert len(few) == len(many)


def test_search_service_flags_installed_apps_for_the_workspace_only(session, people, catalogue):
    cards = marketplace.search_apps(session, people["globex"].id)
    assert [(card.app.slug, card.installed) for card in cards] == [
        ("chatter", True), ("ledger-lite", False), ("pipeline-pro", False)]
    assert marketplace.categories(session) == ["Communication", "Finance", "Sales"]
    with pytest.raises(marketplace.UnknownCategory):
        marketplace.parse_category("Nope", marketplace.categories(session))
