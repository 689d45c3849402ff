"""One self-contained HTML report of an experiment (``sanshe report``).

The file opens offline: styles are inline, figures are embedded as base64 PNG, the glyphs of its
Chinese text (三社联动, street names) are embedded as a font cut from the bundled CJK subset
(:func:`sim.analysis.fonts.css_font_face`), and it loads no script, font or stylesheet.
Three modules:

* :mod:`sim.analysis.report.pipeline` — what is computed: comparisons, figures, sensitivity and
  calibration checks, gathered into a :class:`~sim.analysis.report.pipeline.ReportData`;
* :mod:`sim.analysis.report.sections` — each section's HTML from that data;
* :mod:`sim.analysis.report.html` — the page: styles, escaping, layout.

Sections (HTML ids) are listed in :data:`SECTIONS`. What each setting *is* (reference, focus,
ablations, levers added alone) comes from the roles stored in the results' manifest, never from
scenario names.
"""

from sim.analysis.report.data import ReportData
from sim.analysis.report.pipeline import SECTIONS, build_report

__all__ = ["SECTIONS", "ReportData", "build_report"]
