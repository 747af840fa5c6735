"""The home page's menu per role; each feature module adds its own entries when it is imported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar import Litestar

    from storage.accounts import CurrentUser

_MENU: dict[str, list[tuple[str, str]]] = {}


def add(path: str, label: str, *roles: str) -> None:
    """``label`` is Indonesian (translated on the page)."""
    for role in roles:
        entries = _MENU.setdefault(str(role), [])
        if (path, label) not in entries:
            entries.append((path, label))


def for_role(role: str) -> list[tuple[str, str]]:
    return list(_MENU.get(role, []))


_RIGHTS: dict[str, dict[str, Any]] = {}


def for_user(app: Litestar, user: CurrentUser) -> list[tuple[str, str]]:
    """The role's entries without those the person may not open (an LKS staff member's rights)."""
    from portal.auth import may

    if not _RIGHTS:
        for route in app.routes:
            for handler in getattr(route, "route_handlers", []):
                if "GET" in getattr(handler, "http_methods", ()):
                    _RIGHTS.setdefault(route.path, handler.opt)
    return [(path, label) for path, label in for_role(user.role) if may(user, _RIGHTS.get(path, {}))]
