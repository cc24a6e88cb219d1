"""The agency's configuration: TOML sections validated on load, secrets only by reference."""
