"""Exit codes that cron, systemd and CI can read (after ssh-audit's exitcodes.py)."""

OK = 0  # done; nothing at or above --fail-on
FINDINGS = 1  # done; findings at or above --fail-on
USAGE = 2  # bad command line or configuration
INCOMPLETE = 3  # the sweep ran but some stage or host could not be completed
ENVIRONMENT = 4  # cannot run here: not root, a tool missing, outside the required namespace
