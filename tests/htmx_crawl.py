"""What htmx would send from a page, worked out from its HTML: each element with hx-get, hx-post or
hx-delete, the element it targets, how it swaps, and the values it sends; and the page after a swap.

Only the attributes the console's templates use are understood (hx-target "#id", "closest SEL",
"find SEL" or "this", hx-include "closest form"); anything else fails loudly, so that a template
using more of htmx teaches this module about it rather than being skipped.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from bs4 import BeautifulSoup, Tag
from flask import template_rendered
from jinja2_fragments.flask import template_block_rendered

from tests.html import parse

VERBS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class HtmxRequest:
    verb: str
    url: str
    target_id: str
    target_tag: str
    swap: str
    data: tuple[tuple[str, str], ...]
    trigger_id: str | None

    def headers(self, page_url: str) -> dict[str, str]:
        headers = {"HX-Request": "true", "HX-Target": self.target_id,
                   "HX-Current-URL": f"http://localhost{page_url}"}
        if self.trigger_id:
            headers["HX-Trigger"] = self.trigger_id
        return headers

    @property
    def full_url(self) -> str:
        """The URL a GET asks for (htmx puts a GET's values in the query string)."""
        if not self.data:
            return self.url
        return f"{self.url}{'&' if '?' in self.url else '?'}{urlencode(self.data)}"

    def __str__(self) -> str:
        return f"{self.verb.upper()} {self.full_url if self.verb == 'get' else self.url} -> #{self.target_id}"


def _inherited(element: Tag, name: str) -> str | None:
    for node in (element, *element.parents):
        if isinstance(node, Tag) and node.has_attr(name):
            return node[name]
    return None


def _target(element: Tag, document: BeautifulSoup) -> Tag | None:
    spec = _inherited(element, "hx-target")
    if spec is None or spec == "this":
        return element
    if spec.startswith("#"):
        return document.find(id=spec[1:])
    if spec.startswith("closest "):
        return element.css.closest(spec.removeprefix("closest "))
    if spec.startswith("find "):
        return element.select_one(spec.removeprefix("find "))
    raise AssertionError(f"hx-target={spec!r}: teach tests/htmx_crawl.py about it")


def form_values(form: Tag) -> list[tuple[str, str]]:
    """What the browser would submit, with the first submit button pressed (as Enter does)."""
    values: list[tuple[str, str]] = []
    for field in form.find_all(["input", "select", "textarea"]):
        name, kind = field.get("name"), field.get("type", "text")
        if not name or field.has_attr("disabled") or kind in ("button", "reset", "submit", "image"):
            continue
        if kind in ("checkbox", "radio"):
            if field.has_attr("checked"):
                values.append((name, field.get("value", "on")))
        elif field.name == "select":
            options = field.find_all("option")
            chosen = [o for o in options if o.has_attr("selected")]
            if not chosen and options and not field.has_attr("multiple"):
                chosen = options[:1]
            values.extend((name, o.get("value", o.get_text())) for o in chosen)
        elif field.name == "textarea":
            values.append((name, field.get_text()))
        else:
            values.append((name, field.get("value", "")))
    submit = form.find(lambda t: t.name == "button" and t.get("type", "submit") == "submit"
                       or t.name == "input" and t.get("type") == "submit")
    if submit is not None and submit.get("name"):
        values.append((submit["name"], submit.get("value", "")))
    return values


def _values(element: Tag, verb: str) -> list[tuple[str, str]]:
    include = element.get("hx-include")
    if include not in (None, "closest form"):
        raise AssertionError(f"hx-include={include!r}: teach tests/htmx_crawl.py about it")
    if element.name == "form":
        return form_values(element)
    form = element.find_parent("form")
    if form is not None and (include or verb != "get"):  # htmx sends a non-GET's enclosing form
        return form_values(form)
    if element.get("name"):
        return [(element["name"], element.get("value", ""))]
    return []


def htmx_requests(document: BeautifulSoup) -> tuple[list[HtmxRequest], list[str]]:
    """The requests the document's htmx elements make, and what is wrong with the others."""
    found, problems = [], []
    for element in document.find_all(lambda t: any(t.has_attr(f"hx-{v}") for v in VERBS)):
        verb = next(v for v in VERBS if element.has_attr(f"hx-{v}"))
        label = f"<{element.name} hx-{verb}={element[f'hx-{verb}']!r}>"
        target = _target(element, document)
        if target is None:
            problems.append(f"{label} targets an element the page does not have")
            continue
        if not target.get("id"):
            problems.append(f"{label} targets an element without id: the server cannot tell it")
            continue
        swap = (_inherited(element, "hx-swap") or "innerHTML").split()[0]
        found.append(HtmxRequest(
            verb=verb, url=element[f"hx-{verb}"], target_id=target["id"], target_tag=target.name,
            swap=swap,
            data=tuple(_values(element, verb)), trigger_id=element.get("id")))
    return found, problems


def links(document: BeautifulSoup) -> list[str]:
    """The console's own pages the document links to (no downloads, no static files)."""
    found = []
    for anchor in document.find_all("a", href=True):
        url = anchor["href"].split("#", 1)[0]
        parts = urlsplit(url)
        if (url.startswith("/") and not url.startswith("//") and not parts.path.endswith(".csv")
                and not parts.path.startswith("/static/")):
            found.append(url)
    return found


def swapped(document: BeautifulSoup, request: HtmxRequest, body: str) -> BeautifulSoup:
    """The page as htmx leaves it once the answer is swapped into the target."""
    after = copy.copy(document)
    target = after.find(id=request.target_id)
    nodes = [node.extract() for node in list(parse(body).contents)]
    if request.swap == "outerHTML":
        for node in nodes:
            target.insert_before(node)
        target.decompose()
    elif request.swap == "innerHTML":
        target.clear()
        target.extend(nodes)
    else:
        raise AssertionError(f"hx-swap={request.swap!r}: teach tests/htmx_crawl.py about it")
    return after


@contextmanager
def rendered(app):
    """The whole templates and the single blocks rendered while the block runs."""
    seen: dict[str, list] = {"pages": [], "blocks": []}

    def page(sender, template, context, **extra):
        seen["pages"].append(template.name)

    def block(sender, template_name, block_name, context, **extra):
        seen["blocks"].append((template_name, block_name))

    template_rendered.connect(page, app)
    template_block_rendered.connect(block, app)
    try:
        yield seen
    finally:
        template_rendered.disconnect(page, app)
        template_block_rendered.disconnect(block, app)
