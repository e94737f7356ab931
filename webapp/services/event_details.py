"""Why something happened, in words: the log's "Details" and "User" columns (page, fragment and
CSV) and the problems of "Needs your attention" all read an event through these functions.

An event's details are what the service that wrote it knew: a reason code ("revoked_by_app"),
a reason already in words (an alert's title, the expiry rule), new scopes, a sync setting, how
many alerts a step resolved. Codes become words here and nowhere else.
"""
from __future__ import annotations

from collections.abc import Mapping

from webapp.models import ACTIVITIES

REASONS = {
    "revoked_by_app": "Revoked by the app",
    "refresh_token_reuse": "Refresh token reused",
    "admin_disconnected": "Disconnected by an admin",
    "user_disconnected": "Withdrawn by its user",
}
# Reasons that say the app itself did it, whatever else the event recorded about its actor.
APP_CAUSED = frozenset({"revoked_by_app", "refresh_token_reuse"})
SYSTEM = "System"


def _reason(details: Mapping, actor_name: str | None) -> str | None:
    reason = details.get("reason")
    if not isinstance(reason, str) or not reason:
        return None
    if reason == "admin_disconnected" and actor_name:
        return f"Disconnected by {actor_name}"
    if reason in REASONS:
        return REASONS[reason]
    if " " not in reason and reason.islower():  # a code nobody gave words yet
        return reason.replace("_", " ").capitalize()
    return reason  # already words: an alert's title, the expiry rule


def _alerts(count) -> str | None:
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        return None
    return f"Resolved {count} open alert{'' if count == 1 else 's'}"


def details_words(activity: str, details: Mapping | None, actor_name: str | None = None) -> str:
    """The "Details" of one log row: why it happened, or "" when the event says nothing more."""
    details = details or {}
    parts: list[str] = []
    reason = _reason(details, actor_name)
    if reason:
        parts.append(f"{reason}, for one user's connection" if details.get("user_grant")
                     else reason)
    elif details.get("user_grant"):
        if activity == "disconnected":
            parts.append(f"Withdrawn by {actor_name}" if actor_name else "A user's connection ended")
        else:
            parts.append("Connected for themself" if actor_name else "A user's connection")
    scopes = details.get("scopes")
    if activity == "reauthenticated" and isinstance(scopes, list) and scopes:
        parts.append("New scopes: " + ", ".join(str(scope) for scope in scopes))
    label = details.get("label")
    if activity in ("sync_on", "sync_off") and isinstance(label, str) and label:
        parts.append(label)
    resolved = _alerts(details.get("resolved_alerts"))
    if resolved:
        parts.append(resolved)
    return "; ".join(parts)


def app_caused(actor_app: bool, details: Mapping | None) -> bool:
    reason = (details or {}).get("reason")
    return bool(actor_app) or (isinstance(reason, str) and reason in APP_CAUSED)


def actor_label(actor_name: str | None, actor_app: bool, app_name: str,
                details: Mapping | None = None) -> str:
    """The "User" of a log row: the person, the app for what the app did, "System" for the
    console's own jobs (expiry, health probes)."""
    if actor_name is not None:
        return actor_name
    return app_name if app_caused(actor_app, details) else SYSTEM


def problem_words(activity: str, details: Mapping | None, actor_name: str | None = None) -> str:
    """A status and why, as "Needs your attention" says it: "Disconnected: revoked by the app",
    "Expired: no refresh token was used for 90 days", "Disconnected by Bob Admin"."""
    label = ACTIVITIES[activity]
    why = details_words(activity, details, actor_name)
    if not why:
        return label
    if why.startswith(label):
        return why
    return f"{label}: {why[0].lower()}{why[1:]}"
