"""The geometry of the app page's bar chart of calls per day; the template draws it as SVG.

Numbers only: positions and sizes in the SVG's own units (its viewBox), so the chart scales with
the page and needs no style attributes.
"""
from __future__ import annotations

from dataclasses import dataclass

from webapp.services.usage.queries import DailyCalls

WIDTH, HEIGHT = 600, 170
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 24
BAR_SHARE = 0.7  # of each day's slot; the rest is the gap between bars
LABEL_EVERY = 7  # days between two day labels, counted back from today
MIN_BAR = 1.0  # a day with calls is never drawn as no bar, however small its share


@dataclass(frozen=True)
class Bar:
    day: DailyCalls
    x: float
    y: float
    width: float
    height: float
    centre: float
    labelled: bool  # whether the day is written under the axis


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    right: int
    baseline: float
    label_y: float
    top_calls: int  # the value at the top of the scale
    bars: list[Bar]
    ticks: list[Tick]


def scale_top(calls: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `calls` (1 when nothing)."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= calls:
                return step * top
        top *= 10


def bar_chart(daily: list[DailyCalls]) -> BarChart:
    top = scale_top(max((day.calls for day in daily), default=0))
    baseline = HEIGHT - BOTTOM
    plot_height = baseline - TOP
    slot = (WIDTH - LEFT - RIGHT) / max(len(daily), 1)
    bars = []
    for index, day in enumerate(daily):
        height = plot_height * day.calls / top
        if day.calls:
            height = max(height, MIN_BAR)
        x = LEFT + index * slot + slot * (1 - BAR_SHARE) / 2
        bars.append(Bar(day=day, x=round(x, 2), y=round(baseline - height, 2),
                        width=round(slot * BAR_SHARE, 2), height=round(height, 2),
                        centre=round(LEFT + (index + 0.5) * slot, 2),
                        labelled=(len(daily) - 1 - index) % LABEL_EVERY == 0))
    values = [0, top // 2, top] if top % 2 == 0 else [0, top]
    ticks = [Tick(value, round(baseline - plot_height * value / top, 2)) for value in values]
    return BarChart(width=WIDTH, height=HEIGHT, left=LEFT, right=WIDTH - RIGHT,
                    baseline=baseline, label_y=HEIGHT - 6, top_calls=top, bars=bars, ticks=ticks)
