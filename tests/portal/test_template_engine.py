"""The page template engine's two shortcuts give exactly what plain Jinja gives (``portal/app.py``,
``portal/i18n.py``): dict rows read as items first, and a per-language ``_`` that needs no context."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, StrictUndefined, UndefinedError

from portal.app import PageEnvironment
from portal.i18n import translate, translator

ROW_TEMPLATE = ("{{ r.a }}|{{ r.missing }}|{{ r.missing is defined }}|{{ r.items is callable }}|{{ r.get('a') }}"
                "|{{ r['items'] }}|{{ o.a }}|{{ o.upper() }}|{% for k, v in r.items() %}{{ k }}={{ v }};{% endfor %}")


class Row(dict[str, Any]):
    """A dict subclass may define attributes of its own: it keeps Jinja's usual order."""

    @property
    def a(self) -> str:
        return "attribute"


def test_dict_rows_render_as_plain_jinja_renders_them() -> None:
    values = {"r": {"a": 1, "items": "an item named like a method", "get": "shadowing get"},
              "o": "text"}
    plain = Environment().from_string(ROW_TEMPLATE).render(**values)
    assert PageEnvironment().from_string(ROW_TEMPLATE).render(**values) == plain
    assert plain.startswith("1||False|True|1|an item named like a method|")
    sub = {"r": Row(a="item"), "o": "x"}
    assert PageEnvironment().from_string("{{ r.a }}").render(**sub) == "attribute"


def test_a_missing_key_is_the_environment_s_undefined() -> None:
    env = PageEnvironment(undefined=StrictUndefined)
    try:
        env.from_string("{{ r.nothing }}").render(r={"a": 1})
    except UndefinedError as exc:
        assert "nothing" in str(exc)
    else:
        raise AssertionError("StrictUndefined should have raised")


def test_translator_is_the_same_text_as_translate() -> None:
    text = "{n} keluarga"
    assert translator("id")(text, n=3) == "3 keluarga"
    assert translator("en")(text, n=3) == translate(text, "en").format(n=3)
    assert translator("en")("Keluarga dampingan") == translate("Keluarga dampingan", "en")
    assert translator("en") is translator("en")  # one function per language


def test_pages_in_a_loop_translate_with_the_page_language() -> None:
    env = PageEnvironment()
    env.globals["_"] = lambda *a, **k: "global _ must be shadowed"
    template = env.from_string("{% for s in rows %}{{ _(s) }};{% endfor %}")
    assert template.render(rows=["Keluarga dampingan"], _=translator("en")) == \
        translate("Keluarga dampingan", "en") + ";"
