"""Jinja2 templates (a package so that they ship in the wheel and load with importlib.resources)."""
