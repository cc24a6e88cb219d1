"""nmap through python-nmap: scan profiles, running nmap, parsing its XML, importing reports."""
