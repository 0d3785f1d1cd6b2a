"""The dashboard page: one HTML document that reads the JSON API and draws with plotly.

plotly (a pip dependency) draws the tree (zoom and pan for free, WebGL for large trees) and the
charts; its JavaScript is served from the installed package (`plotly/package_data/plotly.min.js`),
never copied into the repository. Its 4.8 MB take a second or more to parse, so the page first
draws a plain SVG draft of the tree from the API's layout and loads plotly after that paint. The page's own HTML and script live in `static/`. Served, the
page polls `/api/run` and redraws when its fingerprint changes; frozen (`dgm archive report`),
the API answers are inlined as `window.DGM_DATA` and plotly is inlined too, so the one file
needs nothing else.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"


@functools.cache
def plotly_js() -> bytes:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


def _template() -> str:
    from pygments.formatters import HtmlFormatter

    page = (STATIC / "page.html").read_text(encoding="utf-8")
    script = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    return page.replace("/*PYGMENTS*/", HtmlFormatter().get_style_defs(".hl")).replace("/*DASHBOARD_JS*/", script)


@functools.cache
def html() -> str:
    """The served page: data from the API; the page's script fetches /plotly.min.js after its
    first (draft) paint."""
    return _template().replace("<!--PLOTLY-->", "").replace("<!--DATA-->", "")   # the script loads plotly itself


def frozen(answers: dict[str, Any]) -> str:
    """The page with `answers` (API path -> JSON answer) and plotly inlined: one file, no server."""
    def inline(code: str) -> str:   # a script body must not close its own element
        return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)

    # JSON in a script element: '<' as \u003c, so no text from the run can end the element.
    data = json.dumps(answers, separators=(",", ":")).replace("<", "\\u003c")
    page = _template()
    page = page.replace("<!--PLOTLY-->", f"<script>{inline(plotly_js().decode('utf-8'))}</script>")
    return page.replace("<!--DATA-->", f"<script>window.DGM_DATA = {data};</script>")

