"""The typed records every layer shares, the exit codes and the message catalogue.

A leaf package (as sslyze keeps its shared types): it imports nothing of the project, so the
scanners, the inventory and the judge can all use it without importing each other."""
