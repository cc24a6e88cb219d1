"""Network devices over SSH: netmiko collection, configuration structure, redaction, parsing."""
