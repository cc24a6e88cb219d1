"""What changed since the inventory last looked: devices, services and configurations, as data.

The baseline is what the store last knew of each device, not only the previous sweep: a port
closed while the previous scan of that host failed is still reported, against the last scan
that completed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from inventory.identity import Identity, Known, Match, config_hashes
from secposture.model.records import AttemptStatus, Change, ChangeKind, SweepResult


def absence_assessed(sweep: SweepResult) -> bool:
    """Whether a device missing from this sweep is really absent: no discovery stage failed.

    A failed ARP or ping sweep finds nothing; that must not read as "every device is gone"."""
    return not any(
        a.stage.startswith("discovery") and a.status is AttemptStatus.ERROR for a in sweep.attempts
    )


def detect_changes(
    sweep: SweepResult, known: Mapping[str, Known], matches: Sequence[Match]
) -> list[Change]:
    """Changes from the stored baseline ``known`` to ``sweep``, whose hosts are ``matches``."""
    sid = sweep.sweep_id
    configs = config_hashes(sweep.observations)
    changes: list[Change] = []
    for m in matches:
        host = m.host
        old = known.get(m.key) or (known.get(m.former) if m.former else None)
        if old is None:
            changes.append(_device_change(sid, m, ChangeKind.NEW_DEVICE))
            continue
        if not old.present:
            changes.append(_device_change(sid, m, ChangeKind.DEVICE_RETURNED))
        if old.ip != host.ip:
            changes.append(_device_change(sid, m, ChangeKind.IP_CHANGED, old.ip, host.ip))
        if old.services is not None and m.services is not None and old.services != m.services:
            changes += _service_changes(sid, m.key, host.ip, old.services, m.services)
        sha = configs.get(host.ip)
        if sha and old.config_sha256 and sha != old.config_sha256:
            changes.append(
                _device_change(sid, m, ChangeKind.CONFIG_CHANGED, old.config_sha256, sha)
            )
    if absence_assessed(sweep):
        seen = {m.key for m in matches} | {m.former for m in matches if m.former}
        changes += [
            Change(sweep_id=sid, kind=ChangeKind.MISSING_DEVICE, device=k.key, ip=k.ip)
            for k in known.values()
            if k.present and k.key not in seen
        ]
    return changes


def _device_change(
    sid: str, m: Match, kind: ChangeKind, before: str = "", after: str = ""
) -> Change:
    return Change(sweep_id=sid, kind=kind, device=m.key, ip=m.host.ip, before=before, after=after)


def _service_changes(
    sid: str, device: str, ip: str, was: Mapping[str, str], now: Mapping[str, str]
) -> list[Change]:
    out: list[Change] = []
    for key in sorted(now.keys() | was.keys(), key=_port_order):
        port, _, proto = key.partition("/")
        before, after = was.get(key), now.get(key)
        if before is None:
            kind = ChangeKind.PORT_OPENED
        elif after is None:
            kind = ChangeKind.PORT_CLOSED
        elif before != after:
            kind = ChangeKind.SERVICE_CHANGED
        else:
            continue
        out.append(
            Change(
                sweep_id=sid,
                kind=kind,
                device=device,
                ip=ip,
                port=int(port),
                proto=proto,
                before=before or "",
                after=after or "",
            )
        )
    return out


def _port_order(key: str) -> tuple[int, str]:
    port, _, proto = key.partition("/")
    return int(port), proto


def baseline(sweep: SweepResult) -> dict[str, Known]:
    """What a recorded sweep says of each device, as a baseline for the next one."""
    configs = config_hashes(sweep.observations)
    return {
        m.key: Known(
            key=m.key,
            ip=m.host.ip,
            mac=m.host.mac.lower() if m.host.mac else None,
            services=m.services,
            config_sha256=configs.get(m.host.ip),
        )
        for m in Identity(()).resolve(sweep.hosts)
    }


def diff_sweeps(previous: SweepResult | None, current: SweepResult) -> list[Change]:
    """Changes from one recorded sweep to the next; the first sweep reports every device as new."""
    known = baseline(previous) if previous is not None else {}
    return detect_changes(current, known, Identity(known.values()).resolve(current.hosts))
