"""The console seen from the demo apps: an OAuth 2.0 client (RFC 8414 metadata, the code
exchange with PKCE, rotating refreshes, revocation, introspection) and the API the apps call
with their access tokens (reported alerts, external accounts).

A refresh token rotates on every use and presenting a spent one revokes the whole grant, so the
refreshes of one connection are serialised (one lock for the host's threads, and the token is
read again under it: another thread may have refreshed it meanwhile).
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import httpx

from webapp.demo_host.store import DemoAppsFile, token_record

TIMEOUT = httpx.Timeout(10.0)
# An access token this close to its expiry is refreshed before use.
EXPIRY_MARGIN = timedelta(seconds=30)
_refreshing = threading.Lock()


class ConsoleError(Exception):
    """The console refused or could not be reached; the message says why, for people."""


class NotConnected(ConsoleError):
    """The app holds no usable token for that workspace (never connected, or the grant ended)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Console:
    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(timeout=TIMEOUT, transport=transport)
        self._metadata: dict | None = None

    @property
    def metadata(self) -> dict:
        if self._metadata is None:
            url = f"{self.base_url}/.well-known/oauth-authorization-server"
            self._metadata = self._json(self._send("GET", url))
        return self._metadata

    def app_page(self, slug: str) -> str:
        """The installation's page (only an installed app has one)."""
        return f"{self.base_url}/settings/connected-apps/apps/{slug}"

    def listing(self, slug: str) -> str:
        """The app's marketplace listing, there whether or not it is installed."""
        return f"{self.base_url}/marketplace/{slug}"

    # --- OAuth ---------------------------------------------------------------------------------

    def exchange_code(self, credentials: dict, code: str, redirect_uri: str, verifier: str) -> dict:
        return self._post_form("token_endpoint", credentials, {
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier})

    def introspect(self, credentials: dict, token: str) -> dict:
        return self._post_form("introspection_endpoint", credentials, {
            "token": token, "token_type_hint": "access_token"})

    def revoke(self, credentials: dict, refresh_token: str) -> None:
        self._post_form("revocation_endpoint", credentials, {
            "token": refresh_token, "token_type_hint": "refresh_token"})

    def _post_form(self, endpoint: str, credentials: dict, data: dict) -> dict:
        response = self._send("POST", self.metadata[endpoint], data=data,
                              auth=(credentials["client_id"], credentials["client_secret"] or ""))
        return self._json(response)

    # --- the API, with a connection's access token ---------------------------------------------

    def call(self, store: DemoAppsFile, slug: str, workspace: str, method: str, path: str,
             json: dict | None = None) -> httpx.Response:
        """`method` `path` of /api/v1 as the app's installation in `workspace`: with the first of
        its connections that works, refreshing an expired access token first (and once more
        when the console answers 401)."""
        data = store.read()
        credentials = data["apps"].get(slug)
        keys = [key for key, record in data["connections"].get(slug, {}).items()
                if record["workspace"] == workspace]
        if credentials is None or not keys:
            raise NotConnected(f"{slug} is not connected to the workspace {workspace}.")
        for key in keys:
            try:
                record = self._fresh(store, credentials, slug, key, force=False)
                response = self._api(method, path, record["access_token"], json)
                if response.status_code == 401:
                    record = self._fresh(store, credentials, slug, key, force=True,
                                         spent=record["access_token"])
                    response = self._api(method, path, record["access_token"], json)
            except NotConnected:
                continue
            if response.status_code != 401:
                return response
        raise NotConnected(f"The console no longer accepts the tokens {slug} holds for "
                           f"{workspace}; connect it again from the console.")

    def _api(self, method: str, path: str, access_token: str, json: dict | None) -> httpx.Response:
        return self._send(method, f"{self.base_url}/api/v1{path}", json=json,
                          headers={"Authorization": f"Bearer {access_token}"})

    def _fresh(self, store: DemoAppsFile, credentials: dict, slug: str, key: str, force: bool,
               spent: str | None = None) -> dict:
        """The connection's record with a usable access token (refreshed if need be)."""
        with _refreshing:
            record = store.read()["connections"].get(slug, {}).get(key)
            if record is None or not record.get("refresh_token"):
                raise NotConnected(f"{slug} holds no token for {key}.")
            expired = datetime.fromisoformat(record["expires_at"]) <= _now() + EXPIRY_MARGIN
            if not expired and not (force and record["access_token"] == spent):
                return record
            response = self._send("POST", self.metadata["token_endpoint"], data={
                "grant_type": "refresh_token", "refresh_token": record["refresh_token"]},
                auth=(credentials["client_id"], credentials["client_secret"] or ""))
            fresh = None
            if response.status_code == 200:
                tokens = response.json()
                fresh = token_record(record["workspace"], record["user"], tokens["access_token"],
                                     tokens.get("refresh_token") or record["refresh_token"],
                                     tokens.get("expires_in", 0), tokens.get("scope", ""))
                fresh["connected_at"] = record["connected_at"]
            with store.update() as data:
                connections = data["connections"].setdefault(slug, {})
                if fresh is None:  # the grant ended: the tokens are worthless
                    connections.pop(key, None)
                else:
                    connections[key] = fresh
            if fresh is None:
                raise NotConnected(f"The console refused to refresh {slug}'s token.")
            return fresh

    # --- plumbing ------------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            return self.http.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise ConsoleError(f"The console at {self.base_url} did not answer ({error}).") from None

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200:
            raise ConsoleError(body.get("error_description") or body.get("detail")
                               or body.get("error") or f"HTTP {response.status_code}")
        return body


def problem_text(response: httpx.Response) -> str:
    """What an API refusal says (problem+json `detail`, or the OAuth-style description)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return (body.get("detail") or body.get("error_description") or body.get("title")
            or f"HTTP {response.status_code}")
