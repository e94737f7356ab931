"""The marketplace: active search, category filter, cards and listing pages."""
import re

import pytest

from tests.conftest import make_app, make_installation
from tests.page_helpers import statements, text
from webapp.models import LearningResource
from webapp.services import marketplace

ROLES = ("super_admin", "admin", "user")


def card_names(html):
    return re.findall(r'<h2 class="card-title"><a href="/marketplace/[^"]+">([^<]+)</a>', html)


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
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Marketplace</h1>" in html
    assert '<label for="marketplace-search">Search apps</label>' in html
    assert 'id="marketplace-search" type="search" name="q"' in html
    assert card_names(html) == ["Chatter", "Ledger Lite", "Pipeline Pro"]
    pipeline = html[html.index(">Pipeline Pro</a>"):html.index("</li>", html.index(">Pipeline Pro</a>"))]
    assert ">Installed</span>" in pipeline and "SalesWorks · Sales" in pipeline
    chatter = html[html.index(">Chatter</a>"):html.index("</li>", html.index(">Chatter</a>"))]
    assert ">Installed</span>" not in chatter  # installed in Globex only


def test_search_input_is_a_debounced_active_search_that_pushes_the_url(people, catalogue, browser):
    html = text(browser(people["user"]).get("/marketplace/"))
    field = re.search(r'<input id="marketplace-search".*?>', html, re.S).group(0)
    assert 'hx-get="/marketplace/"' in field
    assert 'hx-trigger="input changed delay:300ms, search"' in field
    assert 'hx-target="#marketplace-results"' in field and 'hx-push-url="true"' in field


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
    html = text(response)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="marketplace-results">')
    assert "<h1>" not in html
    assert card_names(html) == expected
    if not expected:
        assert "No apps match" in html


def test_category_filter_and_search_combine(people, catalogue, browser):
    b = browser(people["admin"])
    html = text(b.get("/marketplace/?category=Communication", htmx_target="marketplace-results"))
    assert card_names(html) == ["Chatter"]
    html = text(b.get("/marketplace/?category=Finance&q=chat", htmx_target="marketplace-results"))
    assert card_names(html) == []


def test_pushed_url_restores_search_and_category_on_full_load(people, catalogue, browser):
    html = text(browser(people["user"]).get("/marketplace/?q=ledger&category=Finance"))
    assert "<h1>Marketplace</h1>" in html
    assert 'name="q" value="ledger"' in html
    assert '<option value="Finance" selected>Finance</option>' in html
    assert card_names(html) == ["Ledger Lite"]


@pytest.mark.parametrize("htmx_target", [None, "marketplace-results"])
def test_unknown_category_is_a_400_with_a_message(people, catalogue, browser, htmx_target):
    response = browser(people["admin"]).get("/marketplace/?category=Astrology",
                                            htmx_target=htmx_target)
    assert response.status_code == 400
    assert "Unknown category" in text(response)


def test_listing_shows_details_scopes_by_kind_plan_gaps_and_resources(people, catalogue, browser,
                                                                      session):
    people["acme"].plan = "starter"
    session.commit()
    response = browser(people["user"]).get("/marketplace/pipeline-pro")
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Pipeline Pro</h1>" in html
    assert "Forecast deals with 100% focus." in html
    for fact in ("<dt>Vendor</dt><dd>SalesWorks</dd>", "<dt>Version</dt><dd>1.0.0</dd>",
                 "<dt>Install level</dt><dd>Account</dd>"):
        assert fact in html
    kinds = {kind: re.findall(r"<code>([^<]+)</code>", part.split("</div>")[0])
             for kind, part in re.findall(r'<h3 id="kind-\d">([^<]+)</h3>(.*?)(?=<h3|</section>)', html,
                                          re.S)}
    assert kinds == {"Required": ["deals.read"], "Conditionally required": ["files.read"],
                     "Optional": ["automation.write", "audit_logs.read"]}
    assert "Read deals and pipelines" in html
    assert "Starter plan does not cover" in html
    gaps = html[html.index("plan does not cover"):html.index("</div>", html.index("plan does not cover"))]
    assert "<code>automation.write</code> needs the Professional plan" in gaps
    assert "<code>audit_logs.read</code> needs the Enterprise plan" in gaps
    assert "files.read" not in gaps
    assert "Pipeline Pro in practice</a>" in html and "6 min" in html
    assert ">Installed</span>" in html and 'href="/settings/connected-apps/apps/pipeline-pro"' in html


def test_listing_of_an_app_installed_elsewhere_is_not_installed_here(people, catalogue, browser):
    html = text(browser(people["admin"]).get("/marketplace/chatter"))
    assert "<h1>Chatter</h1>" in html
    assert ">Installed</span>" not in html and "/settings/connected-apps/apps/chatter" not in html


def test_outsider_sees_acmes_installed_app_as_not_installed(people, catalogue, browser):
    b = browser(people["outsider"])
    listing = text(b.get("/marketplace/pipeline-pro"))
    assert ">Installed</span>" not in listing
    assert "/settings/connected-apps/apps/pipeline-pro" not in listing
    cards = text(b.get("/marketplace/"))
    pipeline = cards[cards.index(">Pipeline Pro</a>"):]
    assert ">Installed</span>" not in pipeline.split("</li>")[0]


def test_unknown_listing_is_404(people, catalogue, browser):
    response = browser(people["admin"]).get("/marketplace/no-such-app")
    assert response.status_code == 404
    assert "no such app" in text(response)


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
        assert len(card_names(text(b.get("/marketplace/")))) == 3
    add(12, 3)
    with statements() as many:
        assert len(card_names(text(b.get("/marketplace/")))) == 15
    assert len(few) == len(many)


def test_search_service_flags_installed_apps_for_the_workspace_only(session, people, catalogue):
    cards = marketplace.search_apps(session, people["globex"].id)
    assert [(card.app.slug, card.installed) for card in cards] == [
        ("chatter", True), ("ledger-lite", False), ("pipeline-pro", False)]
    assert marketplace.categories(session) == ["Communication", "Finance", "Sales"]
    with pytest.raises(marketplace.UnknownCategory):
        marketplace.parse_category("Nope", marketplace.categories(session))
