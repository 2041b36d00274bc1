"""The look the reader sees, one home for every renderer: attainment bands and branding.

* :func:`attainment_bands` -- the attainment colour bands of the performance policy
  (params ``performance.miss_below``): the workbooks' conditional formats and the
  HTML tables' cell colours come from this one function, so both colour as a miss
  exactly the quarters the report calls a miss; :func:`band_colour` picks a
  value's band.
* :data:`LABEL_CELL_CSS` -- a table's label column never wraps (HTML and PDF alike);
  :data:`ONE_LINE_CLASS` -- in print, neither does a cell of one word (a date, an id, an amount);
  :data:`ONE_LINE_CSS` the same on screen; :data:`SENTENCE_COLUMN_CSS` -- a column of sentences keeps room to read.
* :class:`Branding` (params ``branding``, :class:`reportkit.config.params.Branding`)
  -- company name, logo and accent colour; :func:`branding_of` gives a report's
  (the default look when the params have none), :func:`logo_data_uri` the logo for
  an HTML page. The HTML header (:func:`reportkit.render.notebook.heading`), the
  workbooks (:mod:`reportkit.render.excel.formats`: header fill, title colour,
  *Company* property) and the PDF's running header read these.

Display only: nothing here computes money.
"""

from __future__ import annotations

import base64
import math
import numbers
from typing import Any

from ..config.params import Branding, PerformancePolicy
from .cell_kinds import is_missing

__all__ = [
    "LABEL_CELL_CSS",
    "ONE_LINE_CLASS",
    "ONE_LINE_MAX_CHARS",
    "ONE_LINE_CSS",
    "SENTENCE_COLUMN_CSS",
    "SENTENCE_MIN_CHARS",
    "is_one_word",
    "is_sentence",
    "DEFAULT_MISS_BELOW",
    "QUOTA_MET",
    "Branding",
    "attainment_bands",
    "band_colour",
    "band_legend",
    "is_attainment_key",
    "header_fill",
    "branding_of",
    "logo_data_uri",
]

LABEL_CELL_CSS = "white-space:nowrap"
"""A table's first column (its labels: an item, a name, an id) never wraps; a long value
beside it (a rule in words) wraps instead. One rule for the HTML tables
(:meth:`reportkit.render.notebook.Table.to_html`, inline on each first-column cell) and
the PDF's stylesheet (``td:first-child`` in :mod:`reportkit.render.pdf`)."""

ONE_LINE_CLASS = "reportkit-one-line"
"""The print body's class of a table cell that never wraps: one word, a date, an id, an amount or a
percentage (:data:`ONE_LINE_MAX_CHARS` characters at most, no space), as ``2025-03-31``, ``D-01339``,
``-$1,234,567.50``, ``Mid-Market``. Chromium breaks such a word after a hyphen in a narrow column
(``2025-03-`` / ``31``); a cell with a space still wraps there, so the table keeps the page's width.
Set by :func:`reportkit.render.pdf.print_document`, styled by its stylesheet; the HTML page's cells carry
:data:`ONE_LINE_CSS` inline by the same rule (:func:`is_one_word`)."""
ONE_LINE_MAX_CHARS = 24
"""The longest word :data:`ONE_LINE_CLASS` keeps on one line (a longer one, a URL say, may still break)."""
ONE_LINE_CSS = "white-space:nowrap"
"""On screen, a table cell of one word (:func:`is_one_word`) carries this inline: the HTML page's rule
for what :data:`ONE_LINE_CLASS` does in print (a date is never ``2025-12-`` over ``03``)."""
SENTENCE_COLUMN_CSS = "min-width:12em"
"""On screen, the header of a text column holding sentences (:func:`is_sentence`: a status reason, a
rule in words) carries this inline, so a table of many columns gives it room to read (about three
lines for a status reason) and scrolls sideways in its box where the window is narrower, rather than
squeezing it to a word a line. Print sets its own widths (``min-width: 0`` in
:mod:`reportkit.render.pdf`'s stylesheet: the page is as wide as it is)."""


def is_one_word(text: str) -> bool:
    """Whether a cell's text is one word kept on one line: no space, 1 to :data:`ONE_LINE_MAX_CHARS` characters."""
    return 0 < len(text) <= ONE_LINE_MAX_CHARS and not any(ch.isspace() for ch in text)


SENTENCE_MIN_CHARS = 40
"""A cell's text at least this long, with spaces, is a sentence (:func:`is_sentence`)."""


def is_sentence(text: str) -> bool:
    """Whether a cell's text is a sentence: :data:`SENTENCE_MIN_CHARS` characters or more, with spaces."""
    return len(text) >= SENTENCE_MIN_CHARS and any(ch.isspace() for ch in text)


_MISS, _SHORT, _MET = "#F8D7DA", "#FFF3CD", "#D4EDDA"  # red, amber, green fills
QUOTA_MET = 1.0
"""Attainment at which quota is met (the green band starts here, or at the miss threshold if higher)."""
DEFAULT_MISS_BELOW = PerformancePolicy.model_fields["miss_below"].default
"""The params default of ``performance.miss_below`` (0.9)."""
DEFAULT_HEADER_FILL = "#E2E8F0"
"""The workbooks' header fill without branding."""


