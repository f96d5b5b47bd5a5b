"""Each action to the adapter of its channel's platform (the configured one by default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tanggap.actions.platform import PlatformAction, PlatformAdapter
from tanggap.outbox import DeliveryRefused


@dataclass(frozen=True)
class RoutingAdapter:
    """Applies an action through the adapter of ``action.platform`` (None: ``default``)."""

    adapters: Mapping[str, PlatformAdapter]
    default: str

    def apply(self, action: PlatformAction) -> None:
        """Hand ``action`` to its platform's adapter; refuse it for good if none is configured."""
        platform = action.platform or self.default
        adapter = self.adapters.get(platform)
        if adapter is None:
            # Retrying cannot help until the settings change; an admin requeues it then.
            raise DeliveryRefused(
                f"channel {action.channel} is on platform {platform!r}, which has no adapter "
                f"configured (configured: {', '.join(sorted(self.adapters))})"
            )
        adapter.apply(action)

    def close(self) -> None:
        """Release what each adapter holds (the HTTP ones, their connections)."""
        for adapter in self.adapters.values():
            close_if_closable(adapter)


def close_if_closable(thing: object) -> None:
    """Call ``thing.close()`` where it has one (an adapter or a sender holding connections)."""
    close = getattr(thing, "close", None)
    if callable(close):
        close()
