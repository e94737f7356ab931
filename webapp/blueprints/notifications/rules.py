"""Settings > Connected apps > Notifications: the rules table and the three-step wizard."""
from __future__ import annotations

from flask import request
from flask_login import current_user, login_required

from webapp.blueprints.notifications import bp
from webapp.extensions import db
from webapp.models.notification import AUDIENCES, CHANNELS, FREQUENCIES, RULE_TYPES
from webapp.services import policy
from webapp.services.errors import Unprocessable
from webapp.services.notifications import rules as service
from webapp.services.policy import Action
from webapp.web import render_page_or_fragment

# The buttons, the wizard's steps and its Cancel all swap the tab's content.
FRAGMENTS = {"notifications-content": "notifications_content"}
TAB_URL = "/settings/connected-apps/notifications"
# The step comes back with its errors next to the fields; htmx swaps every 4xx answer.
INVALID = Unprocessable.status


def _render(status: int = 200, headers: dict | None = None, **context):
    """The tab page, or only its content block when htmx targets it."""
    workspace = current_user.workspace
    actions = policy.notification_actions(current_user)
    context.setdefault("wizard", None)
    if context["wizard"] is None:
        context["rules"] = service.list_rules(db.session, workspace)
        # Everyone reads when a rule last sent; why deliveries failed is for who manages rules.
        context["stats"] = service.delivery_stats(db.session, workspace)
    labels = dict(rule_types=RULE_TYPES, frequencies=FREQUENCIES, audiences=AUDIENCES,
                  channel_labels=CHANNELS, name_max_length=service.NAME_MAX)
    return render_page_or_fragment("notifications/index.html", FRAGMENTS, status, headers,
                                   active_tab="notifications", actions=actions, **labels,
                                   **context)


def _wizard(data: service.RuleForm, step: int, rule=None, errors=None) -> dict:
    workspace = current_user.workspace
    return {
        "data": data, "step": step, "rule": rule, "errors": errors or {},
        "apps": service.selectable_apps(db.session, workspace, rule) if step == 2 else [],
        "users": service.workspace_users(db.session, workspace) if step == 3 else [],
        "teams": service.workspace_teams(db.session, workspace) if step == 3 else [],
    }


@bp.route("/settings/connected-apps/notifications")
@login_required
def index():
    return _render()


def _require(action: Action) -> None:
    policy.notification_actions(current_user).require(action)


@bp.route("/settings/connected-apps/notifications/new")
@login_required
def new_rule():
    _require(Action.CREATE_NOTIFICATION)
    return _render(wizard=_wizard(service.RuleForm(), 1))


@bp.route("/settings/connected-apps/notifications/<int:rule_id>/manage")
@login_required
def manage_rule(rule_id: int):
    _require(Action.MANAGE_NOTIFICATION)
    rule = service.get_rule(db.session, current_user.workspace, rule_id)
    return _render(wizard=_wizard(service.RuleForm.from_rule(rule), 1, rule))


@bp.route("/settings/connected-apps/notifications/wizard", methods=["POST"])
@login_required
def wizard():
    """One POST per Back / Next / Apply; every field travels along, so nothing entered is lost."""
    _require(Action.MANAGE_NOTIFICATION if request.form.get("rule_id")
             else Action.CREATE_NOTIFICATION)
    workspace = current_user.workspace
    rule = None
    if request.form.get("rule_id"):
        rule = service.get_rule(db.session, workspace, request.form["rule_id"])
    try:
        step = int(request.form.get("step", "1"))
    except ValueError:
        step = 1
    step = step if step in service.STEPS else 1
    action = request.form.get("nav", "next")
    # Input no honest form sends raises RuleInputError (400); mistakes a person makes come back
    # as the step with its errors beside the fields (422).
    data = service.RuleForm.from_form(request.form)
    if action == "back":
        return _render(wizard=_wizard(data, max(step - 1, 1), rule))
    if action == "apply" and step == service.STEPS[-1]:
        failed_step, errors = service.validate_all(db.session, workspace, data, rule)
        if failed_step is None:
            service.save_rule(db.session, workspace, current_user, data, rule)
            db.session.commit()
            return _render(headers={"HX-Push-Url": TAB_URL})
        return _render(INVALID, wizard=_wizard(data, failed_step, rule, errors))
    errors = service.validate_step(db.session, workspace, data, step, rule)
    if errors:
        return _render(INVALID, wizard=_wizard(data, step, rule, errors))
    return _render(wizard=_wizard(data, min(step + 1, service.STEPS[-1]), rule))


@bp.route("/settings/connected-apps/notifications/<int:rule_id>", methods=["DELETE"])
@login_required
def delete_rule(rule_id: int):
    _require(Action.DELETE_NOTIFICATION)
    rule = service.get_rule(db.session, current_user.workspace, rule_id)
    service.delete_rule(db.session, rule)
    db.session.commit()
    # htmx swaps the row's outerHTML with this empty body: the row leaves the table.
    return "", 200

