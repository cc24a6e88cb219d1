"""The table of evaluator modules, as sslyze lists its scan commands in one place.

Importing a module registers its checks; listing every module here, imported plainly, means a
check cannot silently vanish because nobody happened to import its module. A new evaluator
module goes in this tuple, and ``tests/unit/checks/test_checks.py`` checks the table against
the catalogue.
"""

from __future__ import annotations

from types import ModuleType

from secposture.checks.evaluators import device, exposure, inventory, network
from secposture.checks.registry import (
    DEVICE_EVALUATORS,
    HOST_EVALUATORS,
    INVENTORY_EVALUATORS,
    DeviceEvaluator,
    HostEvaluator,
    InventoryEvaluator,
)

EVALUATOR_MODULES: tuple[ModuleType, ...] = (network, exposure, inventory, device)


def host_evaluators() -> dict[str, HostEvaluator]:
    """Every host check of the table's modules, by check id."""
    return HOST_EVALUATORS.by_id()


def inventory_evaluators() -> dict[str, InventoryEvaluator]:
    """Every inventory-wide check of the table's modules, by check id."""
    return INVENTORY_EVALUATORS.by_id()


def device_evaluators() -> dict[str, DeviceEvaluator]:
    """Every network-device check of the table's modules, by check id."""
    return DEVICE_EVALUATORS.by_id()
