"""Which language a post is written in (lingua, models shipped inside the PyPI package)."""

from __future__ import annotations

import threading
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# The languages of the region's public channels and of the content that travels through them.
# Javanese and Sundanese have no lingua model; their posts mostly read as Indonesian or Malay.
LANGUAGES = (
    Language.INDONESIAN,
    Language.MALAY,
    Language.ENGLISH,
    Language.RUSSIAN,
    Language.ARABIC,
    Language.CHINESE,
    Language.TAGALOG,
    Language.VIETNAMESE,
    Language.THAI,
    Language.HINDI,
    Language.FRENCH,
    Language.GERMAN,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.TURKISH,
)
# Below this many letters a guess is noise ("ok", "wkwk", a lone emoji).
MIN_LETTERS = 8
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    with _lock:
        return (
            LanguageDetectorBuilder.from_languages(*LANGUAGES)
            .with_preloaded_language_models()
            .build()
        )


def detect_language(text: str) -> str | None:
    """Return the ISO 639-1 code of the text's language, or None when it cannot be told."""
    if sum(map(str.isalpha, text)) < MIN_LETTERS:
        return None
    language = _detector().detect_language_of(text)
    if language is None:
        return None
    return language.iso_code_639_1.name.lower()
