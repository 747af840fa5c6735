"""The home page's menu per role; each feature module adds its own entries when it is imported."""

from __future__ import annotations

_MENU: dict[str, list[tuple[str, str]]] = {}


def add(path: str, label: str, *roles: str) -> None:
    """``label`` is Indonesian (translated on the page)."""
    for role in roles:
        entries = _MENU.setdefault(str(role), [])
        if (path, label) not in entries:
            entries.append((path, label))


def for_role(role: str) -> list[tuple[str, str]]:
    return list(_MENU.get(role, []))
