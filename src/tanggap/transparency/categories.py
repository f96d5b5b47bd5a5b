"""The policy's categories as the EU templates name them."""

from __future__ import annotations

from tanggap.policy.schemas import Policy
from tanggap.policy.service import find_category

NOT_SPECIFIED = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
TERRORIST_KEYWORD = "KEYWORD_TERRORIST_CONTENT"


def dsa_category(policy: Policy, category_id: str) -> str:
    """Return the DSA statement category of a policy category (not specified when unknown)."""
    category = find_category(policy, category_id)
    return category.dsa.category if category is not None else NOT_SPECIFIED


def terrorist_categories(policy: Policy) -> list[str]:
    """Return the ids of the categories the policy files as terrorist content."""
    return [c.id for c in policy.categories if c.dsa.keyword == TERRORIST_KEYWORD]
