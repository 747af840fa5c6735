"""The snapshot's JSON turned back into figures and rows for pages, CSV and Excel (one place, so a
table and its download always agree)."""

from __future__ import annotations

from typing import Any

from marketplace import regions
from marketplace.disclosure import Figure
from marketplace.vocabulary import KIND_LABELS
from storage.impact.figures import fig_from

MONTHS_ID = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STAGES = (
    ("verified", "Kebutuhan terverifikasi", "Verified needs"),
    ("government", "Sudah ditanggung bansos pemerintah", "Covered by government aid"),
    ("matched", "Dicocokkan dengan LKS", "Matched with an LKS"),
    ("approved", "Disetujui Dinas Sosial", "Approved by Dinsos"),
    ("delivered", "Disalurkan", "Delivered"),
    ("confirmed", "Dikonfirmasi", "Confirmed"),
)


def month_label(period: str, lang: str) -> str:
    names = MONTHS_ID if lang == "id" else MONTHS_EN
    return f"{names[int(period[5:7]) - 1]} {period[2:4]}"


def kind_label(kind: str, lang: str) -> str:
    return KIND_LABELS.get(kind, (kind, kind))[0 if lang == "id" else 1]


def by_month(fig: dict[str, Any], lang: str) -> list[tuple[str, str, Figure]]:
    t = fig["lks_month"]
    return [(p, month_label(p, lang), fig_from(t["col_totals"].get(p))) for p in t["cols"]]


def by_kind(fig: dict[str, Any], lang: str) -> list[tuple[str, str, Figure]]:
    v = fig["by_kind"]
    return [(k, kind_label(k, lang), fig_from(v["cells"].get(k))) for k in v["keys"]]


def by_kecamatan(fig: dict[str, Any]) -> list[tuple[str, str, Figure]]:
    v = fig["by_kecamatan"]
    return [(k, regions.name_of(k), fig_from(v["cells"].get(k))) for k in v["keys"]]


def funnel(fig: dict[str, Any], lang: str) -> list[tuple[str, str, Figure]]:
    stages = fig["funnel"].get("stages", {})
    return [(key, label_id if lang == "id" else label_en, fig_from(stages.get(key)))
            for key, label_id, label_en in STAGES if key in stages]


def total(fig: dict[str, Any]) -> Figure:
    return fig_from(fig["lks_month"]["total"])


TABLES = ("bulan", "jenis", "kecamatan", "tahapan")


def table_rows(fig: dict[str, Any], name: str, lang: str) -> tuple[list[str], list[list[Any]]]:
    """A public table as header + rows of text: hidden figures as "< 5" / "≥ 5", as on the page."""
    amount = "Nilai (Rp)" if lang == "id" else "Value (Rp)"
    count = "Penyaluran" if lang == "id" else "Deliveries"
    rows: list[list[Any]]
    if name == "tahapan":
        rows = [[label, f.label] for _key, label, f in funnel(fig, lang)]
        return (["Tahap" if lang == "id" else "Stage", "Jumlah kebutuhan" if lang == "id" else "Needs"], rows)
    source = {"bulan": by_month(fig, lang), "jenis": by_kind(fig, lang), "kecamatan": by_kecamatan(fig)}[name]
    head = {"bulan": "Periode" if lang == "id" else "Period", "jenis": "Jenis bantuan" if lang == "id" else "Kind",
            "kecamatan": "Kecamatan"}[name]
    rows = [[label, f.label, "" if f.amount is None and f.hidden else f.amount or 0] for _k, label, f in source]
    t = total(fig)
    rows.append(["Jumlah" if lang == "id" else "Total", t.label, t.amount if t.amount is not None else ""])
    return [head, count, amount], rows
