"""Flagger organisation input and output."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Trust = Literal["high", "normal"]


class FlaggerOrgIn(BaseModel):
    """A new trusted flagger organisation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=200)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")
    trust: Trust = "normal"
    contact_email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
