"""report.html: the agency report as one self-contained page.

Everything shown may have come off the network (banners, page titles, hostnames), so text is
made safe in one place: the Jinja environment's ``finalize`` hook shows control and bidi
characters as ``[U+XXXX]``, and autoescape makes every value text, never markup.

The page holds exactly one script, the inventory table's sort and filter
(``templates/agency/_inventory_table.js.j2``, ours, never network text), and its
Content-Security-Policy allows that script by its SHA-256 and nothing else: no other script, no
inline event handler, no fetch of any kind.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from secposture import __version__
from secposture.config.sections import AgencyConfig, Lang
from secposture.model.i18n import t
from secposture.model.records import Finding, SweepResult, utcnow
from secposture.model.score import Score
from secposture.report.view.build import build_view
from secposture.report.view.context import ReportContext
from secposture.report.view.text import visible_text

SCRIPT_TEMPLATE = "agency/_inventory_table.js.j2"


def render_html(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    config: AgencyConfig,
    lang: str,
    *,
    generated: datetime | None = None,
    context: ReportContext | None = None,
) -> str:
    """report.html as text: self-contained, one hashed script, no external resource.

    ``context`` adds what the sweep alone does not hold (posture, trend, changes, device
    history); each part left out is shown as not available."""
    lang = Lang(lang).value
    view = build_view(
        result, findings, score, config, lang, generated or utcnow(), context or ReportContext()
    )
    script, _ = inventory_script()
    template = environment().get_template("agency/report.html.j2")
    return template.render(
        view=view,
        lang=lang,
        t=translator(lang),
        version=__version__,
        script=script,
        csp=content_security_policy(),
    )


def content_security_policy() -> str:
    """The report's Content-Security-Policy: nothing may be fetched, no form sent, no base
    changed, and the only script that may run is the inventory table's, by its hash (which
    also forbids inline event handlers: a hash source never allows them)."""
    _, digest = inventory_script()
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {digest}; base-uri 'none'; form-action 'none'"
    )


@cache
def inventory_script() -> tuple[Markup, str]:
    """The inventory table's script and its CSP source (``'sha256-…'``).

    It is our own static file, not a template and never network text, so it goes into the
    page as it is; the hash lets the browser run exactly these bytes and nothing else."""
    text = resources.files("templates").joinpath(SCRIPT_TEMPLATE).read_text("utf-8")
    if "</" in text:  # would end the <script> element early
        raise ValueError(f"{SCRIPT_TEMPLATE} must not contain '</'")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"'sha256-{digest}'"  # noqa: S704 - our static file, see docstring


@cache
def environment() -> Environment:
    """The Jinja environment of every page we write (the agency report, the province's):
    autoescape on, undefined names an error, every value through :func:`_finalize`."""
    return Environment(
        loader=FileSystemLoader(str(resources.files("templates"))),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _finalize(value: object) -> object:
    # Every {{ … }} passes here before autoescape, so no field, present or future, can bring
    # control or bidi-override characters into the page.
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_text(value)
    return value


def translator(lang: str) -> Callable[..., str]:
    """The templates' ``t(key, **params)``: message ``key`` in ``lang``."""

    def translate(key: str, **params: object) -> str:
        return t(key, lang, **params)

    return translate
