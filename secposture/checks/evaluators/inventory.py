"""Evaluators over the inventory as a whole: the approved asset register. Pure functions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from secposture.checks.registry import Verdict, inventory_evaluator
from secposture.model.i18n import said
from secposture.model.records import Status

if TYPE_CHECKING:
    # Types only: loading the checks (and the catalogue with them) need not load the store.
    from inventory.facts import DeviceSeen, InventoryFacts
    from secposture.config.sections import ApprovedAsset

NO_REGISTER = "no approved asset register in the config ([assets] approved = …)"


def approves(entry: ApprovedAsset, ip: str, mac: str | None) -> bool:
    """An entry names a device by MAC; by IP only where one side has no MAC to compare."""
    if entry.mac is not None and mac == entry.mac:
        return True
    return entry.ip == ip and (entry.mac is None or mac is None)


def _unapproved(device: DeviceSeen) -> str:
    who = ", ".join(p for p in (device.ip, device.mac, device.vendor) if p)
    if device.mac:
        return said("not on the approved register: {device}", device=who)
    return said("not on the approved register: {device} (no MAC seen)", device=who)


@inventory_evaluator("asset.unknown_device")
def unknown_device(facts: InventoryFacts) -> Iterator[tuple[str, Verdict]]:
    """A device seen in this sweep that the approved asset register does not list fails."""
    register = facts.register
    mac_only = register is not None and any(e.ip is None for e in register.approved)
    for device in (d for d in facts.devices if d.seen_now):
        if register is None:
            yield device.ip, Verdict(Status.NOT_ASSESSED, reason=NO_REGISTER)
            continue
        entry = next((e for e in register.approved if approves(e, device.ip, device.mac)), None)
        if entry is not None:
            yield (
                device.ip,
                Verdict(
                    Status.PASS,
                    evidence=said(
                        "approved: {label} ({owner}; {purpose})",
                        label=entry.label,
                        owner=entry.owner,
                        purpose=entry.purpose,
                    ),
                ),
            )
        elif device.mac is None and mac_only:
            # Seen across a router: it may be one of the devices the register lists by MAC.
            yield (
                device.ip,
                Verdict(
                    Status.NOT_ASSESSED,
                    reason="seen without a MAC address; list it in the register by IP to assess it",
                ),
            )
        else:
            yield (
                device.ip,
                Verdict(
                    Status.FAIL,
                    evidence=_unapproved(device),
                ),
            )


@inventory_evaluator("asset.missing_approved")
def missing_approved(facts: InventoryFacts) -> Iterator[tuple[str, Verdict]]:
    """An approved device not seen for longer than the register allows fails."""
    register = facts.register
    if register is None:
        yield ", ".join(facts.scopes), Verdict(Status.NOT_ASSESSED, reason=NO_REGISTER)
        return
    limit = register.missing_after_days
    for entry in register.approved:
        device = next((d for d in facts.devices if approves(entry, d.ip, d.mac)), None)
        target = entry.ip or (device.ip if device else None) or entry.mac or "?"
        if device is not None and device.seen_now:
            seen_now = said("{label} seen in this sweep", label=entry.label)
            yield target, Verdict(Status.PASS, evidence=seen_now)
            continue
        if not facts.absence_assessed:
            yield (
                target,
                Verdict(Status.NOT_ASSESSED, reason="discovery did not complete in this sweep"),
            )
            continue
        since = device.last_seen if device else facts.history_start
        days = (facts.at - since).days
        day = f"{since:%Y-%m-%d}"
        seen = (
            said("last seen {day}", day=day) if device else said("never seen since {day}", day=day)
        )
        if days >= limit:
            yield (
                target,
                Verdict(
                    Status.FAIL,
                    evidence=said(
                        "{label} ({owner}): {seen}, {days} days ago",
                        label=entry.label,
                        owner=entry.owner,
                        seen=seen,
                        days=days,
                    ),
                ),
            )
        elif device is not None:
            yield (
                target,
                Verdict(
                    Status.PASS,
                    evidence=said(
                        "{label}: {seen}, {days} of {limit} days",
                        label=entry.label,
                        seen=seen,
                        days=days,
                        limit=limit,
                    ),
                ),
            )
        else:
            yield (
                target,
                Verdict(
                    Status.NOT_ASSESSED,
                    reason=said(
                        "{label} not seen yet; history covers {days} of {limit} days",
                        label=entry.label,
                        days=days,
                        limit=limit,
                    ),
                ),
            )
