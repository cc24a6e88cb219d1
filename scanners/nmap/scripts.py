"""NSE script output → typed observations: the evidence the checks read, never a verdict.

python-nmap hands over each script's text output; the formats below are those of nmap 7.93's
scripts (recorded in tests/fixtures/nmap/). A script whose output cannot be read yields its raw
text under its kind rather than a guess, so a check sees "unreadable", not "safe".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from scanners.nmap.sharing import shared
from secposture.model.records import Observation

MAX_OUTPUT = 2000
VALID_COMMUNITY = re.compile(r"^\s*(\S+)\s+-\s+Valid credentials", re.MULTILINE)
SSH_SECTIONS = {
    "kex_algorithms": "kex",
    "server_host_key_algorithms": "host_key",
    "encryption_algorithms": "ciphers",
    "mac_algorithms": "macs",
    "compression_algorithms": "compression",
}
TLS_VERSION = re.compile(r"^\s{0,4}(SSLv[23]|TLSv1(?:\.[0-3])?):\s*$", re.MULTILINE)
CERT_FIELD = re.compile(r"^(Subject|Issuer|Not valid before|Not valid after|Public Key bits|"
                        r"Public Key type|Signature Algorithm):\s*(.*)$", re.MULTILINE)  # fmt: skip


def _indented_list(text: str, header: str) -> list[str]:
    """Items listed under ``header:`` (deeper-indented lines that follow it)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip().split(":")[0].strip() == header and line.strip().startswith(header):
            depth = len(line) - len(line.lstrip())
            items = []
            for item in lines[i + 1 :]:
                if not item.strip():
                    continue
                if len(item) - len(item.lstrip()) <= depth:
                    break
                items.append(item.strip())
            return items
    return []


def ssh_algorithms(text: str) -> dict[str, Any]:
    """ssh2-enum-algos: the algorithm lists the server offers, by kind."""
    return {short: _indented_list(text, name) for name, short in SSH_SECTIONS.items()}


def smb_dialects(text: str) -> dict[str, Any]:
    """smb-protocols: the dialects the server accepts; SMBv1 is 'NT LM 0.12'."""
    dialects = _indented_list(text, "dialects")
    smbv1 = any("NT LM 0.12" in d or "SMBv1" in d for d in dialects)
    return {"dialects": dialects, "smbv1": smbv1}


def vnc_security(text: str) -> dict[str, Any]:
    """vnc-info: protocol version and security types; type 1 ('None') asks no password."""
    types = _indented_list(text, "Security types")
    version = re.search(r"Protocol version:\s*(\S+)", text)
    no_auth = any(t.startswith("None") or t.endswith("(1)") for t in types)
    return {"version": version.group(1) if version else "", "security_types": types,
            "no_auth": no_auth}  # fmt: skip


def rdp_security(text: str) -> dict[str, Any]:
    """rdp-enum-encryption: which security layers the server accepts. Native RDP or SSL
    without CredSSP means a login screen is shown before any authentication (no NLA)."""
    layers = {}
    for item in _indented_list(text, "Security layer"):
        name, _, result = item.rpartition(":")
        layers[name.strip()] = result.strip() == "SUCCESS"
    nla = layers.get("CredSSP (NLA)", False)
    pre_auth = layers.get("Native RDP", False) or layers.get("SSL", False)
    return {"layers": layers, "nla_supported": nla, "nla_required": nla and not pre_auth}


def tls_ciphers(text: str) -> dict[str, Any]:
    """ssl-enum-ciphers: protocol versions offered and nmap's weakest grade."""
    grade = re.search(r"least strength:\s*(\S+)", text)
    return {"versions": TLS_VERSION.findall(text),
            "least_strength": grade.group(1) if grade else ""}  # fmt: skip


def tls_cert(text: str) -> dict[str, Any]:
    """ssl-cert: subject, issuer and validity dates as nmap prints them (ISO 8601)."""
    fields = {k.lower().replace(" ", "_"): v.strip() for k, v in CERT_FIELD.findall(text)}
    bits = fields.get("public_key_bits", "")
    subject = fields.get("subject", "")
    return {
        "subject": subject,
        "issuer": fields.get("issuer", ""),
        "not_before": fields.get("not_valid_before", ""),
        "not_after": fields.get("not_valid_after", ""),
        "key_type": fields.get("public_key_type", ""),
        "key_bits": int(bits) if bits.isdigit() else None,
        "signature": fields.get("signature_algorithm", ""),
        "self_signed": bool(subject) and subject == fields.get("issuer"),
    }


