"""Bahasa Indonesia first, English second: every text a template or the menu shows has its English."""

import re
from pathlib import Path

import portal
from portal.app import create_app
from portal.i18n import missing_translations
from portal.web import menu

TEMPLATES = Path(portal.__file__).parent / "templates"


def test_every_template_text_has_an_english_translation():
    texts = set()
    for template in TEMPLATES.rglob("*.html"):
        texts |= set(re.findall(r'_\("([^"]+)"', template.read_text("utf-8")))
    assert len(texts) > 100
    assert missing_translations(sorted(texts)) == []


def test_every_menu_entry_has_an_english_translation():
    create_app()  # imports every feature, which adds its menu entries
    labels = {label for role in ("dinsos_admin", "pekerja_sosial", "operator_kelurahan", "lks_staff", "donor", "dpo")
              for _, label in menu.for_role(role)}
    assert labels
    assert missing_translations(sorted(labels)) == []
