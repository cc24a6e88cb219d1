"""secposture: cybersecurity posture and LAN inventory for government agencies."""

__version__ = "0.1.0"
