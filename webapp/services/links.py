"""Absolute links to the console, for emails, in-app notifications and the OAuth metadata.

Built from PUBLIC_URL rather than from a request: digests are written by the scheduler, outside
any request. Every path here is checked against the route it points to (tests/test_links.py),
so moving a blueprint fails a test instead of breaking the links in people's inboxes.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class ConsoleLinks:
    public_url: str

    def _absolute(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def connected_apps(self) -> str:
        return self._absolute("/settings/connected-apps/")

    def app_page(self, slug: str) -> str:
        return self._absolute(f"/settings/connected-apps/apps/{quote(slug, safe='')}")

    def manage_rule(self, rule_id: int) -> str:
        return self._absolute(f"/settings/connected-apps/notifications/{int(rule_id)}/manage")

    def notification_center(self) -> str:
        return self._absolute("/notifications")

    def oauth_authorize(self) -> str:
        return self._absolute("/oauth/authorize")

    def oauth_token(self) -> str:
        return self._absolute("/oauth/token")

    def oauth_revoke(self) -> str:
        return self._absolute("/oauth/revoke")

    def oauth_introspect(self) -> str:
        return self._absolute("/oauth/introspect")

    def path_of(self, url: str) -> str:
        """A link of this console as a path (in-app links work behind any host name)."""
        base = self.public_url.rstrip("/")
        return url[len(base):] if url.startswith(base + "/") else url
