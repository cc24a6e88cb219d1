# The two commands a newcomer runs as root on a fresh Debian 12 machine:
#   make demo   build the lab LAN, sweep it, write the report, tear the lab down
#   make test   the whole test suite (unit tests + lab integration tests)
# Each does all its own set-up: Debian packages, a virtual environment, the package.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The scanner, the demo lab's services and the report's browser.
DEBS   := nmap tcpdump iproute2 openssh-server openssh-client vsftpd snmpd snmp socat \
          inetutils-telnetd chromium fonts-dejavu-core python3-venv procps
NEEDED := nmap tcpdump ip sshd vsftpd snmpd snmpget socat telnetd chromium
# Extra lab hosts for the scanner tests only (SMB, RDP, VNC, databases, mDNS, firewalled hosts).
# chromium-driver: the console's browser tests drive Debian's chromium through Selenium.
LAB_DEBS   := nftables samba xrdp tigervnc-standalone-server mariadb-server postgresql \
              redis-server avahi-daemon chromium-driver
LAB_NEEDED := nft smbd xrdp Xtigervnc mariadbd pg_ctlcluster redis-server avahi-daemon \
              chromedriver

.PHONY: demo test unit labtest lint bench deps labdeps venv clean

demo: deps venv
	$(VENV)/bin/secposture demo

test: deps labdeps venv
	$(PY) -m pytest -q -ra

unit: venv
	$(PY) -m pytest -q -ra tests/unit

labtest: deps labdeps venv
	$(PY) -m pytest -q -ra -m lab

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy secposture scanners inventory
	$(VENV)/bin/lint-imports

bench: deps venv
	$(PY) bench/run.py

# The lab runs every service inside its own network namespaces, so none may start in the
# root namespace at install time: a policy-rc.d that says "no" is in place while apt installs.
define apt_install
	@missing=""; for c in $(1); do PATH="$$PATH:/usr/sbin:/sbin" command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages (missing:$$missing)"; \
	  own_policy=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(2) >/dev/null; \
	  rc=$$?; [ -n "$$own_policy" ] && rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi
endef

deps:
	$(call apt_install,$(NEEDED),$(DEBS))

labdeps:
	$(call apt_install,$(LAB_NEEDED),$(LAB_DEBS))

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info out var tests/artifacts
