"""The marketplace: the deployment's catalogue of apps, seen from the user's workspace."""
from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from webapp.extensions import db
from webapp.services import connections, marketplace, policy
from webapp.web import FRAGMENT_VARY, htmx_targets, render_page_or_fragment

bp = Blueprint("marketplace", __name__, url_prefix="/marketplace")

RESULTS_ID = "marketplace-results"
INSTALL_DIALOG_BODY_ID = "install-dialog-body"


@bp.route("/")
@login_required
def index():
    categories = marketplace.categories(db.session)
    try:
        category = marketplace.parse_category(request.args.get("category"), categories)
    except marketplace.UnknownCategory as error:
        abort(400, description=str(error))
    query = request.args.get("q", "")[:marketplace.MAX_QUERY_LENGTH]
    cards = marketplace.search_apps(db.session, current_user.workspace_id, query, category)
    # A card offers Install only; connecting oneself to an installed app is the listing's.
    card_actions = {card.app.id: policy.listing_actions(card.app, current_user,
                                                        installed=card.installed,
                                                        connected_myself=False)
                    for card in cards}
    return render_page_or_fragment("marketplace/index.html", "results", RESULTS_ID, cards=cards,
                                   card_actions=card_actions, query=query,
                                   query_max_length=marketplace.MAX_QUERY_LENGTH,
                                   category=category or "", categories=categories)


@bp.route("/<slug>")
@login_required
def listing(slug: str):
    app = marketplace.app_by_slug(db.session, slug)
    if app is None:
        abort(404, description="There is no such app in the marketplace.")
    workspace = current_user.workspace
    listing = marketplace.listing(db.session, workspace.id, workspace.plan, app)
    connected_myself = app.install_level == "user" and connections.user_has_grant(
        db.session, workspace.id, app.id, current_user.id)
    context = dict(app=app, workspace=workspace, listing=listing,
                   actions=policy.listing_actions(app, current_user, installed=listing.installed,
                                                  connected_myself=connected_myself))
    # A card's "Install" asks for the listing inside the install dialog: a dialog-sized fragment.
    template = ("marketplace/_install_listing.html" if htmx_targets(INSTALL_DIALOG_BODY_ID)
                else "marketplace/listing.html")
    return render_template(template, **context), 200, {"Vary": FRAGMENT_VARY}
