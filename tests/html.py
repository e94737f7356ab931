"""Reading a response the way a person with a screen reader does: by role and accessible name.

Tests find things here as the end-to-end flows do in a browser (a button named "Uninstall", the
options of the "App" filter, the rows of a table), so that they keep passing when markup that
nobody sees changes, and fail when something a person sees or hears changes. Names are computed
roughly as browsers do: aria-labelledby, aria-label, the label of a form control, alt text, then
the element's own text (visually hidden text included, hidden elements left out).
"""
from __future__ import annotations

import json
import re

from bs4 import BeautifulSoup, Tag

# Re-exported: tests import everything about reading pages from here.
from tests.accessibility import (accessible_name, description, heading_level, is_hidden,  # noqa: F401
                                 role_of, root_of, squash, text_of)


def parse(response_or_html) -> BeautifulSoup:
    """The parsed document of a test-client or requests response (or of an HTML string)."""
    if isinstance(response_or_html, (BeautifulSoup, Tag)):
        return response_or_html
    if isinstance(response_or_html, str):
        html = response_or_html
    elif hasattr(response_or_html, "get_data"):
        html = response_or_html.get_data(as_text=True)
    else:
        html = response_or_html.text
    return BeautifulSoup(html, "html.parser")


def is_full_page(response_or_html) -> bool:
    """A whole page (with <html>), as opposed to a fragment that htmx swaps into one."""
    return parse(response_or_html).find("html") is not None


def fragment_root(response_or_html) -> Tag:
    """The one element a fragment consists of (what htmx swaps in); fails if there are several."""
    top = [child for child in parse(response_or_html).children if isinstance(child, Tag)]
    assert len(top) == 1, f"a fragment is one element, found {[t.name for t in top]}"
    return top[0]


def _matches(actual: str, wanted) -> bool:
    if wanted is None:
        return True
    if isinstance(wanted, re.Pattern):
        return wanted.search(actual) is not None
    return actual == squash(wanted)


def _shown(element: Tag, root: Tag) -> bool:
    """Shown, as far as `root` goes (the search root itself may be a closed dialog)."""
    for node in [element, *element.parents]:
        if node is root or not isinstance(node, Tag):
            return True
        if is_hidden(node):
            return False
    return True


def by_role(within, role: str, name=None, include_hidden: bool = False, **attrs) -> list[Tag]:
    """Elements of `role` under `within` whose accessible name is `name` (exactly, after squashing
    whitespace, or matching a compiled pattern), and whose attributes equal `attrs`
    (`level=2` for headings, `selected=True` for options, `current="page"` for aria-current).
    Hidden elements (and the contents of closed dialogs) count only with include_hidden."""
    root = parse(within)
    level = attrs.pop("level", None)
    found = []
    for element in root.find_all(True):
        if role_of(element) != role or not (include_hidden or _shown(element, root)):
            continue
        if level is not None and heading_level(element) != level:
            continue
        if not all(_attr_matches(element, key, value) for key, value in attrs.items()):
            continue
        if _matches(accessible_name(element), name):
            found.append(element)
    return found


def _attr_matches(element: Tag, key: str, value) -> bool:
    if isinstance(value, bool):  # a state, as an HTML attribute or its ARIA twin
        return (element.has_attr(key) or element.get(f"aria-{key}") == "true") == value
    aria = element.get(f"aria-{key}")
    actual = aria if aria is not None else element.get(key)
    return actual == value


def one(within, role: str, name=None, include_hidden: bool = False, **attrs) -> Tag:
    """The one element of `role` named `name`; fails the test, listing what there is, otherwise."""
    found = by_role(within, role, name, include_hidden, **attrs)
    if len(found) != 1:
        seen = [accessible_name(e) for e in by_role(within, role, include_hidden=include_hidden)]
        raise AssertionError(f"expected one {role} named {name!r}, found {len(found)}; "
                             f"{role}s here: {seen}")
    return found[0]


