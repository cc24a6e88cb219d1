"""What changed between two consecutive sweeps: devices and services, as data."""

from __future__ import annotations

from secposture.models import Change, ChangeKind, Host, Service, SweepResult, device_key


def _describe(service: Service) -> str:
    return " ".join(p for p in (service.name, service.product, service.version) if p)


def diff_sweeps(previous: SweepResult | None, current: SweepResult) -> list[Change]:
    """Changes from ``previous`` to ``current``; the first sweep reports every device as new.

    Hosts whose port scan did not complete in either sweep are not compared port by port:
    a failed scan must not read as "every port closed"."""
    sid = current.sweep_id
    before = {device_key(h): h for h in previous.hosts} if previous else {}
    after = {device_key(h): h for h in current.hosts}
    changes: list[Change] = []
    for key, host in after.items():
        old = before.get(key)
        if old is None:
            changes.append(Change(sweep_id=sid, kind=ChangeKind.NEW_DEVICE, device=key, ip=host.ip))
            continue
        if old.ip != host.ip:
            changes.append(
                Change(
                    sweep_id=sid,
                    kind=ChangeKind.IP_CHANGED,
                    device=key,
                    ip=host.ip,
                    before=old.ip,
                    after=host.ip,
                )
            )
        if old.ports_scanned and host.ports_scanned:
            changes += _service_changes(sid, key, old, host)
    for key, host in before.items():
        if key not in after:
            changes.append(
                Change(sweep_id=sid, kind=ChangeKind.MISSING_DEVICE, device=key, ip=host.ip)
            )
    return changes


def _service_changes(sid: str, key: str, old: Host, new: Host) -> list[Change]:
    out: list[Change] = []
    was = {s.key: s for s in old.open_services()}
    now = {s.key: s for s in new.open_services()}
    for k, svc in now.items():
        if k not in was:
            out.append(
                Change(
                    sweep_id=sid,
                    kind=ChangeKind.PORT_OPENED,
                    device=key,
                    ip=new.ip,
                    port=svc.port,
                    proto=svc.proto,
                    after=_describe(svc),
                )
            )
        elif _describe(was[k]) != _describe(svc):
            out.append(
                Change(
                    sweep_id=sid,
                    kind=ChangeKind.SERVICE_CHANGED,
                    device=key,
                    ip=new.ip,
                    port=svc.port,
                    proto=svc.proto,
                    before=_describe(was[k]),
                    after=_describe(svc),
                )
            )
    for k, svc in was.items():
        if k not in now:
            out.append(
                Change(
                    sweep_id=sid,
                    kind=ChangeKind.PORT_CLOSED,
                    device=key,
                    ip=new.ip,
                    port=svc.port,
                    proto=svc.proto,
                    before=_describe(svc),
                )
            )
    return out
