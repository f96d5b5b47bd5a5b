"""Hashes of media files: PDQ (images, with its eight dihedral variants), MD5 and SHA-256
(pure: the bytes come in, hashes go out, nothing is kept)."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 80_000_000
# PDQ's own advice: below this quality the hash of a (near-)flat image matches too much.
QUALITY_FLOOR = 50
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class HashError(ValueError):
    """The file cannot be hashed as given; the message says why."""


@dataclass(frozen=True)
class MediaHashes:
    """What Tanggap keeps of a media item: its hashes, never its bytes."""

    md5: str
    sha256: str
    pdq: str | None = None
    quality: int | None = None
    image: bool = False

    def line(self, name: str) -> str:
        """Return the ``tanggap hash`` line for this file."""
        pdq = self.pdq or "-"
        quality = "-" if self.quality is None else str(self.quality)
        return f"pdq={pdq} quality={quality} md5={self.md5} sha256={self.sha256} {name}"


def _hex(bits: np.ndarray) -> str:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def _opened(data: bytes) -> Image.Image | None:
    """Open an image after PIL's structural check; None when the bytes are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            # PIL only warns between MAX_IMAGE_PIXELS and twice that; refuse it before decoding.
            if probe.width * probe.height > MAX_PIXELS:
                raise HashError(
                    f"the image is {probe.width}x{probe.height} pixels, more than {MAX_PIXELS}"
                )
            probe.verify()
        return Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        return None
    except HashError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise HashError(f"corrupt or unreadable image: {exc}") from exc


def _image(data: bytes) -> np.ndarray | None:
    """Decode an image to RGB pixels; None when the bytes are not an image at all."""
    opened = _opened(data)
    if opened is None:
        return None
    try:
        with opened as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise HashError(f"corrupt or unreadable image: {exc}") from exc


def _checked(data: bytes) -> None:
    if not data:
        raise HashError("the file is empty")
    if len(data) > MAX_BYTES:
        raise HashError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")


def file_hashes(data: bytes) -> MediaHashes:
    """Hash a media file's bytes (MD5, SHA-256) and tell whether it is an image, checked to
    decode — cheaply: a JPEG at an eighth of its size. The PDQ hash is left to ``pdq_of``."""
    _checked(data)
    md5, sha256 = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
    opened = _opened(data)
    if opened is None:
        return MediaHashes(md5=md5, sha256=sha256)
    try:
        with opened as image:
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise HashError(f"corrupt or unreadable image: {exc}") from exc
    return MediaHashes(md5=md5, sha256=sha256, image=True)


def pdq_of(data: bytes) -> tuple[str, int]:
    """Return an image's PDQ hash and quality (0-100)."""
    pixels = _image(data)
    if pixels is None:
        raise HashError("not an image PDQ can read")
    bits, quality = pdqhash.compute(pixels)
    return _hex(bits), int(quality)


def hash_bytes(data: bytes) -> MediaHashes:
    """Hash a media file: MD5 and SHA-256 always, PDQ when it is an image."""
    _checked(data)
    md5, sha256 = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
    pixels = _image(data)
    if pixels is None:
        return MediaHashes(md5=md5, sha256=sha256)
    bits, quality = pdqhash.compute(pixels)
    return MediaHashes(md5=md5, sha256=sha256, pdq=_hex(bits), quality=int(quality), image=True)


def dihedral(data: bytes) -> tuple[list[str], int]:
    """Return the PDQ hashes of an image's eight rotations and mirrors, and its quality."""
    pixels = _image(data)
    if pixels is None:
        raise HashError("not an image PDQ can read")
    variants, qualities = pdqhash.compute_dihedral(pixels)
    return [_hex(bits) for bits in variants], int(np.min(qualities))


def hamming(a: str, b: str) -> int:
    """Return the number of differing bits of two 64-hex-digit PDQ hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
