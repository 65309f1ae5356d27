"""The forest plots of subtype, therapy and regimen pages (server-side SVG): response rates,
and median progression-free and overall survival in months.

One row per reported value, grouped by regimen: the figure as a point (for a rate, the
95% interval as a line where the build derived one, dashed and labelled "derived": the
sources print none; a median has none), the printed N as text, a value on fewer than 10 patients flagged in
words and colour, the review by the marker's shape and table or text by its fill. The layout
is computed here; ``templates/forest.html`` draws it in a ``viewBox`` 400 units wide, so that
it scales to the page's width (a 390 px phone included) with no label clipped: long regimen
and study names wrap onto several lines.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["MONTHS", "PERCENT", "Axis", "ForestRow", "forest_plot", "forest_rows"]

#: The width of the drawing, in viewBox units.
WIDTH = 400
_PLOT_LEFT, _PLOT_RIGHT = 14.0, 296.0
_N_X = 312.0
_GROUP_LINE, _CAPTION_LINE, _POINT_ROW = 15, 13, 18
_GROUP_CHARS, _CAPTION_CHARS = 56, 66
_TOP = 26
#: The marker shape of each review, in the order of the reviews' labels.
_SHAPES = ("circle", "square", "diamond", "triangle")


@dataclass(frozen=True)
class Axis:
    """The scale of a forest plot.

    :param suffix: what follows a tick's number ("%", " mo")
    :param step: the distance between ticks
    :param maximum: the scale's end (None: the largest figure, up to the next tick)
    """

    suffix: str
    step: int
    maximum: int | None = None


#: Response rates: 0 to 100%.
PERCENT = Axis("%", 25, 100)
#: Medians in months: 0 to the largest, by 6 months.
MONTHS = Axis(" mo", 6)


@dataclass(frozen=True)
class ForestRow:
    """One reported value.

    :param measurement: the measurement's IRI
    :param regimen: the regimen's IRI
    :param regimen_label: its label
    :param figure: the number written in the value (percent for a rate, months for a median)
    :param value: the value as printed
    :param population: the population as written
    :param study: the study's IRI
    :param study_label: its label
    :param review_label: the review's label
    :param location: the part of the review ("text", "Table 2")
    :param numerator: the printed count with the outcome, if printed
    :param denominator: the printed N, if printed
    :param lower: the derived interval's lower bound (percent), if derived
    :param upper: its upper bound
    :param level: its confidence level (0.95)
    :param small_group: True when the value is on fewer than 10 patients (or a case report)
    :param small_group_size: the printed N it was flagged by, if any
    """

    measurement: str
    regimen: str
    regimen_label: str
    figure: Decimal
    value: str
    population: str
    study: str
    study_label: str
    review_label: str
    location: str
    numerator: int | None = None
    denominator: int | None = None
    lower: Decimal | None = None
    upper: Decimal | None = None
    level: Decimal | None = None
    small_group: bool = False
    small_group_size: int | None = None

    @property
    def from_table(self) -> bool:
        """True when the value is printed in a table of the review (not its text)."""
        return self.location.casefold().startswith("table")

    @property
    def review_short(self) -> str:
        """The review's label without its parenthesised description ("Wu 2025"); the legend names it in full."""
        return self.review_label.split(" (", 1)[0]

    @property
    def n_text(self) -> str:
        """The N as shown: the printed denominator, else the N the small-group flag read, else unknown."""
        if self.denominator is not None:
            return f"N {self.denominator}"
        if self.small_group_size is not None:
            return f"N {self.small_group_size}*"
        return "N ?"

    @property
    def interval_text(self) -> str:
        """The derived interval in words ("" where none was derived)."""
        if self.lower is None or self.upper is None:
            return ""
        level = f"{(self.level * 100).normalize():f}%" if self.level is not None else ""
        return f"{level} CI {self.lower:g}–{self.upper:g}% (derived from {self.numerator}/{self.denominator})"


def _optional(row: dict[str, str], name: str, kind: type) -> Any:
    return kind(row[name]) if name in row else None