def netbios_name(text: str) -> dict[str, Any]:
    """nbstat: the NetBIOS computer name."""
    match = re.search(r"NetBIOS name:\s*([^,\s]+)", text)
    return {"name": match.group(1) if match else ""}


def _output_only(_text: str) -> dict[str, Any]:
    return {}


# script id → (observation kind, parser). Raw output is always kept beside the parsed facts.
PARSERS: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "ssh2-enum-algos": ("ssh.algorithms", ssh_algorithms),
    "smb-protocols": ("smb.protocols", smb_dialects),
    "vnc-info": ("vnc.security", vnc_security),
    "rdp-enum-encryption": ("rdp.security", rdp_security),
    "ssl-enum-ciphers": ("tls.ciphers", tls_ciphers),
    "ssl-cert": ("tls.cert", tls_cert),
    "mysql-info": ("database.info", _output_only),
    "ms-sql-info": ("database.info", _output_only),
    "mongodb-info": ("database.info", _output_only),
    "nbstat": ("netbios.name", netbios_name),
}


# What one port's script outputs read as, by those outputs (see ``observations_from_scripts``).
Evidence = tuple[tuple[str, str, dict[str, Any]], ...]
_read: dict[tuple[tuple[str, str], ...], Evidence] = {}
_read_chars = 0
MAX_READ = 4096  # distinct sets of script outputs remembered
MAX_READ_CHARS = 4_000_000


def observations_from_scripts(
    ip: str, port: int | None, proto: str | None, scripts: dict[str, str]
) -> list[Observation]:
    """Typed observations from NSE script output (the evidence the checks read).

    A LAN is many copies of few builds, so the same outputs come back host after host (4,000
    equal ssh2-enum-algos lists in a 10,000-host report): each distinct set of outputs is read
    once and its evidence shared, as records and their data are only ever read (issue #20).
    The table is bounded like :mod:`scanners.nmap.sharing`: when full it starts again.
    """
    global _read_chars
    if not scripts:
        return []
    key = tuple(sorted((str(k), str(v)) for k, v in scripts.items()))
    evidence = _read.get(key)
    if evidence is None:
        evidence = _evidence(scripts)
        size = sum(len(k) + len(v) for k, v in key)
        if len(_read) >= MAX_READ or _read_chars + size > MAX_READ_CHARS:
            _read.clear()
            _read_chars = 0
        _read[key] = evidence
        _read_chars += size
    return [
        Observation(kind=kind, ip=ip, port=port, proto=proto, source=source, data=data)
        for kind, source, data in evidence
    ]


def _evidence(scripts: dict[str, str]) -> Evidence:
    """Each observation's kind, source and data read from one port's script outputs."""
    out: list[tuple[str, str, dict[str, Any]]] = []

    def add(kind: str, source: str, **data: Any) -> None:
        out.append((kind, shared(source), {key: shared(value) for key, value in data.items()}))

    if "ftp-anon" in scripts:
        text = scripts["ftp-anon"]
        add(
            "ftp.anonymous",
            "nmap:ftp-anon",
            allowed="Anonymous FTP login allowed" in text,
            output=text.strip()[:MAX_OUTPUT],
        )
    if "http-title" in scripts:
        text = scripts["http-title"].strip()
        title = "" if text.startswith("Site doesn't have a title") else text.splitlines()[0]
        add("http.title", "nmap:http-title", title=title[:1000])
    if "http-auth" in scripts:
        add("http.auth", "nmap:http-auth", schemes=scripts["http-auth"].strip()[:1000])
    if "snmp-sysdescr" in scripts:
        add("snmp.sysdescr", "nmap:snmp-sysdescr", sysdescr=scripts["snmp-sysdescr"].strip()[:1000])
    if "snmp-brute" in scripts or "snmp-sysdescr" in scripts:
        valid = set(VALID_COMMUNITY.findall(scripts.get("snmp-brute", "")))
        if "snmp-sysdescr" in scripts:
            valid.add("public")  # snmp-sysdescr only answers when 'public' was accepted
        descr = scripts.get("snmp-sysdescr", "").strip()[:1000]
        for community in ("public", "private"):
            add(
                "snmp.community",
                "nmap:snmp-brute",
                community=community,
                accepted=community in valid,
                sysdescr=descr if community in valid else "",
            )
    for script_id, (kind, parse) in PARSERS.items():
        if script_id in scripts:
            text = scripts[script_id]
            add(kind, f"nmap:{script_id}", **parse(text), output=text.strip()[:MAX_OUTPUT])
    return tuple(out)
