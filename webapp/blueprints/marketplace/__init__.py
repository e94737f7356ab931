"""The marketplace: the deployment's catalogue of apps, seen from the user's workspace."""
from flask import Blueprint, request
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.services import connections, marketplace, policy
from webapp.web import render_page_or_fragment

bp = Blueprint("marketplace", __name__, url_prefix="/marketplace")

# The search and the category ask for the results; a card's "Install" asks the listing's URL for
# the dialog-sized listing.
INDEX_FRAGMENTS = {"marketplace-results": "results"}
LISTING_FRAGMENTS = {"install-dialog-body": "install_dialog"}


@bp.route("/")
@login_required
def index():
    categories = marketplace.categories(db.session)
    category = marketplace.parse_category(request.args.get("category"), categories)
    query = request.args.get("q", "")[:marketplace.MAX_QUERY_LENGTH]
    cards = marketplace.search_apps(db.session, current_user.workspace_id, query, category)
    # A card offers Install only; connecting oneself to an installed app is the listing's.
    card_actions = {card.app.id: policy.listing_actions(card.app, current_user,
                                                        installed=card.installed,
                                                        connected_myself=False)
                    for card in cards}
    return render_page_or_fragment("marketplace/index.html", INDEX_FRAGMENTS, cards=cards,
                                   card_actions=card_actions, query=query,
                                   query_max_length=marketplace.MAX_QUERY_LENGTH,
                                   category=category or "", categories=categories)


@bp.route("/<slug>")
@login_required
def listing(slug: str):
    app = marketplace.app_by_slug(db.session, slug)
    workspace = current_user.workspace
    listing = marketplace.listing(db.session, workspace.id, workspace.plan, app)
    connected_myself = app.install_level == "user" and connections.user_has_grant(
        db.session, workspace.id, app.id, current_user.id)
    return render_page_or_fragment(
        "marketplace/listing.html", LISTING_FRAGMENTS, app=app, workspace=workspace,
        listing=listing, actions=policy.listing_actions(app, current_user,
                                                        installed=listing.installed,
                                                        connected_myself=connected_myself))
