"""All models, imported here so that metadata (and migrations) see every table."""
from webapp.models.app import App, LearningResource, Scope  # noqa: F401
from webapp.models.event import ACTIVITIES, Event  # noqa: F401
from webapp.models.grant import AuthorizationCode, Grant, Token  # noqa: F401
from webapp.models.installation import (  # noqa: F401
    ALERT_SOURCES, Alert, ExternalAccount, HealthCheck, Installation)
from webapp.models.notification import (  # noqa: F401
    Delivery, InAppNotification, NotificationRule, NotificationRuleApp, NotificationRuleTeam,
    NotificationRuleUser)
from webapp.models.session import END_REASONS, UserSession  # noqa: F401
from webapp.models.workspace import PLANS, ROLES, Team, TeamMember, User, Workspace  # noqa: F401
from webapp.models.usage import ResourceServer, UsageFold, UsageHourly  # noqa: F401
