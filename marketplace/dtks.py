"""DTKS and DTSEN export layouts and row validation (pure: no database, no files).

One row per household member, the household columns repeated on each row. The header names differ
between an older DTKS export and a DTSEN export; both are mapped through ``HEADER_ALIASES`` to one set
of canonical fields, and the layout is detected from the header (``detect_layout``). Value codes
differ too (DTSEN codes sex as 1/2 and the relation to the head as BPS numbers; region codes come
without dots); the parsers accept both. The layout is documented in ``docs/dtks-import.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from marketplace import regions
from marketplace.identity import IdentityError, check_kk, check_nik

# canonical field -> (DTKS header, DTSEN header, other accepted spellings)
FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "kk": ("NO_KK", "nomor_kk", ("no kk", "nokk", "kk")),
    "nik": ("NIK", "nik", ("nik_art", "no_nik")),
    "name": ("NAMA", "nama_lengkap", ("nama_art", "nama anggota")),
    "birth_date": ("TGL_LAHIR", "tanggal_lahir", ("tgl lahir",)),
    "sex": ("JENIS_KELAMIN", "jenis_kelamin", ("jk", "kelamin")),
    "relation": ("HUB_KELUARGA", "status_hubungan_keluarga", ("hubungan", "hub_krt", "shdk")),
    "disability": ("DISABILITAS", "jenis_disabilitas", ("disabilitas_art",)),
    "address": ("ALAMAT", "alamat_domisili", ("alamat_lengkap",)),
    "rt": ("RT", "rt", ("no_rt",)),
    "rw": ("RW", "rw", ("no_rw",)),
    "kelurahan": ("KODE_KELURAHAN", "kode_desa_kelurahan", ("kode_kelurahan_desa", "kd_kel", "kode_desa")),
    "desil": ("DESIL", "peringkat_desil", ("desil_nasional", "desil_kesejahteraan")),
    "extreme_poor": ("MISKIN_EKSTREM", "status_p3ke", ("p3ke", "kemiskinan_ekstrem")),
}
REQUIRED = ("kk", "nik", "name", "birth_date", "sex", "relation", "kelurahan", "desil")
LAYOUTS = ("dtks", "dtsen")
TEMPLATE_HEADER: list[str] = [v[0] for v in FIELDS.values()]
DTSEN_HEADER: list[str] = [v[1] for v in FIELDS.values()]


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


HEADER_ALIASES: dict[str, str] = {}
for _field, (_dtks, _dtsen, _others) in FIELDS.items():
    for _alias in (_dtks, _dtsen, *_others):
        HEADER_ALIASES[_norm(_alias)] = _field
_DTSEN_ONLY = {_norm(v[1]) for v in FIELDS.values()} - {_norm(v[0]) for v in FIELDS.values()}


class LayoutError(ValueError):
    """The header names no known layout; the message is Indonesian."""


@dataclass(frozen=True, slots=True)
class Layout:
    name: str  # dtks | dtsen
    columns: dict[str, int]  # canonical field -> column index


def detect_layout(header: Sequence[object]) -> Layout:
    """Map the header through the alias table; DTSEN if any DTSEN-only name appears."""
    columns: dict[str, int] = {}
    dtsen = False
    for index, raw in enumerate(header):
        key = _norm(str(raw or ""))
        canonical = HEADER_ALIASES.get(key)
        if canonical and canonical not in columns:
            columns[canonical] = index
            dtsen = dtsen or key in _DTSEN_ONLY
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        names = ", ".join(FIELDS[f][0] for f in missing)
        raise LayoutError(f"Kolom wajib tidak ditemukan di baris judul: {names}")
    return Layout("dtsen" if dtsen else "dtks", columns)


@dataclass(frozen=True, slots=True)
class MemberRow:
    row: int
    nik: str
    name: str
    birth_date: date
    sex: str
    relation: str
    disability: str


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    kk: str
    kelurahan_code: str
    address: str
    rt: str
    rw: str
    desil: int
    extreme_poor: bool


@dataclass(slots=True)
class ParsedHousehold:
    household: HouseholdRow
    first_row: int
    members: list[MemberRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rejection:
    row: int
    reason: str


class RowError(ValueError):
    pass


_RELATIONS = {
    "1": "kepala", "kepala": "kepala", "kepala keluarga": "kepala", "krt": "kepala",
    "2": "pasangan", "istri": "istri", "suami": "suami", "istri/suami": "pasangan", "pasangan": "pasangan",
    "3": "anak", "anak": "anak", "4": "lainnya", "menantu": "lainnya", "5": "lainnya", "cucu": "lainnya",
    "6": "orang_tua", "orang tua": "orang_tua", "orang_tua": "orang_tua", "mertua": "orang_tua",
    "orang tua/mertua": "orang_tua", "7": "lainnya", "8": "lainnya", "9": "lainnya", "lainnya": "lainnya",
    "famili lain": "lainnya", "pembantu": "lainnya",
}
_SEX = {"l": "L", "laki-laki": "L", "laki laki": "L", "1": "L", "p": "P", "perempuan": "P", "2": "P"}
_TRUE = {"1", "ya", "y", "true", "benar", "p3ke", "miskin ekstrem"}
_FALSE = {"", "0", "tidak", "t", "n", "false", "bukan"}
_DISABILITY_NONE = {"", "-", "0", "tidak", "tidak ada", "none"}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _digits(value: object) -> str:
    text = _text(value).lstrip("'")
    return text


def parse_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RowError(f"Tanggal lahir tidak dikenali: {text!r} (pakai YYYY-MM-DD atau DD-MM-YYYY)")


def parse_kelurahan(value: object) -> str:
    text = _text(value)
    digits = text.replace(".", "")
    if len(digits) == 10 and digits.isdigit():
        text = f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:]}"
    if not regions.is_kelurahan(text):
        raise RowError(f"Kode kelurahan tidak dikenal di Kota Bandung: {text!r}")
    return text


def parse_desil(value: object) -> int:
    text = _text(value)
    try:
        desil = int(text)
    except ValueError:
        raise RowError(f"Desil harus angka 1 sampai 10, bukan {text!r}") from None
    if not 1 <= desil <= 10:
        raise RowError(f"Desil harus antara 1 dan 10, bukan {desil}")
    return desil


def parse_flag(value: object) -> bool:
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(f"Status miskin ekstrem tidak dikenali: {text!r} (pakai Ya/Tidak)")


def parse_sex(value: object) -> str:
    sex = _SEX.get(_text(value).lower())
    if sex is None:
        raise RowError(f"Jenis kelamin tidak dikenali: {_text(value)!r} (pakai L/P)")
    return sex


def parse_relation(value: object) -> str:
    relation = _RELATIONS.get(_text(value).lower())
    if relation is None:
        raise RowError(f"Hubungan dengan kepala keluarga tidak dikenali: {_text(value)!r}")
    return relation


def _cell(values: Sequence[object], layout: Layout, name: str) -> object:
    index = layout.columns.get(name)
    return values[index] if index is not None and index < len(values) else None


def parse_household(values: Sequence[object], layout: Layout) -> HouseholdRow:
    try:
        kk = check_kk(_digits(_cell(values, layout, "kk")))
    except IdentityError as exc:
        raise RowError(str(exc)) from None
    rt = _text(_cell(values, layout, "rt"))[:3]
    rw = _text(_cell(values, layout, "rw"))[:3]
    return HouseholdRow(
        kk=kk,
        kelurahan_code=parse_kelurahan(_cell(values, layout, "kelurahan")),
        address=_text(_cell(values, layout, "address")),
        rt=rt.zfill(3) if rt.isdigit() else rt,
        rw=rw.zfill(3) if rw.isdigit() else rw,
        desil=parse_desil(_cell(values, layout, "desil")),
        extreme_poor=parse_flag(_cell(values, layout, "extreme_poor")),
    )


def parse_member(values: Sequence[object], layout: Layout, row: int) -> MemberRow:
    name = _text(_cell(values, layout, "name"))
    if not name:
        raise RowError("Nama anggota keluarga wajib diisi")
    birth = parse_date(_cell(values, layout, "birth_date"))
    sex = parse_sex(_cell(values, layout, "sex"))
    try:
        nik = check_nik(_digits(_cell(values, layout, "nik")), birth, sex)
    except IdentityError as exc:
        raise RowError(str(exc)) from None
    disability = _text(_cell(values, layout, "disability"))
    return MemberRow(row, nik, name[:120], birth, sex, parse_relation(_cell(values, layout, "relation")),
                     "" if disability.lower() in _DISABILITY_NONE else disability[:40])


class FileValidator:
    """Validates rows one by one, remembering NIKs and households already seen in this file.

    ``feed`` returns nothing; ``households`` and ``rejections`` hold the outcome. Checks against the
    database (a NIK already registered in another KK) are done by the storage layer in bulk.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.households: dict[str, ParsedHousehold] = {}
        self.rejections: list[Rejection] = []
        self._nik_kk: dict[str, str] = {}
        self.rows = 0

    def feed(self, row: int, values: Sequence[object]) -> None:
        self.rows += 1
        try:
            household = parse_household(values, self.layout)
            member = parse_member(values, self.layout, row)
        except RowError as exc:
            self.rejections.append(Rejection(row, str(exc)))
            return
        seen_kk = self._nik_kk.get(member.nik)
        if seen_kk is not None:
            where = "KK yang sama" if seen_kk == household.kk else "KK lain"
            self.rejections.append(Rejection(row, f"NIK ganda: sudah ada di baris sebelumnya ({where})"))
            return
        parsed = self.households.get(household.kk)
        if parsed is None:
            parsed = self.households[household.kk] = ParsedHousehold(household, row)
        elif parsed.household != household:
            self.rejections.append(Rejection(
                row, f"Data keluarga (alamat, kelurahan, desil, miskin ekstrem) berbeda dengan baris {parsed.first_row}"
            ))
            return
        self._nik_kk[member.nik] = household.kk
        parsed.members.append(member)

    def take(self) -> list[ParsedHousehold]:
        """The households complete so far (call at the end, or for a sorted file when the KK changes)."""
        done = list(self.households.values())
        self.households = {}
        return done


