"""Who receives a rule's digest, resolved when its window closes."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import (NotificationRule, NotificationRuleTeam, NotificationRuleUser,
                           TeamMember, User)


def resolve_recipients(session: Session, rule: NotificationRule) -> list[User]:
    """Active users of the rule's workspace in its audience, each once, ordered by id."""
    query = select(User).where(User.workspace_id == rule.workspace_id, User.active.is_(True))
    if rule.audience == "super_admins":
        query = query.where(User.role == "super_admin")
    elif rule.audience == "specific":
        named = select(NotificationRuleUser.user_id).where(NotificationRuleUser.rule_id == rule.id)
        through_teams = (select(TeamMember.user_id)
                         .join(NotificationRuleTeam, NotificationRuleTeam.team_id == TeamMember.team_id)
                         .where(NotificationRuleTeam.rule_id == rule.id))
        # IN over a union collapses people named directly and through several teams to one row.
        query = query.where(User.id.in_(named.union(through_teams)))
    elif rule.audience != "everyone":
        return []
    return list(session.scalars(query.order_by(User.id)))
