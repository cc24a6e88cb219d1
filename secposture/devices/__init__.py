"""Network-device configurations: redaction, facts for the ``dev.*`` checks, software lifecycle.

Pure functions over text: nothing here opens a connection (``scanners.devices`` does that).
"""
