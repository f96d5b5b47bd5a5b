"""Normalisation of Indonesian text and MinHash near-duplicates, on hand-built and planted edits."""

from __future__ import annotations

import hashlib
import random

from tanggap.detectors import minhash
from tanggap.detectors.minhash import Signature, SignatureIndex, jaccard, signature
from tanggap.detectors.normalise import fold, normalise, slang


def test_slang_leetspeak_homoglyphs_and_stretching_fold_to_one_form() -> None:
    assert normalise("S3l4m4t!! gw kasih link yg bener bgt") == (
        "selamat gue kasih link yang benar banget"
    )
    assert normalise("Ρrоmо ѕlot gacooooor") == "promo slot gacor"  # Greek/Cyrillic look-alikes
    assert normalise("b!tc0in $lot") == "bitcoin slot"
    assert normalise("Café DÉJÀ vu") == "cafe deja vu"
    assert fold("ÀÉÎ") == "aei"


def test_numbers_are_not_mistaken_for_leetspeak() -> None:
    assert normalise("Rp500 ribu tahun 2024, covid19, 5kg") == "rp500 ribu tahun 2024 covid19 5kg"
    assert normalise("maaf saat itu") == "maaf saat itu"  # real double letters stay


def test_the_packaged_dictionary_is_the_real_one() -> None:
    words = slang()
    assert len(words) > 14_000
    assert words["jgn"] == "jangan" and words["bgt"] == "banget"


def test_signatures_estimate_jaccard_and_survive_storage() -> None:
    a = normalise("Selamat! Anda memenangkan hadiah undian, kirim kode OTP ke nomor ini sekarang")
    b = normalise("SELAMAT!! anda memenangkan hadiah undian, kirim kode OTP ke no ini sekarang ya")
    c = normalise("Harga cabai rawit di pasar tradisional naik menjelang musim hujan tahun ini")
    sa, sb, sc = signature(a), signature(b), signature(c)
    assert sa is not None and sb is not None and sc is not None
    assert abs(sa.similarity(sb) - jaccard(a, b)) < 0.15
    assert sa.similarity(sc) < 0.1
    assert Signature.from_hex(sa.hex()) == sa
    assert len(set(sa.bands()) & set(sb.bands())) >= 1  # an LSH candidate
    assert signature("") is None


def edited(text: str, rng: random.Random) -> str:
    """Plant an edited copy: insert, delete and swap a few words, some into slang."""
    words = text.split()
    slangy = {"yang": "yg", "jangan": "jgn", "banget": "bgt", "tidak": "gak", "sudah": "udah"}
    for _ in range(2):
        op = rng.choice(("insert", "delete", "slang"))
        if op == "insert":
            words.insert(rng.randrange(len(words) + 1), rng.choice(("dong", "ya", "nih", "lho")))
        elif op == "delete" and len(words) > 8:
            del words[rng.randrange(len(words))]
        else:
            words = [slangy.get(w, w) for w in words]
    return " ".join(words)


def test_signatures_are_the_stored_ones_whatever_the_arithmetic() -> None:
    """Signatures are stored and compared across releases: the fast arithmetic (no division, the
    shingle hashes kept) must give what (a·x + b) mod p, worked out on plain integers, gives."""
    prime = (1 << 61) - 1
    texts = ["transfer dulu ke rekening ini gan", "halo", "abcde", "sama sama sama sama"]
    for text in texts * 2:  # the second time from the kept shingle hashes
        normalised = normalise(text)
        hashes = [
            int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") >> 3
            for s in minhash.shingles(normalised)
        ]
        expected = tuple(
            min(((int(a) * x + int(b)) % (1 << 64)) % prime for x in hashes) & 0xFFFFFFFF
            for a, b in zip(minhash._A, minhash._B, strict=True)
        )
        found = signature(normalised)
        assert found is not None
        assert found.slots == expected
        assert found.bands() == [
            hashlib.blake2b(repr(expected[at : at + 4]).encode(), digest_size=8).hexdigest()
            for at in range(0, 64, 4)
        ]
        assert Signature.from_hex(found.hex()) == found


def test_planted_edited_copies_are_found_and_unrelated_posts_are_not() -> None:
    rng = random.Random(7)
    originals = [
        "promo spesial hari ini jangan sampai ketinggalan kirim data kartu kredit anda "
        f"ke admin yang resmi sekarang juga nomor undian {n}"
        if n % 3 == 0
        else f"berita kota nomor {n}: warga berkumpul di alun alun untuk acara budaya yang "
        f"meriah sudah sejak pagi hari dengan tarian dan musik daerah ke {n * 7}"
        for n in range(60)
    ]
    copies = [edited(t, rng) for t in originals]
    signatures = [signature(normalise(t)) for t in originals]
    found = cross_template_hits = cross_pairs = 0
    for i, copy in enumerate(copies):
        mine = signature(normalise(copy))
        assert mine is not None
        for j, other in enumerate(signatures):
            assert other is not None
            hit = mine.similarity(other) >= 0.6
            if i == j:
                found += hit
            elif (i % 3 == 0) != (j % 3 == 0):  # a scam copy against a news post, or back
                cross_pairs += 1
                cross_template_hits += hit
    assert found / len(copies) >= 0.9, found
    assert cross_pairs == 2 * 20 * 40 and cross_template_hits == 0


def test_a_signature_index_takes_additions_and_removals() -> None:
    texts = [
        "promo judi online slot gacor hari ini daftar sekarang juga",
        "pinjaman online cepat cair tanpa jaminan hubungi kami segera",
    ]
    found = [signature(text) for text in texts]
    assert found[0] is not None and found[1] is not None
    index = SignatureIndex([(1, found[0].hex())])
    assert index.query(found[1], 0.9) == []
    index.add([(2, found[1].hex())])
    assert index.query(found[1], 0.9) == [(2, 1.0)] and len(index) == 2
    assert index.remove([1, 99]) == 1
    assert index.query(found[0], 0.9) == [] and len(index) == 1
    assert all(1 not in keys for keys in index.by_band.values())
