# The two commands a newcomer runs as root on a fresh Debian 12 machine:
#   make demo   build the lab LAN, sweep it, write the report, tear the lab down
#   make test   the whole test suite (unit tests + lab integration tests)
# Each does all its own set-up: Debian packages, a virtual environment, the package.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
DEBS   := nmap tcpdump iproute2 openssh-server openssh-client vsftpd snmpd snmp socat \
          inetutils-telnetd chromium fonts-dejavu-core python3-venv procps \
          nftables samba xrdp tigervnc-standalone-server mariadb-server postgresql \
          redis-server avahi-daemon
# Commands whose presence says the Debian packages are in place.
NEEDED := nmap tcpdump ip sshd vsftpd snmpd snmpget socat telnetd chromium \
          nft smbd xrdp Xtigervnc mariadbd pg_ctlcluster redis-server avahi-daemon

.PHONY: demo test unit labtest lint bench deps venv clean

demo: deps venv
	$(VENV)/bin/secposture demo

test: deps venv
	$(PY) -m pytest -q -ra

unit: venv
	$(PY) -m pytest -q -ra tests/unit

labtest: deps venv
	$(PY) -m pytest -q -ra -m lab

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy secposture scanners inventory

bench: deps venv
	$(PY) bench/run.py

deps:
	@missing=""; for c in $(NEEDED); do PATH="$$PATH:/usr/sbin:/sbin" command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages (missing:$$missing)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBS) >/dev/null; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info out var tests/artifacts
