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

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_INPUT_ROLES = {"button": "button", "submit": "button", "reset": "button", "image": "button",
                "checkbox": "checkbox", "radio": "radio", "search": "searchbox", "range": "slider",
                "number": "spinbutton"}
_TAG_ROLES = {"button": "button", "nav": "navigation", "main": "main", "table": "table",
              "tr": "row", "td": "cell", "ul": "list", "ol": "list", "li": "listitem",
              "select": "combobox", "option": "option", "textarea": "textbox", "dialog": "dialog",
              "fieldset": "group", "form": "form", "img": "img", "article": "article",
              "aside": "complementary", "dl": "list", "dt": "term", "dd": "definition",
              "header": "banner", "footer": "contentinfo", "thead": "rowgroup",
              "tbody": "rowgroup", "progress": "progressbar", "output": "status"}
# Roles whose name comes from their content when nothing else names them.
_NAME_FROM_CONTENT = {"button", "link", "heading", "cell", "columnheader", "rowheader", "option",
                      "tab", "listitem", "menuitem", "checkbox", "radio", "switch", "row", "term",
                      "definition", "status", "alert", "tooltip"}


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


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _hidden(element: Tag) -> bool:
    # A closed <dialog> or popover is not shown until something opens it: look inside it with
    # dialog() or popup().
    return (element.name in ("script", "style", "template", "head", "title")
            or element.has_attr("hidden") or element.get("aria-hidden") == "true"
            or (element.name == "input" and element.get("type") == "hidden")
            or (element.name == "dialog" and not element.has_attr("open"))
            or element.has_attr("popover"))


def text_of(element: Tag | None) -> str:
    """The text a person reads (or hears) in an element, whitespace squashed; hidden parts left out."""
    if element is None:
        return ""
    return squash(_text(element))


def _text(element: Tag, naming: bool = False) -> str:
    parts = []
    for child in element.children:
        if isinstance(child, Tag):
            if _hidden(child):
                continue
            if naming and child.get("aria-label"):
                parts.append(" " + child["aria-label"] + " ")
            elif child.name == "img":
                parts.append(child.get("alt", ""))
            elif child.name in ("input", "select", "textarea") and naming:
                parts.append(" " + _value_of(child) + " ")
            else:
                block = child.name in ("p", "div", "li", "tr", "td", "th", "br", "dt", "dd", "h1",
                                       "h2", "h3", "h4", "h5", "h6", "section", "ul", "ol", "table")
                inner = _text(child, naming)
                parts.append(f" {inner} " if block else inner)
        elif type(child).__name__ in ("NavigableString", "CData"):
            parts.append(str(child))
    return "".join(parts)


def _value_of(control: Tag) -> str:
    if control.name == "select":
        chosen = control.find("option", selected=True) or control.find("option")
        return text_of(chosen) if chosen else ""
    if control.name == "textarea":
        return control.get_text()
    return control.get("value", "")


def role_of(element: Tag) -> str | None:
    explicit = element.get("role")
    if explicit:
        return explicit.split()[0]
    name = element.name
    if name in _HEADINGS:
        return "heading"
    if name == "a":
        return "link" if element.has_attr("href") else None
    if name == "input":
        kind = element.get("type", "text").lower()
        if kind == "hidden":
            return None
        return _INPUT_ROLES.get(kind, "textbox")
    if name == "th":
        return "rowheader" if element.get("scope") == "row" else "columnheader"
    if name == "section":
        return "region" if element.get("aria-label") or element.get("aria-labelledby") else None
    if name == "select" and (element.has_attr("multiple") or int(element.get("size", 1) or 1) > 1):
        return "listbox"
    return _TAG_ROLES.get(name)


def _root(element: Tag) -> Tag:
    while element.parent is not None:
        element = element.parent
    return element


def accessible_name(element: Tag) -> str:
    root = _root(element)
    labelledby = element.get("aria-labelledby")
    if labelledby:
        named = [root.find(id=ref) for ref in labelledby.split()]
        return squash(" ".join(squash(_text(n, naming=True)) for n in named if n is not None))
    if element.get("aria-label"):
        return squash(element["aria-label"])
    name = element.name
    if name in ("input", "select", "textarea"):
        if name == "input" and element.get("type") in ("submit", "button", "reset"):
            return squash(element.get("value", ""))
        if name == "input" and element.get("type") == "image":
            return squash(element.get("alt", ""))
        labels = []
        if element.get("id"):
            labels = root.find_all("label", attrs={"for": element["id"]})
        wrapping = element.find_parent("label")
        if wrapping is not None and wrapping not in labels:
            labels.append(wrapping)
        if labels:
            return squash(" ".join(_label_text(label, element) for label in labels))
    elif name == "img":
        return squash(element.get("alt", ""))
    elif name == "fieldset":
        legend = element.find("legend")
        if legend is not None:
            return text_of(legend)
    elif name == "table":
        caption = element.find("caption")
        if caption is not None:
            return text_of(caption)
    if role_of(element) in _NAME_FROM_CONTENT:
        content = squash(_text(element, naming=True))
        if content:
            return content
    return squash(element.get("title", ""))


def _label_text(label: Tag, control: Tag) -> str:
    # The control's own value is not part of its label.
    parts = []
    for child in label.descendants:
        if isinstance(child, Tag) or child.parent is None:
            continue
        if any(p is control or _hidden(p) for p in child.parents if isinstance(p, Tag)):
            continue
        parts.append(str(child))
    return squash("".join(parts))


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
        if _hidden(node):
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
        if level is not None and _level(element) != level:
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


def _level(element: Tag) -> int | None:
    if element.name in _HEADINGS:
        return int(element.name[1])
    level = element.get("aria-level")
    return int(level) if level else None


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


def description(element: Tag) -> str:
    """An element's accessible description: the text of what aria-describedby points to."""
    root = _root(element)
    refs = element.get("aria-describedby", "").split()
    return squash(" ".join(text_of(root.find(id=ref)) for ref in refs))


def alerts(within) -> list[str]:
    """The texts of the alerts shown (error messages, mostly)."""
    return [text_of(e) for e in by_role(within, "alert")]


def popup(within, opener) -> Tag:
    """What the button named `opener` opens (its popover target or its dialog)."""
    root = parse(within)
    trigger = one(root, "button", opener)
    target = trigger.get("popovertarget") or trigger.get("aria-controls")
    found = _root(trigger).find(id=target) if target else None
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
