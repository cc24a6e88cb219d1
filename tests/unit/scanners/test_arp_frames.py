"""The ARP who-has frames discovery sends (issue #20: one template, the target patched in)."""

from __future__ import annotations

from scapy.layers.l2 import ARP, Ether

from scanners.discovery.arp import who_has_frames

OWN_MAC, OWN_IP = "02:00:00:00:00:02", "10.80.0.2"


def test_each_frame_is_the_who_has_scapy_would_build_for_its_target() -> None:
    targets = ["10.80.0.10", "10.80.3.254", "192.0.2.1"]
    frames = list(who_has_frames(OWN_MAC, OWN_IP, targets))
    assert len(frames) == 3
    for frame, target in zip(frames, targets, strict=True):
        parsed = Ether(frame)
        arp = parsed[ARP]
        assert parsed.dst == "ff:ff:ff:ff:ff:ff" and parsed.src == OWN_MAC
        assert (arp.op, arp.hwsrc, arp.psrc, arp.pdst) == (1, OWN_MAC, OWN_IP, target)
        assert len(frame) == 60  # padded to Ethernet's minimum
        expected = bytes(
            Ether(dst="ff:ff:ff:ff:ff:ff", src=OWN_MAC)
            / ARP(op=1, hwsrc=OWN_MAC, psrc=OWN_IP, pdst=target)
        )
        assert frame[: len(expected)] == expected