def forest_rows(rows: list[dict[str, str]]) -> list[ForestRow]:
    """Turn the rows of the ``forest-response`` page query into :class:`ForestRow` values.

    :param rows: the query's rows (plain strings)
    :returns: one value per measurement (a measurement with several regimens or evidence
        nodes appears once per regimen and source)
    """
    seen: dict[tuple[str, str, str, str], ForestRow] = {}
    for row in rows:
        key = (row["measurement"], row["regimen"], row["reviewLabel"], row["location"])
        if key in seen:
            continue
        seen[key] = ForestRow(
            measurement=row["measurement"], regimen=row["regimen"], regimen_label=row["regimenLabel"],
            figure=Decimal(row["figure"]), value=row["value"], population=row["population"], study=row["study"],
            study_label=row["studyLabel"], review_label=row["reviewLabel"], location=row["location"],
            numerator=_optional(row, "numerator", int), denominator=_optional(row, "denominator", int),
            lower=_optional(row, "lower", Decimal), upper=_optional(row, "upper", Decimal),
            level=_optional(row, "level", Decimal), small_group=row.get("smallGroup") in {"true", "1"},
            small_group_size=_optional(row, "smallGroupSize", int))
    return list(seen.values())


def forest_plot(rows: list[ForestRow], *, axis: Axis = PERCENT, title: str = "Objective response rates by regimen",
                key: str = "orr") -> dict[str, Any]:
    """Lay out a forest plot: regimen groups, then one row per value, with the axis and legend.

    :param rows: the values, in the order to draw them within each regimen
    :param axis: the scale (percent by default)
    :param title: the plot's title (its SVG ``<title>``)
    :param key: a name unique on the page (the ids of its title and description)
    :returns: the layout ``templates/forest.html`` draws (positions in viewBox units)
    """
    largest = max((float(row.figure) for row in rows), default=0.0)
    step = axis.step
    while axis.maximum is None and largest / step > 6:  # at most about six ticks fit a phone's width
        step *= 2
    maximum = axis.maximum or max(step, math.ceil(largest / step) * step)

    def _x(figure: Decimal | float) -> float:
        clamped = min(max(float(figure), 0.0), float(maximum))
        return round(_PLOT_LEFT + (_PLOT_RIGHT - _PLOT_LEFT) * clamped / maximum, 2)

    reviews = sorted({row.review_label for row in rows})
    shapes = {review: _SHAPES[min(index, len(_SHAPES) - 1)] for index, review in enumerate(reviews)}
    groups: dict[str, list[ForestRow]] = {}
    for row in rows:
        groups.setdefault(row.regimen_label, []).append(row)
    y = _TOP
    drawn_groups, drawn_rows = [], []
    for label in sorted(groups, key=str.casefold):
        members = groups[label]
        lines = textwrap.wrap(label, _GROUP_CHARS) or [label]
        drawn_groups.append({"label": label, "href": members[0].regimen, "lines": lines, "y": y + 11,
                             "line_height": _GROUP_LINE})
        y += _GROUP_LINE * len(lines) + 2
        for row in members:
            study_lines = textwrap.wrap(row.study_label, _CAPTION_CHARS) or [row.study_label]
            details = " · ".join(part for part in (
                f"{row.value} ({row.population})", f"{row.review_short}, {row.location}", row.interval_text) if part)
            detail_lines = textwrap.wrap(details, _CAPTION_CHARS)
            merged = len(study_lines[-1]) + 3 + len(detail_lines[0]) <= _CAPTION_CHARS if detail_lines else False
            if merged:
                first_detail = detail_lines.pop(0)
                merged_detail = first_detail
            else:
                merged_detail = ""
            caption_top = y + 10
            point_y = caption_top + _CAPTION_LINE * (len(study_lines) + len(detail_lines) - 1) + 12
            drawn_rows.append({
                "row": row, "study_lines": study_lines, "merged_detail": merged_detail, "detail_lines": detail_lines,
                "caption_y": caption_top, "line_height": _CAPTION_LINE, "y": point_y,
                "x": _x(row.figure), "x_lower": _x(row.lower) if row.lower is not None else None,
                "x_upper": _x(row.upper) if row.upper is not None else None,
                "shape": shapes[row.review_label], "filled": row.from_table,
                "title": f"{row.regimen_label}: {row.value} ({row.population}); {row.study_label}; "
                         f"{row.review_label}, {row.location}; {row.n_text}"
                         + (f"; {row.interval_text}" if row.interval_text else "")
                         + ("; fewer than 10 patients" if row.small_group else ""),
            })
            y = point_y + _POINT_ROW - 8
        y += 6
    height = y + 24
    ticks = [{"x": _x(tick), "label": f"{tick}{axis.suffix}"} for tick in range(0, maximum + 1, step)]
    legend = [{"review": review, "shape": shapes[review]} for review in reviews]
    return {"width": WIDTH, "height": height, "top": _TOP - 6, "bottom": height - 20, "ticks": ticks,
            "groups": drawn_groups, "rows": drawn_rows, "legend": legend, "n_x": _N_X,
            "derived": any(row.lower is not None for row in rows), "small": any(row.small_group for row in rows),
            "count": len(rows), "title": title, "key": key, "median": axis is not PERCENT}
