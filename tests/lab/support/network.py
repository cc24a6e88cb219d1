"""Lab hosts the scanner tests arrange by hand (issue #3), built on the lab's public API.

* hosts with no service yet, and starting a lab service on one (:func:`start`);
* a router namespace with a second subnet behind it (a routed scope), and hosts on it;
* hosts that drop or reset everything (nftables inside their namespace);
* a namespace holding hundreds of addresses (the /22 quick-profile benchmark);
* the scanner namespace's resolver, pointed at a lab DNS server.

Every host is a namespace named ``<lab id>-…``, so ``down()`` kills its processes and deletes
it with the rest of the lab; what is kept outside the lab's state dir goes with
:func:`cleanup`.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from secposture.lab import LabHost, LabHostState, LabState, Topology, add_host
from secposture.lab.build import service_context
from secposture.lab.processes import ip_batch
from secposture.lab.services import StartedService, start_service
from secposture.lab.state import LabError
from support.services import DNS_NAMES_FILE, OUTSIDE_ROOT

ETC_NETNS = Path("/etc/netns")


def one_host_topology(name: str, host: LabHost) -> Topology:
    """A lab of the demo subnet and scanner address with ``host`` alone on it."""
    return Topology(name=name, subnet="10.77.0.0/24", scanner_ip="10.77.0.2", hosts=(host,))


def _in_host(ns: str, *argv: str, stdin: str | None = None) -> None:
    result = subprocess.run(
        ["ip", "netns", "exec", ns, *argv], input=stdin, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise LabError(
            f"`{' '.join(argv)}` in {ns} failed: {(result.stderr or result.stdout).strip()}"
        )


def add_plain_host(
    state: LabState, name: str, ip: str, *, role: str = "server", mac: str | None = None
) -> tuple[LabState, LabHostState]:
    """A host namespace on the lab's bridge with no service yet (start them with ``start``)."""
    state = add_host(state, LabHost(name, role, ip, (), subnet=state.subnet, mac=mac))
    return state, state.host(name)


def start(
    state: LabState, host: LabHostState, service: str, *, subnet: str | None = None
) -> StartedService:
    """Start lab service ``service`` on ``host`` (on ``subnet``, the lab's by default); wait
    for it with ``secposture.lab.readiness.wait_ready``."""
    where = LabHost(host.name, host.role, host.ip, subnet=subnet or state.subnet)
    return start_service(service_context(state, where, host.ns), service)


def start_dns(state: LabState, host: LabHostState, names: dict[str, str]) -> StartedService:
    """A DNS server on the host answering reverse lookups for ``names`` (ip → name)."""
    ptr = {ipaddress.ip_address(ip).reverse_pointer: name for ip, name in names.items()}
    where = LabHost(host.name, host.role, host.ip, subnet=state.subnet)
    workdir = service_context(state, where, host.ns).workdir("dns-ptr")
    (workdir / DNS_NAMES_FILE).write_text(json.dumps(ptr), encoding="utf-8")
    return start(state, host, "dns-ptr")


def firewall(host: LabHostState, mode: str) -> None:
    """Make the host drop (``drop``) or refuse (``reset``: TCP RST, ICMP unreachable) every
    IP packet addressed to it. ARP still works, as with a host firewall on a real PC."""
    verdict = {
        "drop": "drop",
        "reset": "meta l4proto tcp reject with tcp reset\n    reject",
    }[mode]
    rules = f"""table inet secposture_lab {{
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "lo" accept
    {verdict}
  }}
}}
"""
    _in_host(host.ns, "nft", "-f", "-", stdin=rules)


@dataclass(frozen=True)
class RoutedSubnet:
    """A second segment behind a router namespace: bridge ``bridge`` in the lab's switch."""

    router: LabHostState
    subnet: str
    router_ip: str  # the router's address on the far side
    bridge: str


def add_routed_subnet(
    state: LabState,
    *,
    router_name: str,
    router_lan_ip: str,
    subnet: str,
    router_far_ip: str,
    bridge: str = "br1",
) -> tuple[LabState, RoutedSubnet]:
    """A router namespace on the lab's bridge forwarding to a second bridge (``subnet``);
    the scanner namespace gets a route to it through the router."""
    state, router = add_plain_host(state, router_name, router_lan_ip, role="router")
    prefix = ipaddress.ip_network(subnet).prefixlen
    veth = f"v-{router.ns.rsplit('-', 1)[1]}x"
    ip_batch(
        state.switch_ns,
        [
            f"link add {bridge} type bridge",
            f"link set {bridge} up",
            f"link add {veth} type veth peer name eth1 netns {router.ns}",
            f"link set {veth} master {bridge} up",
        ],
    )
    ip_batch(router.ns, [f"addr add {router_far_ip}/{prefix} dev eth1", "link set eth1 up"])
    _in_host(router.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    ip_batch(state.scanner_ns, [f"route add {subnet} via {router_lan_ip}"])
    return state, RoutedSubnet(router, subnet, router_far_ip, bridge)


def add_far_host(state: LabState, segment: RoutedSubnet, index: int, ip: str) -> LabHostState:
    """A host on the routed subnet (namespace ``<lab id>-far<index>``), default route via
    the router. Not recorded in the lab's state; ``down()`` finds it by its name."""
    ns = f"{state.lab_id}-far{index}"
    prefix = ipaddress.ip_network(segment.subnet).prefixlen
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    veth = f"v-far{index}"
    ip_batch(
        state.switch_ns,
        [
            f"link add {veth} type veth peer name eth0 netns {ns}",
            f"link set {veth} master {segment.bridge} up",
        ],
    )
    ip_batch(
        ns,
        [
            f"addr add {ip}/{prefix} dev eth0",
            "link set eth0 up",
            "link set lo up",
            f"route add default via {segment.router_ip}",
        ],
    )
    return LabHostState(name=f"far{index}", role="printer", ip=ip, ns=ns, services=())


def add_address_block(host: LabHostState, network: str, count: int, *, skip: int = 10) -> list[str]:
    """Give the host ``count`` more addresses of ``network`` (the /22 benchmark), and let it
    answer as that many hosts would: no ICMP rate limit shared across its addresses."""
    net = ipaddress.ip_network(network)
    chosen = [str(a) for a in list(net.hosts())[skip : skip + count] if str(a) != host.ip]
    ip_batch(host.ns, [f"addr add {a}/{net.prefixlen} dev eth0" for a in chosen])
    _in_host(host.ns, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
    return chosen


def use_resolver(state: LabState, server: str) -> None:
    """Point the scanner namespace's resolver at ``server`` (``ip netns exec`` bind-mounts
    /etc/netns/<ns>/resolv.conf over /etc/resolv.conf)."""
    folder = ETC_NETNS / state.scanner_ns
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resolv.conf").write_text(f"nameserver {server}\noptions timeout:1\n")


def cleanup(state: LabState) -> None:
    """Remove what the test services keep outside the lab's state dir (call after ``down()``)."""
    shutil.rmtree(OUTSIDE_ROOT / state.lab_id, ignore_errors=True)
    shutil.rmtree(ETC_NETNS / state.scanner_ns, ignore_errors=True)
