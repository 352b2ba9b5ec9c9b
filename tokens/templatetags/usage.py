"""Usage pictures, drawn on the server as SVG (no script, no CDN): a credential's requests per
bucket split by success and error, and a 24 h sparkline for list rows. Each says in words what
it shows (a title and description for the chart, which the page also gives as a table; an
`aria-label` with the total for a sparkline)."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

WIDTH, HEIGHT = 600, 160  # the chart's own units; it scales to its container (390 px phones too)
SPARK_WIDTH, SPARK_HEIGHT = 96, 20


def _scale(series):
    peak = max((point["requests"] for point in series), default=0)
    return max(peak, 1)


@register.simple_tag
def usage_chart(usage, chart_id="usage-chart"):
    """Stacked bars: successes (accent) under errors (red), one bar per bucket."""
    series = usage["series"]
    peak = _scale(series)
    slot = WIDTH / max(len(series), 1)
    bar = max(slot * 0.8, 1)
    rects = []
    for index, point in enumerate(series):
        x = index * slot + (slot - bar) / 2
        ok = point["requests"] - point["errors"]
        ok_height = HEIGHT * ok / peak
        error_height = HEIGHT * point["errors"] / peak
        if ok:
            rects.append(
                (f"{x:.1f}", f"{HEIGHT - ok_height:.1f}", f"{bar:.1f}", f"{ok_height:.1f}", "ok")
            )
        if point["errors"]:
            rects.append(
                (
                    f"{x:.1f}",
                    f"{HEIGHT - ok_height - error_height:.1f}",
                    f"{bar:.1f}",
                    f"{error_height:.1f}",
                    "error",
                )
            )
    totals = usage["totals"]
    description = (
        f"{totals['requests']} requests, {totals['errors']} of them errors, "
        f"in {len(series)} {usage['bucket']}ly buckets; the busiest bucket had {peak if totals['requests'] else 0}."
    )
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="usage-{}"></rect>',
        rects,
    )
    return format_html(
        '<svg id="{id}" class="usage-chart" viewBox="0 0 {w} {h}" preserveAspectRatio="none" '
        'role="img" aria-labelledby="{id}-title {id}-desc" focusable="false">'
        '<title id="{id}-title">Requests per {bucket}, successes and errors</title>'
        '<desc id="{id}-desc">{desc}</desc>'
        '<line x1="0" y1="{h}" x2="{w}" y2="{h}" class="usage-axis"></line>{bars}</svg>',
        id=chart_id,
        w=WIDTH,
        h=HEIGHT,
        bucket=usage["bucket"],
        desc=description,
        bars=bars,
    )


@register.simple_tag
def sparkline(values, label="in the last 24 hours"):
    """A small line of the last 24 hours' requests per hour; its label says the total."""
    values = list(values or [])
    total = sum(values)
    if not total:
        return mark_safe('<span class="sparkline-none muted">no requests in 24 h</span>')
    peak = max(values)
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 1 - (SPARK_HEIGHT - 2) * v / peak:.1f}"
        for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{total} {noun} {label}" focusable="false"><polyline points="{points}"></polyline>'
        '</svg> <span class="sparkline-total">{total}</span>',
        w=SPARK_WIDTH,
        h=SPARK_HEIGHT,
        total=total,
        noun="request" if total == 1 else "requests",
        label=label,
        points=points,
    )


@register.filter
def error_rate(requests, errors):
    """Errors as a share of requests, in whole percent ("-" without requests)."""
    if not requests:
        return "-"
    return f"{round(100 * (errors or 0) / requests)} %"