def attainment_bands(miss_below: float = DEFAULT_MISS_BELOW) -> tuple[tuple[float | None, float | None, str], ...]:
    """Colour bands of attainment cells: ``(low inclusive, high exclusive, fill)``.

    The bands follow the performance policy, so a report colours as a miss
    exactly the quarters it calls a miss:

    * red: attainment ``< miss_below`` (a miss, see :mod:`reportkit.domain.performance`);
    * amber: ``miss_below <= attainment < 1.0`` (no miss, quota not met; absent
      when ``miss_below >= 1.0``);
    * green: ``attainment >= max(1.0, miss_below)`` (quota met and no miss).

    Parameters
    ----------
    miss_below : float, default 0.9
        Params ``performance.miss_below``: attainment fraction (1.0 == 100 %)
        below which a quarter is a miss; finite and >= 0.

    Returns
    -------
    tuple of (float or None, float or None, str)
        Disjoint bands in order; ``None`` is an open end.

    Raises
    ------
    ValueError
        ``miss_below`` is not a finite number >= 0.

    >>> attainment_bands(0.8)
    ((None, 0.8, '#F8D7DA'), (0.8, 1.0, '#FFF3CD'), (1.0, None, '#D4EDDA'))
    >>> attainment_bands(1.1)
    ((None, 1.1, '#F8D7DA'), (1.1, None, '#D4EDDA'))
    """
    if (
        isinstance(miss_below, bool)
        or not isinstance(miss_below, numbers.Real)
        or not math.isfinite(miss_below)
        or miss_below < 0
    ):
        raise ValueError(
            f"miss_below must be a finite attainment fraction >= 0 (params performance.miss_below), got {miss_below!r}"
        )
    m = float(miss_below)
    bands: list[tuple[float | None, float | None, str]] = [(None, m, _MISS)]
    if m < QUOTA_MET:
        bands.append((m, QUOTA_MET, _SHORT))
    bands.append((max(m, QUOTA_MET), None, _MET))
    return tuple(bands)


def band_colour(attainment: Any, miss_below: float = DEFAULT_MISS_BELOW) -> str | None:
    """The fill of one attainment value's band, or None when it is undefined (``n/a``: no colour).

    >>> band_colour(0.85), band_colour(0.95), band_colour(1.0), band_colour(float("nan"))
    ('#F8D7DA', '#FFF3CD', '#D4EDDA', None)
    """
    if is_missing(attainment):
        return None
    try:
        x = float(attainment)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    for lo, hi, colour in attainment_bands(miss_below):
        if (lo is None or x >= lo) and (hi is None or x < hi):
            return colour
    return None


def is_attainment_key(name: str) -> bool:
    """Whether a column or summary key holds an attainment (coloured by its band).

    >>> is_attainment_key("ytd_attainment"), is_attainment_key("attainment"), is_attainment_key("pace")
    (True, True, False)
    """
    return str(name) == "attainment" or str(name).endswith("_attainment")


def band_legend(miss_below: float = DEFAULT_MISS_BELOW) -> str:
    """The bands in words, for a legend under the coloured cells.

    >>> band_legend(0.9)
    'Attainment colours: red below 90 % (a miss), amber from 90 % to under 100 % (below quota), green from 100 % (quota met).'
    """

    def pct(x: float) -> str:
        return f"{x * 100:.4g} %"

    words = []
    for lo, hi, colour in attainment_bands(miss_below):
        name = {_MISS: "red", _SHORT: "amber", _MET: "green"}[colour]
        what = {_MISS: "a miss", _SHORT: "below quota", _MET: "quota met"}[colour]
        if lo is None:
            words.append(f"{name} below {pct(hi)} ({what})")
        elif hi is None:
            words.append(f"{name} from {pct(lo)} ({what})")
        else:
            words.append(f"{name} from {pct(lo)} to under {pct(hi)} ({what})")
    return "Attainment colours: " + ", ".join(words) + "."


def branding_of(report_or_params: Any) -> Branding:
    """The branding a report (or params) carries; the default look when it has none."""
    b = getattr(report_or_params, "branding", None)
    return b if isinstance(b, Branding) else Branding()


def logo_data_uri(branding: Branding) -> str | None:
    """The logo as a ``data:`` URI for an HTML page (no path reaches the reader), or None without a logo."""
    if branding.logo is None:
        return None
    data = branding.logo.read_bytes()
    mime = "image/svg+xml" if branding.logo.suffix.lower() == ".svg" or not data.startswith(b"\x89PNG") else "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def header_fill(branding: Branding | None) -> str:
    """The workbooks' header fill: the accent colour lightened to a pale tint (text stays readable)."""
    if branding is None or "accent" not in branding.model_fields_set:
        return DEFAULT_HEADER_FILL
    rgb = [int(branding.accent[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * 0.8):02X}" for c in rgb)
