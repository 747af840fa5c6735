"""Every Indonesian text of the marketplace pages has its English translation."""

from __future__ import annotations

import re
from pathlib import Path

from portal.i18n import missing_translations
from portal.web import menu
from tests.dbutil import make_lks

TEMPLATES = Path(__file__).parents[2] / "portal" / "templates"


def _texts() -> list[str]:
    found: list[str] = []
    for folder in ("lks", "offers", "donations"):
        for path in sorted((TEMPLATES / folder).glob("*.html")):
            text = path.read_text("utf-8")
            found += re.findall(r'_\("((?:[^"\\]|\\.)*)"', text)
            found += re.findall(r'"[a-z_]+": "([^"]+)"', text)
    return found


def test_every_marketplace_text_has_an_english_translation():
    import portal.web.donations
    import portal.web.lks
    import portal.web.offers  # noqa: F401  (their menu entries)

    ours = {"/admin/lks", "/lks-saya/penawaran", "/lks-saya/donasi", "/lks-saya/buku-kas", "/lks-saya/kampanye",
            "/admin/donasi/transfer", "/donasi-saya"}
    labels = [label for role in ("dinsos_admin", "lks_staff", "donor") for path, label in menu.for_role(role)
              if path in ours]
    assert len(set(labels)) == len(ours)
    assert missing_translations(_texts() + labels) == []


async def test_a_page_in_english(client):
    lks_id = await make_lks("Yayasan Peduli")
    client.cookies.set("lang", "en")
    page = await client.get(f"/lks/{lks_id}")
    assert "Online payment is not available yet" in page.text
    assert "Pembayaran daring" not in page.text
