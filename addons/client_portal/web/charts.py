"""Charts drawn on the server as SVG: no script, readable on a phone (the
SVG scales to its container), printed with the page. This computes the
geometry; templates/macros/charts.html draws it."""
import math
from decimal import Decimal
from typing import NamedTuple

WIDTH, HEIGHT = 640, 240
# Room for the value axis on the left and the labels below
LEFT, BOTTOM, TOP, RIGHT = 64, 28, 12, 8


class Bar(NamedTuple):
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


class Tick(NamedTuple):
    y: float
    label: str


class Label(NamedTuple):
    x: float
    text: str


def _nice_step(span, count=4):
    "A round step (1, 2 or 5 × 10^n) dividing span in about count parts"
    if span <= 0:
        return Decimal(1)
    raw = span / count
    power = Decimal(10) ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10


def _scale(values):
    "(low, high, step) of an axis showing every value and zero"
    low = min([Decimal(0), *values])
    high = max([Decimal(0), *values])
    step = _nice_step(high - low)
    low = (low / step).to_integral_value(rounding='ROUND_FLOOR') * step
    high = (high / step).to_integral_value(rounding='ROUND_CEILING') * step
    if high == low:
        high = low + step
    return low, high, step


class Chart:
    "The frame, the value axis and the category labels of a chart"

    def __init__(self, values, categories, number):
        self.width, self.height = WIDTH, HEIGHT
        self.low, self.high, step = _scale(values)
        plot = HEIGHT - TOP - BOTTOM
        self.unit = plot / float(self.high - self.low)
        self.zero = self.y(0)
        self.ticks = []
        value = self.low
        while value <= self.high:
            self.ticks.append(Tick(self.y(value), number(value)))
            value += step
        self.left, self.right = LEFT, WIDTH - RIGHT
        self.slot = (self.right - self.left) / max(1, len(categories))
        every = max(1, math.ceil(len(categories) / 12))
        self.labels = [Label(self.left + self.slot * (i + 0.5), text)
            for i, text in enumerate(categories) if i % every == 0]

    def y(self, value):
        return round(TOP + float(self.high - Decimal(value)) * self.unit, 1)


def bars(series, categories, number, titles):
    """A grouped bar chart: series is a list of value lists (one value per
    category); titles[s][i] is a bar's tooltip (and its accessible text)"""
    chart = Chart([v for values in series for v in values], categories,
        number)
    width = chart.slot * 0.8 / max(1, len(series))
    chart.bars = []
    for s, values in enumerate(series):
        for i, value in enumerate(values):
            top = chart.y(max(value, 0))
            bottom = chart.y(min(value, 0))
            chart.bars.append(Bar(
                    round(chart.left + chart.slot * (i + 0.1) + width * s, 1),
                    top, round(width, 1), round(max(bottom - top, 0.5), 1),
                    s, titles[s][i]))
    return chart


def line(points, categories, number):
    """A line chart of values (one per category), as the polyline's points
    and the last point's position"""
    chart = Chart(points, categories, number)
    coordinates = [(round(chart.left + chart.slot * (i + 0.5), 1),
            chart.y(value)) for i, value in enumerate(points)]
    chart.points = ' '.join(f'{x},{y}' for x, y in coordinates)
    chart.dots = coordinates
    return chart
