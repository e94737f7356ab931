"""How a browser's accessibility tree sees an element, roughly: its role, its accessible name and
description, and the text a person reads in it (hidden parts left out)."""
from __future__ import annotations

import re

from bs4 import Tag

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


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def is_hidden(element: Tag) -> bool:
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
            if is_hidden(child):
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


def root_of(element: Tag) -> Tag:
    while element.parent is not None:
        element = element.parent
    return element


def accessible_name(element: Tag) -> str:
    root = root_of(element)
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
        if any(p is control or is_hidden(p) for p in child.parents if isinstance(p, Tag)):
            continue
        parts.append(str(child))
    return squash("".join(parts))


def description(element: Tag) -> str:
    """An element's accessible description: the text of what aria-describedby points to."""
    root = root_of(element)
    refs = element.get("aria-describedby", "").split()
    return squash(" ".join(text_of(root.find(id=ref)) for ref in refs))


def heading_level(element: Tag) -> int | None:
    if element.name in _HEADINGS:
        return int(element.name[1])
    level = element.get("aria-level")
    return int(level) if level else None
