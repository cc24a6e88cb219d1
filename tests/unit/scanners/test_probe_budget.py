"""The direct probes of a sweep share one budget (issue #20): no host waits for another, and
the SNMP probe asks a whole batch from one socket before it waits, on loopback."""

from __future__ import annotations

import socket
import threading

from scapy.asn1.asn1 import ASN1_OID, ASN1_STRING
from scapy.layers.snmp import SNMP, SNMPresponse, SNMPvarbind

from scanners.probes.budget import ProbeBudget
from scanners.probes.snmp import SYS_DESCR, SYS_NAME, probe_snmp_many


def test_the_probes_of_one_host_run_at_once() -> None:
    # Given three probes that each wait until all three have started
    budget = ProbeBudget(outstanding=8, per_host=4)
    started = threading.Barrier(3, timeout=10)

    def probe(n: int) -> int:
        started.wait()  # raises BrokenBarrierError if they ran one after another
        return n

    # When they run through the budget, then they all ran together, results in their order
    try:
        assert budget.run_all("10.0.0.1", [lambda n=n: probe(n) for n in range(3)]) == [0, 1, 2]
    finally:
        budget.close()


def test_the_probes_of_several_hosts_run_at_once_results_per_host_in_order() -> None:
    # Phase 3 of a group of hosts asks them all together (issue #20): four probes over three
    # hosts that each wait until all four have started, so a host after host loop would break
    budget = ProbeBudget(outstanding=8, per_host=4)
    started = threading.Barrier(4, timeout=10)

    def probe(tag: str) -> str:
        started.wait()
        return tag

    asks = [
        ("10.0.0.1", [lambda: probe("a1"), lambda: probe("a2")]),
        ("10.0.0.2", []),
        ("10.0.0.3", [lambda: probe("c1")]),
        ("10.0.0.4", [lambda: probe("d1")]),
    ]
    try:
        assert budget.run_hosts(asks) == [["a1", "a2"], [], ["c1"], ["d1"]]
    finally:
        budget.close()


def test_no_more_than_per_host_probes_reach_one_device() -> None:
    budget = ProbeBudget(outstanding=8, per_host=2)
    lock = threading.Lock()
    inside, most = 0, 0
    two_in = threading.Barrier(2, timeout=10)

    def probe() -> None:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        two_in.wait()  # two at a time meet here: with a cap of one, the barrier would break
        with lock:
            inside -= 1

    try:
        budget.run_all("10.0.0.1", [probe] * 6)
    finally:
        budget.close()
    assert most == 2


def _agent(sock: socket.socket, stop: threading.Event) -> None:
    """A minimal SNMPv2c agent: answers GETs for community 'public' only."""
    sock.settimeout(0.1)
    while not stop.is_set():
        try:
            data, peer = sock.recvfrom(65535)
        except TimeoutError:
            continue
        request = SNMP(data)
        if request.community.val != b"public":
            continue  # a wrong community gets no answer, as real agents do
        reply = SNMP(
            community="public",
            PDU=SNMPresponse(
                id=request.PDU.id,
                varbindlist=[
                    SNMPvarbind(oid=ASN1_OID(SYS_DESCR), value=ASN1_STRING(b"Test printer")),
                    SNMPvarbind(oid=ASN1_OID(SYS_NAME), value=ASN1_STRING(b"printer-01")),
                ],
            ),
        )
        sock.sendto(bytes(reply), peer)


def test_a_batch_is_asked_from_one_socket_before_any_wait() -> None:
    # Given an agent on 127.0.0.1 and two loopback addresses where nothing listens
    agent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent.bind(("127.0.0.1", 0))
    port = agent.getsockname()[1]
    stop = threading.Event()
    thread = threading.Thread(target=_agent, args=(agent, stop), daemon=True)
    thread.start()
    trace: list[tuple[str, str | None]] = []
    try:
        # When the batch is probed
        found = probe_snmp_many(
            ["127.0.0.2", "127.0.0.3", "127.0.0.1"],
            port=port,
            timeout=1.0,
            trace=lambda event, ip: trace.append((event, ip)),
        )
    finally:
        stop.set()
        thread.join(timeout=5)
        agent.close()
    # Then every GET went out first, then one wait
    assert trace == [
        *[("send", ip) for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.1") for _ in range(2)],
        ("wait", None),
    ]
    # and the agent's answer is matched to it, the silent addresses accepted nothing
    accepted = {
        ip: [o.data["accepted"] for o in obs if o.kind == "snmp.community"]
        for ip, obs in found.items()
    }
    assert accepted == {
        "127.0.0.2": [False, False],
        "127.0.0.3": [False, False],
        "127.0.0.1": [True, False],
    }
    names = [o.data["sysname"] for o in found["127.0.0.1"] if o.kind == "snmp.sysname"]
    assert names == ["printer-01"]
