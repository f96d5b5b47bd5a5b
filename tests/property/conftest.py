"""Hypothesis settings for the property tests: reproducible, no deadline, a fixed budget.

``TANGGAP_HYPOTHESIS=thorough`` runs ten times the examples (for a search before a release);
the default profile is the one CI runs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = 200

settings.register_profile(
    "ci",
    derandomize=True,  # the same examples on every run and every machine
    deadline=None,  # the 2-core CI machine is shared; time is measured for the folder instead
    max_examples=EXAMPLES,
    database=None,  # nothing written next to the checkout
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=EXAMPLES * 10)
settings.load_profile(os.environ.get("TANGGAP_HYPOTHESIS", "ci"))
