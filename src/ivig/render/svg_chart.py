"""An SVG chart of one infusion day: pump rate (mL/h) and cumulative volume (mL) against time.

A pure function of the plan's stable JSON (``ivig.render.plan_json.plan_to_dict``): the same
SVG is shown on the web page and printed in the PDF. It computes nothing clinical; it only draws
the numbers the engine already produced. Text is escaped; the chart has a ``<title>`` and a
``<desc>`` (read by screen readers) that say in words what the lines show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

WIDTH = 640
HEIGHT = 300
LEFT = 62
RIGHT = 66
TOP = 24
BOTTOM = 52

RATE_COLOUR = "#0b4f8a"
VOLUME_COLOUR = "#a4000f"

LABELS = {
    "en": {
        "title": "Day {day}: pump rate and volume infused over time",
        "desc": (
            "Step line (blue, left axis): pump rate in mL/h, from {first} to {top} mL/h. "
            "Dashed line (red, right axis): cumulative volume in mL, reaching {total} mL "
            "after {minutes} minutes."
        ),
        "time": "Time since start (min)",
        "rate": "Pump rate (mL/h)",
        "volume": "Volume infused (mL)",
        "empty": "No steps to draw",
    },
    "es": {
        "title": "Día {day}: velocidad de la bomba y volumen infundido en el tiempo",
        "desc": (
            "Línea escalonada (azul, eje izquierdo): velocidad de la bomba en mL/h, de {first} "
            "a {top} mL/h. Línea discontinua (roja, eje derecho): volumen acumulado en mL, "
            "que llega a {total} mL a los {minutes} minutos."
        ),
        "time": "Tiempo desde el inicio (min)",
        "rate": "Velocidad de la bomba (mL/h)",
        "volume": "Volumen infundido (mL)",
        "empty": "No hay pasos que dibujar",
    },
}


def _nice_ceiling(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= value:
            return factor * power
    return 10 * power


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def day_chart_svg(day: Mapping[str, Any], language: str = "en", *, chart_id: str = "") -> str:
    """The SVG for one day of ``plan_to_dict(...)["days"]``."""
    words = LABELS["es" if language.startswith("es") else "en"]
    number = day.get("day", 1)
    ident = escape(chart_id or f"chart-day-{number}")
    steps: Sequence[Mapping[str, Any]] = day.get("steps") or []
    title = words["title"].format(day=number)
    if not steps:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} 60" '
            f'aria-labelledby="{ident}-title"><title id="{ident}-title">{escape(title)}</title>'
            f'<text x="10" y="35">{escape(words["empty"])}</text></svg>'
        )
    total_min = max(float(s.get("end_min") or 0) for s in steps) or 1.0
    top_rate = max(float(s.get("rate_ml_h") or 0) for s in steps)
    total_ml = float(steps[-1].get("cumulative_ml") or 0)
    x_max = _nice_ceiling(total_min)
    rate_max = _nice_ceiling(top_rate * 1.1)
    volume_max = _nice_ceiling(total_ml * 1.05)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(minutes: float) -> float:
        return LEFT + plot_w * minutes / x_max

    def y_rate(rate: float) -> float:
        return TOP + plot_h * (1 - rate / rate_max)

    def y_volume(volume: float) -> float:
        return TOP + plot_h * (1 - volume / volume_max)

    parts: list[str] = []
    desc = words["desc"].format(
        first=_fmt(float(steps[0].get("rate_ml_h") or 0)),
        top=_fmt(top_rate),
        total=_fmt(total_ml),
        minutes=_fmt(total_min),
    )
    parts.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="plan-chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="DejaVu Sans, sans-serif" '
        f'font-size="11">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )
    # Grid and axes.
    parts.append('<g stroke="#d0d5da" stroke-width="1">')
    for i in range(5):
        gy = TOP + plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{gy:.1f}" x2="{LEFT + plot_w}" y2="{gy:.1f}"/>')
    parts.append("</g>")
    parts.append(
        f'<g stroke="#1a1a1a" stroke-width="1.2" fill="none">'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>'
        f'<line x1="{LEFT + plot_w}" y1="{TOP}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/></g>'
    )
    # Tick labels.
    parts.append('<g fill="#1a1a1a">')
    for i in range(5):
        fraction = i / 4
        gy = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<text x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end" fill="{RATE_COLOUR}">'
            f"{_fmt(rate_max * fraction)}</text>"
        )
        parts.append(
            f'<text x="{LEFT + plot_w + 6}" y="{gy + 4:.1f}" fill="{VOLUME_COLOUR}">'
            f"{_fmt(volume_max * fraction)}</text>"
        )
        gx = LEFT + plot_w * fraction
        parts.append(
            f'<text x="{gx:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
            f"{_fmt(x_max * fraction)}</text>"
        )
    parts.append("</g>")
    # Axis titles.
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
        f'font-size="12">{escape(words["time"])}</text>'
        f'<text transform="translate(16 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
        f'font-size="12" fill="{RATE_COLOUR}">{escape(words["rate"])}</text>'
        f'<text transform="translate({WIDTH - 12} {TOP + plot_h / 2:.1f}) rotate(90)" '
        f'text-anchor="middle" font-size="12" fill="{VOLUME_COLOUR}">'
        f"{escape(words['volume'])}</text>"
    )
    # Rate: a step line.
    points: list[str] = []
    for s in steps:
        rate = float(s.get("rate_ml_h") or 0)
        start = float(s.get("start_min") or 0)
        end = float(s.get("end_min") or 0)
        points.append(f"{x(start):.1f},{y_rate(rate):.1f}")
        points.append(f"{x(end):.1f},{y_rate(rate):.1f}")
    parts.append(
        f'<polyline fill="none" stroke="{RATE_COLOUR}" stroke-width="2.5" '
        f'points="{" ".join(points)}"/>'
    )
    # Cumulative volume: straight within each step (constant rate).
    volume_points = [f"{x(0):.1f},{y_volume(0):.1f}"]
    for s in steps:
        volume_points.append(
            f"{x(float(s.get('end_min') or 0)):.1f},"
            f"{y_volume(float(s.get('cumulative_ml') or 0)):.1f}"
        )
    parts.append(
        f'<polyline fill="none" stroke="{VOLUME_COLOUR}" stroke-width="2" stroke-dasharray="6 4" '
        f'points="{" ".join(volume_points)}"/>'
    )
    # Rate labels on each step.
    for s in steps:
        rate = float(s.get("rate_ml_h") or 0)
        start = float(s.get("start_min") or 0)
        parts.append(
            f'<text x="{x(start) + 3:.1f}" y="{y_rate(rate) - 5:.1f}" fill="{RATE_COLOUR}" '
            f'font-size="10">{_fmt(rate)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def plan_chart_svgs(plan: Mapping[str, Any], language: str = "en", prefix: str = "") -> list[str]:
    """One chart per day of the plan dict."""
    return [
        day_chart_svg(day, language, chart_id=f"{prefix}chart-day-{day.get('day', i + 1)}")
        for i, day in enumerate(plan.get("days") or [])
    ]
