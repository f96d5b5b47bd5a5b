"""Load the policy file and compute deadlines from it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from tanggap.errors import InvalidInput
from tanggap.policy.schemas import Category, OrderType, Policy, Source


class PolicyError(ValueError):
    """The policy file cannot be used; the message says where and why."""


def load_policy(path: Path) -> Policy:
    """Read and validate the policy file at ``path``."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"policy file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(f"policy file {path}: not UTF-8 text") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"policy file {path}: not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise PolicyError(f"policy file {path}: not valid YAML: nested too deeply") from exc
    except ValueError as exc:  # PyYAML hands an integer of thousands of digits to int()
        raise PolicyError(f"policy file {path}: not valid YAML: a number is too long") from exc
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
        raise PolicyError(f"policy file {path}: {problems}") from exc


def category_ids(policy: Policy) -> list[str]:
    """Return the ids of the policy's categories, in file order."""
    return [category.id for category in policy.categories]


def find_category(policy: Policy, category_id: str) -> Category | None:
    """Return the category with ``category_id``, or None."""
    return next((c for c in policy.categories if c.id == category_id), None)


def require_category(*, policy: Policy, category: str, field: str = "category") -> Category:
    """Return the policy's category ``category``, or raise InvalidInput naming ``field``."""
    found = find_category(policy, category)
    if found is None:
        known = ", ".join(c.id for c in policy.categories)
        raise InvalidInput(f"unknown category {category!r}; known: {known}", field=field)
    return found


def compute_deadline(
    *,
    policy: Policy,
    received_at: datetime,
    source: Source,
    order_type: OrderType,
    category_id: str,
) -> datetime:
    """Compute the deadline of a report from its source, order type and category."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    category = find_category(policy, category_id)
    if category is None:
        raise ValueError(f"unknown category {category_id!r}")
    if order_type == "removal_order":
        return received_at + policy.removal_order_deadline
    clocks = policy.deadline_classes[category.deadline_class]
    return received_at + getattr(clocks, source)
