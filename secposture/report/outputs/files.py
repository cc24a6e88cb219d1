"""Where the report writers lived before issue #12's split, kept only for the golden test.

``tests/golden/test_golden.py`` (frozen while the layout changes) imports these two names from
here; once its import reads ``secposture.report.outputs.html`` / ``.json``, delete this module.
"""

from secposture.report.outputs.html import render_html
from secposture.report.outputs.json import findings_document

__all__ = ["findings_document", "render_html"]
