"""What the tests of the app-facing API share: a real access token, issued as the server does."""
from __future__ import annotations

import secrets

from webapp.database import utcnow
from webapp.models import Token
from webapp.services import lifecycle
from webapp.services.oauth.tokens import hash_secret


def issue_token(session, workspace, app, user, expires_in=3600) -> str:
    """A real grant through the lifecycle, and an access token stored hashed as the server does."""
    grant = lifecycle.consent(session, workspace, app, user, app.all_scopes)
    raw = secrets.token_urlsafe(32)
    session.add(Token(grant_id=grant.id, app_id=app.id, workspace_id=workspace.id, user_id=user.id,
                      access_token_hash=hash_secret(raw), scope=" ".join(grant.scopes),
                      issued_at=utcnow(), expires_in=expires_in))
    session.commit()
    return raw
