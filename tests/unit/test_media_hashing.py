"""Media hashing against Meta's PDQ reference images, and the bad files it must refuse."""

from __future__ import annotations

import hashlib
import io
import re

import numpy as np
import pytest
from PIL import Image

from tanggap.detectors.hashing import HashError, dihedral, hamming, hash_bytes
from tanggap.detectors.pdq_index import PdqIndex
from tests.shared_data import PDQ_REFERENCE as REFERENCE

EXPECTED = dict(
    (name, digest)
    for digest, _, name in re.findall(
        r"^([0-9a-f]{64}),(\d+),(\S+\.jpg)$",
        (REFERENCE / "README.md").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
)
BRIDGES = sorted(p.name for p in REFERENCE.glob("bridge-*.jpg"))


def test_the_reference_hashes_are_all_there() -> None:
    assert len(EXPECTED) == 12 and len(BRIDGES) == 8


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pdq_lands_within_31_bits_of_metas_reference(name: str) -> None:
    data = (REFERENCE / name).read_bytes()
    hashes = hash_bytes(data)
    assert hashes.pdq is not None and hashes.quality is not None and hashes.quality >= 50
    assert hamming(hashes.pdq, EXPECTED[name]) <= 31, (name, hamming(hashes.pdq, EXPECTED[name]))
    assert hashes.md5 == hashlib.md5(data).hexdigest()
    assert hashes.sha256 == hashlib.sha256(data).hexdigest()


def test_every_rotation_and_mirror_matches_a_bank_built_from_the_original_alone() -> None:
    variants, quality = dihedral((REFERENCE / "bridge-1-original.jpg").read_bytes())
    assert len(variants) == 8 and quality >= 50
    index = PdqIndex.build((h, 1) for h in variants)
    plain_original = hash_bytes((REFERENCE / "bridge-1-original.jpg").read_bytes()).pdq
    assert plain_original is not None
    far = 0
    for name in BRIDGES:
        query = hash_bytes((REFERENCE / name).read_bytes()).pdq
        assert query is not None
        assert index.query(query, 31), name
        far += hamming(query, plain_original) > 31
    assert far >= 6  # without the variants most of them would be missed
    unrelated = hash_bytes(noise_png()).pdq
    assert unrelated is not None and index.query(unrelated, 31) == []


def noise_png(seed: int = 3) -> bytes:
    """A picture unlike the bridge: seeded random noise."""
    pixels = np.random.default_rng(seed).integers(0, 256, size=(128, 128, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_bad_files_get_a_clear_error() -> None:
    with pytest.raises(HashError, match="empty"):
        hash_bytes(b"")
    good = (REFERENCE / "aaa-orig.jpg").read_bytes()
    with pytest.raises(HashError, match="corrupt"):
        hash_bytes(good[: len(good) // 3])
    with pytest.raises(HashError, match="not an image"):
        dihedral(b"plain text, not a picture")
    text = hash_bytes(b"plain text, not a picture")
    assert (
        text.pdq is None and text.sha256 == hashlib.sha256(b"plain text, not a picture").hexdigest()
    )


def test_a_flat_image_is_below_the_quality_floor() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (120, 120, 120)).save(buffer, format="PNG")
    hashes = hash_bytes(buffer.getvalue())
    assert hashes.quality is not None and hashes.quality < 50


def test_the_index_answers_exact_distances() -> None:
    a = "f" * 64
    b = "f" * 63 + "e"  # one bit away
    c = "0" * 64
    index = PdqIndex.build([(a, 1), (b, 2), (c, 3)])
    assert index.query(a, 0) == [(1, 0)]
    assert index.query(a, 1) == [(1, 0), (2, 1)]
    assert index.query(c, 31) == [(3, 0)]
    assert PdqIndex.build([]).query(a, 31) == []
