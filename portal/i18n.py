"""Bahasa Indonesia first, English second. Templates and messages are written in Indonesian; the
English catalogue maps each Indonesian text to its translation: one JSON file per feature in
``portal/locales/``, merged, so features add their texts without touching each other's files."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("id", "en")


@lru_cache(maxsize=1)
def _english() -> dict[str, str]:
    merged: dict[str, str] = {}
    for entry in sorted(resources.files("portal").joinpath("locales").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            merged.update(json.loads(entry.read_text("utf-8")))
    return merged


def translate(text: str, language: str) -> str:
    if language == "en":
        return _english().get(text, text)
    return text


@lru_cache(maxsize=8)
def translator(language: str) -> Callable[..., str]:
    """The templates' ``_`` for one language, as a plain function: ``_("{n} keluarga", n=3)``.

    Pages put it in their context (``portal.web.common.page``), where it shadows the global ``_`` that
    reads the language from the template context. Jinja hands such a context-reading function a *copy*
    of the whole context on every call inside a loop (``Context.derived``), which made the translations
    of a 50-row list a quarter of its view; this one needs no context. Same text either way."""

    def gettext(text: str, **values: Any) -> str:
        result = translate(text, language)
        return result.format(**values) if values else result

    return gettext


def missing_translations(texts: list[str]) -> list[str]:
    catalogue = _english()
    return [t for t in texts if t not in catalogue]
