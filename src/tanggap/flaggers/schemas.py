"""Flagger organisation input and output."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tanggap.validation import Input

Trust = Literal["high", "normal"]


class FlaggerOrgIn(Input):
    """A new trusted flagger organisation."""

    name: str = Field(min_length=2, max_length=200)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")
    trust: Trust = "normal"
    contact_email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
