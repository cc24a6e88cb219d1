"""Which addresses of a scope are alive: scapy ARP on attached segments, nmap host discovery."""
