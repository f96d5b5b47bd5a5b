"""The packaged text classifier: present, deterministic, and right on plain cases."""

from __future__ import annotations

from tanggap.detectors.classifier import BUCKETS, features, packaged


def test_features_are_normalised_hashed_ngrams() -> None:
    found = features("Selamat, anda MENANG hadiah!")
    assert found == features("selamat anda menang hadiah")  # case and punctuation folded
    assert all(0 <= bucket < BUCKETS for bucket in found)
    assert abs(sum(v * v for v in found.values()) - 1.0) < 1e-9
    assert features("") == {}


def test_the_packaged_model_flags_fraud_and_leaves_plain_news_alone() -> None:
    model = packaged()
    assert model is not None and model.labels == ("hate_speech", "abusive", "fraud")
    scam = (
        "Selamat! No anda terpilih mendapatkan hadiah cek tunai Rp 175 juta dari undian. "
        "Info pin pemenang hubungi kami di nomor ini"
    )
    assert "fraud" in model.flagged(scam)
    news = "Pemerintah kota meresmikan taman baru di dekat stasiun pada hari Minggu pagi."
    assert model.flagged(news) == {}
    scores = model.scores(news)
    assert set(scores) == set(model.labels) and all(0 <= s <= 1 for s in scores.values())
