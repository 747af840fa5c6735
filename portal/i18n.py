"""Bahasa Indonesia first, English second. Templates and messages are written in Indonesian; the
English catalogue maps each Indonesian text to its translation: one JSON file per feature in
``portal/locales/``, merged, so features add their texts without touching each other's files."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

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


def missing_translations(texts: list[str]) -> list[str]:
    catalogue = _english()
    return [t for t in texts if t not in catalogue]
