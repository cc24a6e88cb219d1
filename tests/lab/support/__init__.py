"""Test-only additions to the lab (issue #12: they used to ship inside the package).

* ``services``: the services the scanner tests need beside the demo lab's (Samba, xrdp,
  TigerVNC, MariaDB, PostgreSQL, Redis, weak OpenSSH, TLS with an expired certificate, a
  reverse-DNS server, Avahi, port stand-ins), registered in the lab's one service table
  (``secposture.lab.services.register_service``) when this package is imported;
* ``network``: hosts without services, a routed subnet behind a router namespace, host
  firewalls, address blocks, the scanner's resolver, and starting a service on such a host;
* ``commands``: running code, the CLI or tcpdump where a test needs them.

Imported as ``support`` (pytest puts tests/lab on ``sys.path``; the benchmarks in bench/ do
the same by hand).
"""

from support import services as _services  # noqa: F401 - registers the test services