def names(within, role: str, **attrs) -> list[str]:
    """The accessible names of every element of `role`, in document order."""
    return [accessible_name(e) for e in by_role(within, role, **attrs)]


def heading(within, name=None, level: int | None = None) -> Tag:
    return one(within, "heading", name, **({"level": level} if level else {}))


def link(within, name) -> Tag:
    return one(within, "link", name)


def button(within, name) -> Tag:
    return one(within, "button", name)


def dialog(within, name) -> Tag:
    """The dialog named `name`, open or not (what a person sees once it opens)."""
    return one(within, "dialog", name, include_hidden=True)


def alerts(within) -> list[str]:
    """The texts of the alerts shown (error messages, mostly)."""
    return [text_of(e) for e in by_role(within, "alert")]


def popup(within, opener) -> Tag:
    """What the button named `opener` opens (its popover target or its dialog)."""
    root = parse(within)
    trigger = one(root, "button", opener)
    target = trigger.get("popovertarget") or trigger.get("aria-controls")
    found = root_of(trigger).find(id=target) if target else None
    assert found is not None, f"the {opener!r} button opens nothing"
    return found


def region(within, name) -> Tag:
    """A landmark or section with that name: a region, dialog, group, form, navigation or table."""
    root = parse(within)
    for role in ("region", "dialog", "group", "navigation", "search", "form", "table", "list",
                 "tabpanel", "complementary", "alert", "status"):
        found = by_role(root, role, name)
        if found:
            return found[0]
    raise AssertionError(f"no region named {name!r}; regions here: {names(root, 'region')}")


def field(within, label) -> Tag:
    """The form control (input, select, textarea) whose label is `label`."""
    root = parse(within)
    found = [e for e in root.find_all(("input", "select", "textarea"))
             if role_of(e) is not None and _matches(accessible_name(e), label)]
    if len(found) != 1:
        seen = [accessible_name(e) for e in root.find_all(("input", "select", "textarea"))
                if role_of(e) is not None]
        raise AssertionError(f"expected one field labelled {label!r}, found {len(found)}; "
                             f"fields here: {seen}")
    return found[0]


def options(within, label) -> list[tuple[str, str, bool]]:
    """The options of the select labelled `label`: (value, text, selected) each."""
    select = field(within, label)
    return [(o.get("value", text_of(o)), text_of(o), o.has_attr("selected"))
            for o in select.find_all("option")]


def chosen(within, label) -> list[str]:
    """The texts of the options chosen in the select labelled `label`."""
    return [text for _, text, selected in options(within, label) if selected]


def table_rows(within, name=None) -> list[list[str]]:
    """The body rows of a table (the one named `name`, or the only one), as their cells' texts."""
    root = parse(within)
    table = one(root, "table", name) if name is not None or len(by_role(root, "table")) != 1 \
        else by_role(root, "table")[0]
    rows = []
    for row in table.find_all("tr"):
        if row.find_parent("thead") is not None or row.find_parent("table") is not table:
            continue
        cells = [c for c in row.find_all(("td", "th")) if c.find_parent("tr") is row]
        if cells and not all(c.name == "th" and c.get("scope") == "col" for c in cells):
            rows.append([text_of(c) for c in cells])
    return rows


def column_headers(within, name=None) -> list[str]:
    root = parse(within)
    table = one(root, "table", name) if name is not None else by_role(root, "table")[0]
    return [text_of(th) for th in table.find_all("th") if role_of(th) == "columnheader"]


def terms(within) -> dict[str, str]:
    """A description list as shown: each term's text and its description's text."""
    found = {}
    for term in parse(within).find_all("dt"):
        description = term.find_next_sibling("dd")
        found[text_of(term)] = text_of(description)
    return found


def htmx_headers(within) -> dict:
    """The headers htmx sends with every request from this page (set once on <body>)."""
    body = parse(within).find("body")
    return json.loads(body["hx-headers"]) if body is not None and body.has_attr("hx-headers") else {}
