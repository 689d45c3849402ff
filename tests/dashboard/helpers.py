"""Finding widgets in a page rendered with ``solara.render`` (no browser)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import ipywidgets


def walk(widget: Any) -> Iterator[ipywidgets.Widget]:
    """The widget and every widget below it (children, slots and widget-valued traits)."""
    seen: set[int] = set()
    stack = [widget]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(reversed(item))
            continue
        if isinstance(item, dict):
            stack.extend(item.values())
            continue
        if not isinstance(item, ipywidgets.Widget) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        for name in item.keys:
            if name.startswith("_"):
                continue
            value = getattr(item, name, None)
            if isinstance(value, ipywidgets.Widget | list | tuple | dict):
                stack.append(value)


def with_class(root: Any, name: str) -> list[ipywidgets.Widget]:
    """Widgets below ``root`` whose CSS classes include ``name``."""
    return [w for w in walk(root) if name in str(getattr(w, "class_", "") or "").split()]


def one_with_class(root: Any, name: str) -> ipywidgets.Widget:
    found = with_class(root, name)
    assert len(found) == 1, f"{len(found)} widgets with class {name!r}"
    return found[0]


def of_type(root: Any, cls: type) -> list[Any]:
    """Widgets below ``root`` of a class."""
    return [w for w in walk(root) if isinstance(w, cls)]


def texts(root: Any) -> str:
    """All text shown below ``root`` (string children), joined by newlines."""
    out = []
    for w in walk(root):
        for child in getattr(w, "children", []) or []:
            if isinstance(child, str):
                out.append(child)
        for trait in ("value", "label"):
            value = getattr(w, trait, None)
            if isinstance(value, str) and value:
                out.append(value)
        markup = getattr(w, "unsafe_innerHTML", None)
        if isinstance(markup, str):
            out.append(html.unescape(markup))
    return "\n".join(out)