def validate_rows(header: Sequence[object], rows: Iterable[Sequence[object]]) -> FileValidator:
    """Validate a whole file held in memory (tests, small files)."""
    validator = FileValidator(detect_layout(header))
    for number, values in enumerate(rows, start=2):
        if any(_text(v) for v in values):
            validator.feed(number, values)
    return validator


# Government aid import: programme code, No. KK, intervention kind, period, amount.
AID_FIELDS: dict[str, tuple[str, ...]] = {
    "program": ("KODE_PROGRAM", "program", "kode_program_bansos"),
    "kk": ("NO_KK", "nomor_kk", "kk"),
    "kind": ("JENIS_INTERVENSI", "jenis", "kind", "jenis_bantuan"),
    "period": ("PERIODE", "periode", "bulan"),
    "amount": ("NILAI", "nominal", "jumlah", "nilai_bantuan"),
}
AID_TEMPLATE_HEADER = [v[0] for v in AID_FIELDS.values()]
_PERIOD_RE = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class AidRow:
    row: int
    program: str
    kk: str
    kind: str
    period: str
    amount: int


def aid_columns(header: Sequence[object]) -> dict[str, int]:
    aliases = {_norm(a): f for f, names in AID_FIELDS.items() for a in names}
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        canonical = aliases.get(_norm(str(raw or "")))
        if canonical and canonical not in columns:
            columns[canonical] = index
    missing = [AID_FIELDS[f][0] for f in AID_FIELDS if f not in columns]
    if missing:
        raise LayoutError("Kolom wajib tidak ditemukan di baris judul: " + ", ".join(missing))
    return columns


def parse_aid(values: Sequence[object], columns: dict[str, int], row: int, kinds: Iterable[str]) -> AidRow:
    def cell(name: str) -> str:
        i = columns[name]
        return _text(values[i] if i < len(values) else None)

    try:
        kk = check_kk(cell("kk").lstrip("'"))
    except IdentityError as exc:
        raise RowError(str(exc)) from None
    kind = cell("kind").lower()
    if kind not in set(kinds):
        raise RowError(f"Jenis intervensi tidak dikenal: {kind!r}")
    period = cell("period")
    if not _PERIOD_RE.match(period):
        raise RowError(f"Periode harus berbentuk YYYY-MM, bukan {period!r}")
    try:
        amount = int(cell("amount").replace(".", "").replace(",", ""))
    except ValueError:
        raise RowError(f"Nilai bantuan harus angka rupiah, bukan {cell('amount')!r}") from None
    if amount <= 0:
        raise RowError("Nilai bantuan harus lebih dari 0")
    return AidRow(row, cell("program").upper(), kk, kind, period, amount)
