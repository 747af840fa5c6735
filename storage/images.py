"""Delivery photos: checked by content, decoded and re-encoded, so only a clean copy is ever stored.

A photo is accepted only if its first bytes say JPEG, PNG or WebP *and* Pillow decodes the whole image
as that same format, at most ``MAX_PHOTO_BYTES``. The stored copy is a fresh JPEG: the orientation of
the camera applied to the pixels, then written without EXIF (GPS, camera, time), XMP, ICC or comments.
A renamed HTML or SVG file, a truncated image, an oversized file or a decompression bomb is refused.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
MAX_SIDE = 2048
"""The stored copy's longest side: plenty to see a delivery, small for a slow connection."""
JPEG_QUALITY = 85

ImageFile.LOAD_TRUNCATED_IMAGES = False


class PhotoError(ValueError):
    """A photo that cannot be accepted; the message is Indonesian, for the user."""


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    data: bytes
    content_type: str
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The image format the magic bytes announce (Pillow's name), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def clean_photo(data: bytes, name: str = "foto") -> CleanPhoto:
    """Check one uploaded photo and return its re-encoded copy, or raise ``PhotoError``."""
    if not data:
        raise PhotoError(f"{name}: berkas kosong")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(f"{name}: ukuran lebih dari {MAX_PHOTO_BYTES // (1024 * 1024)} MB")
    announced = sniff(data)
    if announced is None:
        raise PhotoError(f"{name}: bukan foto JPEG, PNG atau WebP")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[announced]) as probe:
                probe.verify()  # checks the container (chunk CRCs, the end marker) without decoding
            with Image.open(io.BytesIO(data), formats=[announced]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise PhotoError(f"{name}: resolusi foto terlalu besar")
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
                upright = ImageOps.exif_transpose(image)
                pixels = _flatten(upright)
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise PhotoError(f"{name}: foto rusak atau tidak lengkap") from exc
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # a new image from pixels only: nothing of the original's info (exif, xmp, icc, comment) is carried
    clean = Image.new("RGB", pixels.size)
    clean.paste(pixels)
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return CleanPhoto(out.getvalue(), "image/jpeg", clean.width, clean.height)


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")
