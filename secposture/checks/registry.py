"""What an evaluator says, and the registries the evaluator decorators fill.

This module imports no evaluator: the evaluator modules import it, and the engine finds them
through the explicit table in :mod:`secposture.checks.table`, so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from secposture.model.records import Host, Status, SweepResult

if TYPE_CHECKING:
    from secposture.checks.lifecycle import Confirmation

if TYPE_CHECKING:
    from inventory.facts import InventoryFacts
    from secposture.model.device_facts import DeviceFacts


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an evaluator says about one target; the engine adds check id and severity."""

    status: Status
    port: int | None = None
    proto: str | None = None
    evidence: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What the agency's own files let a check take into account besides what was collected.

    Passed to the checks that use it (never module state), so two agencies judged in one
    process cannot see each other's word."""

    # The agency's confirmations of unverified lifecycle entries, by entry name.
    lifecycle_confirmations: Mapping[str, Confirmation] = field(default_factory=dict)


# A check on one host of one sweep.
HostEvaluator = Callable[[Host, SweepResult], Iterable[Verdict]]
# Checks over the whole inventory (the approved register, devices over weeks) see every device
# at once, not one host of one sweep; each verdict names the IP it is about.
InventoryEvaluator = Callable[["InventoryFacts"], Iterable[tuple[str, Verdict]]]
# Checks over a network device's configuration (issue #4) see its facts, not a host.
DeviceEvaluator = Callable[["DeviceFacts", SweepResult, CheckOptions], Iterable[Verdict]]

E = TypeVar("E")


class Registry(Generic[E]):
    """Evaluators of one kind by catalogue id; an id registered twice is an error."""

    def __init__(self) -> None:
        self._by_id: dict[str, E] = {}

    def register(self, check_id: str) -> Callable[[E], E]:
        """A decorator that files the evaluator under ``check_id`` and returns it unchanged."""

        def register(func: E) -> E:
            if check_id in self._by_id:
                raise ValueError(f"evaluator for {check_id} registered twice")
            self._by_id[check_id] = func
            return func

        return register

    def by_id(self) -> dict[str, E]:
        """A copy of the registry, in check-id order (the order findings come out in)."""
        return dict(sorted(self._by_id.items()))


HOST_EVALUATORS: Registry[HostEvaluator] = Registry()
INVENTORY_EVALUATORS: Registry[InventoryEvaluator] = Registry()
DEVICE_EVALUATORS: Registry[DeviceEvaluator] = Registry()


def evaluator(check_id: str) -> Callable[[HostEvaluator], HostEvaluator]:
    """Register a host evaluator for a catalogue id (the id must exist in the data)."""
    return HOST_EVALUATORS.register(check_id)


def inventory_evaluator(check_id: str) -> Callable[[InventoryEvaluator], InventoryEvaluator]:
    """Register an inventory-wide evaluator for a catalogue id."""
    return INVENTORY_EVALUATORS.register(check_id)


def device_evaluator(check_id: str) -> Callable[[DeviceEvaluator], DeviceEvaluator]:
    """Register a network-device evaluator for a catalogue id."""
    return DEVICE_EVALUATORS.register(check_id)
