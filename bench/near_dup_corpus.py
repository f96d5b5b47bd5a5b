"""Posts for bench/text_near_dup.py: synthetic Indonesian texts with planted near copies, their
fingerprints computed by the real detection code, and a bulk loader for SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, text

from tanggap.channels.models import Channel
from tanggap.db.session import normalise_url
from tanggap.detection.models import FingerprintBand
from tanggap.detectors.minhash import jaccard, signature
from tanggap.detectors.normalise import normalise, slang
from tanggap.posts.models import Post
from tanggap.pseudonyms import user_ref

DATA = Path(__file__).parents[2] / "shared" / "data"
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
COPIES = 3
CHANNELS = 1000
AUTHORS = 5000
CHUNK = 10_000  # posts per worker task and per loading transaction
POSTED_AT = datetime(2026, 11, 1, tzinfo=UTC)
FILLERS = ("dong", "ya", "nih", "lho", "sih", "deh", "kok", "loh", "gan", "guys")
LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"})

Row = tuple[int, str, str | None, list[str]]  # post id, text, minhash hex, band keys


def sentences() -> list[list[str]]:
    """Return the words of every tweet and SMS of the shared training data."""
    found = []
    for path, column in (
        (DATA / "id-hate-abusive" / "train.csv", "Tweet"),
        (DATA / "id-sms-fraud" / "train.csv", "Teks"),
    ):
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            found.extend(row[column].split() for row in csv.DictReader(handle) if row.get(column))
    return found


_SENTENCES = sentences()
_VOCABULARY = sorted({word for words in _SENTENCES for word in words})


def compose(rng: random.Random, min_words: int = 3) -> str:
    """Return a new post: word windows of one to three sentences, a quarter of the words swapped."""
    while True:
        words: list[str] = []
        for _ in range(rng.choice((1, 2, 2, 3))):
            sentence = rng.choice(_SENTENCES)
            size = rng.randint(4, 18)
            start = rng.randrange(max(1, len(sentence) - size + 1))
            words.extend(sentence[start : start + size])
        if len(words) >= min_words:
            return " ".join(rng.choice(_VOCABULARY) if rng.random() < 0.25 else w for w in words)


def _as_slang() -> dict[str, list[str]]:
    spoken: dict[str, list[str]] = {}
    for short, formal in slang().items():
        if " " not in formal and short != formal:
            spoken.setdefault(formal, []).append(short)
    return spoken


_SPOKEN = _as_slang()


def edited(text: str, rng: random.Random) -> str:
    """Return an edited copy: two of insert, delete, slang, leetspeak or stretched letters."""
    words = text.split()
    for _ in range(2):
        op = rng.choice(("insert", "delete", "slang", "leet", "stretch"))
        at = rng.randrange(len(words))
        if op == "insert":
            words.insert(at, rng.choice(FILLERS))
        elif op == "delete" and len(words) > 8:
            del words[at]
        elif op == "slang":
            words = [rng.choice(_SPOKEN[w]) if w in _SPOKEN else w for w in words]
        elif op == "leet" and words[at].isalpha():
            words[at] = words[at].translate(LEET)
        elif op == "stretch" and words[at].isalpha():
            words[at] = words[at][:-1] + words[at][-1] * 4
    return " ".join(words)


def fingerprinted(posts: list[tuple[int, str]]) -> list[Row]:
    """Fingerprint posts as ``detection.service.fingerprint`` does (worker process)."""
    rows = []
    for post_id, body in posts:
        found = signature(normalise(body))
        rows.append((post_id, body, found.hex() if found else None, found.bands() if found else []))
    return rows


def background(task: tuple[int, int, int]) -> list[Row]:
    """Generate and fingerprint ``count`` posts from ``first_id`` on (worker process)."""
    first_id, count, seed = task
    rng = random.Random(seed)
    return fingerprinted([(first_id + i, compose(rng)) for i in range(count)])


@dataclass
class Corpus:
    """The first posts (planted groups among background) and the queries with their answers."""

    first: list[tuple[int, str]]
    planted: dict[int, set[int]]  # original's id → its copies' ids
    plain: list[int]  # queries without planted copies
    reachable: set[int]  # copies whose exact Jaccard with their original passes the bound


def corpus(small: int, queries: int, bound: float, seed: int) -> Corpus:
    """Plant ``queries / 2`` groups among ``small`` posts; pick as many plain queries."""
    rng = random.Random(seed)
    groups = [[compose(rng, min_words=10)] for _ in range(queries // 2)]
    for group in groups:
        group.extend(edited(group[0], rng) for _ in range(COPIES))
    texts = [body for group in groups for body in group]
    texts += [compose(rng) for _ in range(small - len(texts))]
    order = list(range(1, small + 1))
    rng.shuffle(order)  # planted posts spread over the id range, not side by side
    ids = dict(enumerate(order))
    planted, reachable, index = {}, set(), 0
    for group in groups:
        original, copies = ids[index], [ids[index + 1 + c] for c in range(COPIES)]
        planted[original] = set(copies)
        for copy, body in zip(copies, group[1:], strict=True):
            if jaccard(normalise(group[0]), normalise(body)) >= bound:
                reachable.add(copy)
        index += 1 + COPIES
    in_groups = set(planted) | {c for copies in planted.values() for c in copies}
    plain = rng.sample(sorted(set(order) - in_groups), queries - len(planted))
    return Corpus(sorted((ids[i], body) for i, body in enumerate(texts)), planted, plain, reachable)


def loading_engine(url: str) -> Engine:
    """An engine for bulk loading: no foreign key checks, SQLite without fsync and a big cache."""
    engine = create_engine(normalise_url(url))

    @event.listens_for(engine, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        if engine.dialect.name == "sqlite":
            for pragma in ("synchronous=OFF", "cache_size=-1000000", "foreign_keys=OFF"):
                dbapi_connection.execute(f"PRAGMA {pragma}")
            return
        try:  # PostgreSQL: skip the foreign key triggers (superuser only; else keep them)
            dbapi_connection.execute("SET session_replication_role = replica")
            dbapi_connection.commit()
        except Exception:
            dbapi_connection.rollback()

    return engine


def load(engine: Engine, rows: Iterable[list[Row]]) -> int:
    """Insert channels, then posts with their fingerprints and bands, a transaction per chunk."""
    authors = [user_ref(secret_key=SECRET, platform_user_id=str(n)) for n in range(AUTHORS)]
    band_index = next(iter(FingerprintBand.__table__.indexes))
    with engine.begin() as conn:
        conn.execute(insert(Channel), [{"handle": f"benchchan{n}"} for n in range(CHANNELS)])
        band_index.drop(conn)  # rebuilt once at the end: far faster than 16 M random inserts
    loaded = 0
    for chunk in rows:
        posts = [
            {
                "id": post_id,
                "channel_id": post_id % CHANNELS + 1,
                "message_id": post_id,
                "text": body,
                "posted_at": POSTED_AT,
                "views": post_id % 977,
                "author_ref": authors[post_id % AUTHORS],
                "language": "id",
                "ingested_at": POSTED_AT,
                "updated_at": POSTED_AT,
            }
            for post_id, body, _, _ in chunk
        ]
        prints = [(post_id, minhash) for post_id, _, minhash, _ in chunk if minhash]
        bands = [(p, band, key) for p, _, _, keys in chunk for band, key in enumerate(keys)]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                _copy(conn, posts, prints, bands)
            else:
                conn.execute(insert(Post), posts)
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                cursor.executemany(
                    "INSERT INTO post_fingerprints (post_id, minhash) VALUES (?, ?)", prints
                )
                cursor.executemany(
                    "INSERT INTO fingerprint_bands (post_id, band, key) VALUES (?, ?, ?)", bands
                )
        loaded += len(chunk)
    with engine.begin() as conn:
        band_index.create(conn)
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('posts', 'id'), max(id)) FROM posts")
            )
            conn.execute(text("ANALYZE"))  # what autovacuum does after a bulk load
    return loaded


def _copy(conn: Any, posts: list[dict[str, Any]], prints: list[Any], bands: list[Any]) -> None:
    columns = list(posts[0])
    with conn.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY posts ({', '.join(columns)}) FROM STDIN") as copy:
            for post in posts:
                copy.write_row([post[c] for c in columns])
        with cursor.copy("COPY post_fingerprints (post_id, minhash) FROM STDIN") as copy:
            for row in prints:
                copy.write_row(row)
        with cursor.copy("COPY fingerprint_bands (post_id, band, key) FROM STDIN") as copy:
            for row in bands:
                copy.write_row(row)
