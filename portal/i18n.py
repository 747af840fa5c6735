"""Bahasa Indonesia first, English second. Templates and messages are written in Indonesian; the
English catalogue (``locales/en.json``) maps each Indonesian text to its translation."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

LANGUAGES = ("id", "en")


@lru_cache(maxsize=1)
def _english() -> dict[str, str]:
    text = resources.files("portal").joinpath("locales/en.json").read_text("utf-8")
    return dict(json.loads(text))


def translate(text: str, language: str) -> str:
    if language == "en":
        return _english().get(text, text)
    return text


def missing_translations(texts: list[str]) -> list[str]:
    catalogue = _english()
    return [t for t in texts if t not in catalogue]
