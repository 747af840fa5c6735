"""Photo checks by content, and metadata stripping of the stored copy."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from storage.images import MAX_PHOTO_BYTES, PhotoError, clean_photo, sniff


def jpeg_with_gps(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "KameraUji"  # Make
    exif[0x0132] = "2026:11:23 10:00:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps[1] = "S"
    gps[2] = (6.0, 54.0, 59.0)
    gps[3] = "E"
    gps[4] = (107.0, 36.0, 35.0)
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"rahasia")
    return out.getvalue()


def png_bytes(mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (20, 10), (0, 100, 0, 128) if mode == "RGBA" else (0, 100, 0)).save(out, format="PNG")
    return out.getvalue()


def webp_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(out, format="WEBP")
    return out.getvalue()


def test_fixture_really_has_gps() -> None:
    with Image.open(io.BytesIO(jpeg_with_gps())) as image:
        assert image.getexif().get_ifd(0x8825)[2]


def test_stored_copy_has_no_exif_gps_or_comment() -> None:
    clean = clean_photo(jpeg_with_gps())
    assert clean.content_type == "image/jpeg"
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not image.getexif().get_ifd(0x8825)
        assert "exif" not in image.info and "comment" not in image.info and "icc_profile" not in image.info
    assert b"Exif" not in clean.data and b"KameraUji" not in clean.data and b"rahasia" not in clean.data


def test_orientation_is_applied() -> None:
    clean = clean_photo(jpeg_with_gps((64, 48), orientation=6))  # rotated 90° by the camera
    assert (clean.width, clean.height) == (48, 64)


@pytest.mark.parametrize("maker", [png_bytes, webp_bytes, lambda: png_bytes("P")])
def test_png_and_webp_accepted_and_reencoded(maker) -> None:
    clean = clean_photo(maker())
    assert clean.data.startswith(b"\xff\xd8\xff")


def test_large_photo_is_downscaled() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (5, 5, 5)).save(out, format="JPEG")
    clean = clean_photo(out.getvalue())
    assert max(clean.width, clean.height) == 2048


@pytest.mark.parametrize("data", [
    b"<!doctype html><html><script>alert(1)</script></html>",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
    b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    b"GIF89a" + b"\x00" * 30,
    b"%PDF-1.4 ...",
    b"",
])
def test_renamed_html_svg_and_other_files_refused(data: bytes) -> None:
    with pytest.raises(PhotoError):
        clean_photo(data, "foto.jpg")


def test_html_behind_jpeg_magic_refused() -> None:
    with pytest.raises(PhotoError, match="rusak"):
        clean_photo(b"\xff\xd8\xff<html><script>alert(1)</script></html>")


def test_truncated_image_refused() -> None:
    data = jpeg_with_gps((400, 300))
    with pytest.raises(PhotoError, match="rusak"):
        clean_photo(data[: len(data) // 2])
    png = png_bytes("RGB")
    with pytest.raises(PhotoError):
        clean_photo(png[:-20])


def test_oversized_file_refused() -> None:
    data = jpeg_with_gps() + b"\x00" * MAX_PHOTO_BYTES
    with pytest.raises(PhotoError, match="10 MB"):
        clean_photo(data)


def test_sniff() -> None:
    assert sniff(jpeg_with_gps()) == "JPEG"
    assert sniff(png_bytes()) == "PNG"
    assert sniff(webp_bytes()) == "WEBP"
    assert sniff(b"<svg") is None
