"""Image decoding: an image hashes to a PDQ hash of its quality; random, truncated or mangled
bytes, other formats and decompression bombs give a HashError (or "not an image"), nothing else.

``screening.media.MediaHasher`` records a HashError as an unhashable image and goes on; any other
exception would stop its round, so ``pdq_of`` raising only HashError is its contract too."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tanggap.detectors.hashing import (
    MAX_PIXELS,
    HashError,
    MediaHashes,
    dihedral,
    file_hashes,
    hash_bytes,
    pdq_of,
)

FORMATS = {
    "PNG": ("RGB", "L", "RGBA", "P", "1", "I;16"),
    "JPEG": ("RGB", "L", "CMYK"),
    "GIF": ("P", "L"),
    "BMP": ("RGB", "L", "1"),
    "WEBP": ("RGB", "RGBA"),
    "TIFF": ("RGB", "L", "RGBA", "CMYK", "I;16"),
}
MAGIC = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"GIF89a",
    b"GIF87a",
    b"BM",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"II*\x00",
    b"MM\x00*",
    b"\x00\x00\x01\x00",
    b"8BPS",
    b"%PDF-1.4",
    b"<svg",
    b"\x00\x00\x00\x0cjP  ",
]
HEX64 = re.compile(r"[0-9a-f]{64}")
# PIL warns about what it skips in a corrupt file, and about a large image before it is refused.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:PIL"),
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
]


@st.composite
def images(draw: st.DrawFn) -> bytes:
    """Draw a small image of random pixels, encoded in one of the formats platforms send."""
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(FORMATS[fmt]))
    width, height = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    size = len(Image.new(mode, (width, height)).tobytes())
    pixels = draw(st.binary(min_size=size, max_size=size))
    buffer = io.BytesIO()
    Image.frombytes(mode, (width, height), pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def _hashed_or_refused(data: bytes) -> None:
    """Run every entry point: hashes that agree with each other, or a HashError, nothing else."""
    try:
        hashes = hash_bytes(data)
    except HashError as exc:
        assert str(exc)
        for entry in (pdq_of, dihedral):
            with pytest.raises(HashError):
                entry(data)
    else:
        _check(hashes, data)
        if hashes.image:
            assert pdq_of(data) == (hashes.pdq, hashes.quality)
            assert len(dihedral(data)[0]) == 8
        else:
            for entry in (pdq_of, dihedral):
                with pytest.raises(HashError, match="not an image"):
                    entry(data)
    try:
        cheap = file_hashes(data)  # decodes a JPEG at an eighth: it may refuse on its own
    except HashError as exc:
        assert str(exc)
    else:
        assert cheap.md5 == hashlib.md5(data).hexdigest() and cheap.pdq is None


def _check(hashes: MediaHashes, data: bytes) -> None:
    assert hashes.md5 == hashlib.md5(data).hexdigest()
    assert hashes.sha256 == hashlib.sha256(data).hexdigest()
    if hashes.image:
        assert hashes.pdq is not None and HEX64.fullmatch(hashes.pdq)
        assert hashes.quality is not None and 0 <= hashes.quality <= 100
    else:
        assert hashes.pdq is None and hashes.quality is None


@given(images())
def test_an_image_hashes_the_same_every_way(data: bytes) -> None:
    hashes = hash_bytes(data)
    _check(hashes, data)
    assert hashes.image and file_hashes(data).image
    assert pdq_of(data) == (hashes.pdq, hashes.quality)
    variants, quality = dihedral(data)
    assert len(variants) == 8 and all(HEX64.fullmatch(v) for v in variants)
    assert 0 <= quality <= 100


@given(st.binary(min_size=1, max_size=2000))
def test_random_bytes_are_hashes_or_a_hash_error(data: bytes) -> None:
    _hashed_or_refused(data)


@given(st.sampled_from(MAGIC), st.binary(max_size=400))
def test_a_known_signature_before_garbage_is_hashes_or_a_hash_error(
    magic: bytes, rest: bytes
) -> None:
    _hashed_or_refused(magic + rest)


@given(images(), st.data())
def test_a_truncated_image_is_hashes_or_a_hash_error(data: bytes, draws: st.DataObject) -> None:
    cut = draws.draw(st.integers(1, len(data) - 1))
    _hashed_or_refused(data[:cut])


@given(images(), st.data())
def test_a_mangled_image_is_hashes_or_a_hash_error(data: bytes, draws: st.DataObject) -> None:
    mangled = bytearray(data)
    for _ in range(draws.draw(st.integers(1, 8))):
        mangled[draws.draw(st.integers(0, len(data) - 1))] = draws.draw(st.integers(0, 255))
    _hashed_or_refused(bytes(mangled))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_of_zeros(width: int, height: int, rows: int | None = None) -> bytes:
    """A greyscale PNG, all black, of ``rows`` rows of data (all of them by default): tiny on
    disk, ``width * height`` pixels once decoded."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    count = height if rows is None else rows
    body = b"".join(packer.compress(row) for _ in range(count)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@pytest.mark.parametrize(
    ("width", "height", "rows"),
    [
        # Between the limit and twice it PIL only warns: without the check, 81 million pixels
        # were decoded and hashed.
        (9000, 9000, None),
        # Past twice the limit PIL refuses by itself; the header alone claims the pixels.
        (100_000, 100_000, 1),
    ],
)
def test_an_image_of_more_pixels_than_the_limit_is_refused_before_decoding(
    width: int, height: int, rows: int | None
) -> None:
    data = png_of_zeros(width, height, rows)
    assert width * height > MAX_PIXELS
    for entry in (hash_bytes, file_hashes, pdq_of, dihedral):
        with pytest.raises(HashError, match="pixels"):
            entry(data)
