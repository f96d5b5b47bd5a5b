"""Where the shared, labelled data lives: ``../shared/data`` beside the checkout (as in CI), or
``TANGGAP_SHARED_DATA`` when set."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).parents[1]
SHARED_DATA = Path(os.environ.get("TANGGAP_SHARED_DATA", ROOT.parent / "shared" / "data"))
PDQ_REFERENCE = SHARED_DATA / "pdq-reference"
