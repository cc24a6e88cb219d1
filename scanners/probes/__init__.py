"""Direct probes where nmap's scripts leave no evidence: SNMP, HTTP, TLS, telnet, Redis, names."""
