"""Collect: discovery, nmap, direct probes and device configurations → observations and attempts.

A scanner never decides what is secure; that is the checks' job. Every stage returns an
attempt (completed, error with a reason, skipped), so a sweep with one dead host still ends."""
