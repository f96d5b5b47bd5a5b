"""Indonesian text normalisation before matching: case, diacritics, homoglyphs, leetspeak,
stretched letters and slang (pure: no database, no I/O after the dictionary is read)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

# Letters of other scripts that look like Latin ones (the usual evasion of keyword lists).
HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss",
    }
)  # fmt: skip
# Digits and signs standing for letters, applied only inside words that also have letters
# ("s3p4k b0l4" → "sepak bola", while "2024" and "Rp500" stay numbers).
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                      "@": "a", "$": "s"})  # fmt: skip
_WORD = re.compile(r"[a-z0-9@$]+(?:[!|][a-z0-9@$]+)*")
_INNER = {"!": "i", "|": "l"}
# Numbers with a unit or a prefix are not leetspeak: rp500, covid19, 10rb, 5kg, 3x.
_NUMBER_WORD = re.compile(r"[a-z]{1,6}\d{2,}|\d+[a-z]{1,3}")
_STRETCH = re.compile(r"([a-z])\1{2,}")


@lru_cache(maxsize=1)
def slang() -> dict[str, str]:
    """Return the packaged Indonesian slang dictionary (15k pairs: ``gw`` → ``gue``)."""
    text = resources.files("tanggap.detectors").joinpath("data/slang_id.tsv").read_text("utf-8")
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("\t")
            pairs[key] = value
    return pairs


def fold(text: str) -> str:
    """Lower-case, strip diacritics and fold look-alike letters of other scripts."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(HOMOGLYPHS))
    if decomposed.isascii():  # most posts: nothing to strip or fold
        return decomposed
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(HOMOGLYPHS)


def _word(token: str, dictionary: dict[str, str]) -> str:
    token = "".join(_INNER.get(ch, ch) for ch in token)  # "b!tc|n" inside a word only
    has_letters = any(ch.isalpha() for ch in token)
    if has_letters and not token.isalpha() and not _NUMBER_WORD.fullmatch(token):
        token = token.translate(LEET)
    token = _STRETCH.sub(r"\1", token)  # "gacoooor" → "gacor"; "maaf" keeps its two a's
    return dictionary.get(token, token)


@lru_cache(maxsize=200_000)
def _packaged_word(token: str) -> str:
    """A token through the packaged dictionary: words repeat, so each is worked out once."""
    return _word(token, slang())


def normalise(text: str, dictionary: dict[str, str] | None = None) -> str:
    """Return the text as matching sees it: folded, de-leeted, slang resolved, one space apart."""
    tokens = _WORD.findall(fold(text))
    if dictionary is None:
        return " ".join(_packaged_word(token) for token in tokens)
    return " ".join(_word(token, dictionary) for token in tokens)
