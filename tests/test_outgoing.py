"""Outgoing HTTP: one address guard, and one client that connects only where the guard allowed,
never follows redirects, stops reading at its size cap and gives up at its deadline."""
from __future__ import annotations

import time

import httpx
import pytest

from testsupport.ports import free_port
from tests.http_server import local_server  # noqa: F401  (fixture)
from webapp.services import outgoing
from webapp.services.outgoing import DestinationRefused, check_destination, fetch

FAST = httpx.Timeout(connect=1.0, read=0.5, write=1.0, pool=1.0)


@pytest.mark.parametrize("url, why", [
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://100.100.100.200/latest/", "metadata"),
    ("http://169.254.10.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "metadata"),
    ("http://[64:ff9b::a9fe:a9fe]/", "metadata"),
    ("http://0.0.0.0:8000/", "not a unicast"),
    ("http://224.0.0.1/", "not a unicast"),
    ("ftp://example.com/health", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("http://user:secret@127.0.0.1/", "user name or password"),
    ("http:///health", "no host"),
    ("http://127.0.0.1:99999/", "not a valid URL"),
])
def test_some_destinations_are_refused_even_where_private_ones_are_allowed(url, why):
    with pytest.raises(DestinationRefused, match=why):
        check_destination(url, allow_private=True)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5000/health", "http://localhost/health", "http://10.1.2.3/",
    "http://192.168.1.20/", "http://172.16.0.9/", "http://[::1]/", "http://[fd12:3456::1]/",
    "http://100.64.1.1/",
])
def test_private_and_loopback_destinations_need_permission(url):
    with pytest.raises(DestinationRefused, match="not allowed here"):
        check_destination(url, allow_private=False)
    assert check_destination(url, allow_private=True).address


def test_public_addresses_pass_and_the_checked_address_is_the_one_returned():
    destination = check_destination("https://93.184.215.14:8443/health", allow_private=False)
    assert (destination.scheme, destination.address, destination.port) == (
        "https", "93.184.215.14", 8443)
    assert check_destination("http://[2606:4700::1111]/", allow_private=False).port == 80


def test_fetch_connects_to_the_checked_address_and_keeps_the_host_name(local_server):
    result = fetch(local_server.url("/ok", host="localhost"), allow_private=True)
    assert (result.status_code, result.ok, result.body) == (200, True, b"ok")
    assert local_server.seen == [("/ok", f"localhost:{local_server.port}")]
    assert result.headers["content-type"] == "text/plain"


def test_a_refused_destination_is_never_contacted(local_server):
    with pytest.raises(DestinationRefused):
        fetch(local_server.url("/ok"), allow_private=False)
    assert local_server.seen == []


def test_redirects_are_answers_not_followed(local_server):
    result = fetch(local_server.url("/redirect"), allow_private=True)
    assert (result.status_code, result.ok, result.headers["location"]) == (302, False, "/ok")
    assert [path for path, _ in local_server.seen] == ["/redirect"]


def test_a_huge_answer_is_read_only_up_to_the_cap(local_server):
    result = fetch(local_server.url("/huge"), allow_private=True, max_bytes=10_000)
    assert result.status_code == 200
    assert (len(result.body), result.truncated) == (10_000, True)


def test_a_slow_answer_times_out(local_server):
    local_server.delay = 3
    with pytest.raises(outgoing.TimedOut, match="timed out"):
        fetch(local_server.url("/slow"), allow_private=True, client=outgoing.make_client(
            timeout=FAST))


def test_an_answer_trickling_in_is_cut_off_at_the_deadline(local_server):
    # Each byte comes well within the read timeout; the whole answer would take 45 seconds.
    started = time.monotonic()
    with pytest.raises(outgoing.TimedOut):
        fetch(local_server.url("/drip"), allow_private=True, deadline=1.0)
    assert time.monotonic() - started < 10


def test_a_closed_port_is_connection_refused():
    port = free_port()
    with pytest.raises(outgoing.ConnectionRefused, match="connection refused"):
        fetch(f"http://127.0.0.1:{port}/", allow_private=True)


def test_the_client_sends_json_and_its_user_agent(local_server):
    with outgoing.make_client() as client:
        result = fetch(local_server.url("/ok"), allow_private=True, client=client,
                       headers={"X-Extra": "1"})
        assert result.ok
    request = client.build_request("GET", "http://127.0.0.1/")
    assert request.headers["User-Agent"] == outgoing.USER_AGENT
    assert client.follow_redirects is False and client.trust_env is False


@pytest.mark.parametrize("url", ["http://127.0.0.1/he\nalth", "http://127.0.0.1/he\talth",
                                 "http://127.0.0.1/\x7f"])
def test_a_url_with_control_characters_is_a_refused_destination(url):
    with pytest.raises(DestinationRefused, match="not a valid URL"):
        check_destination(url, allow_private=True)
