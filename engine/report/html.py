"""Assemble the report page: one self-contained HTML document (inline CSS, PNGs as data URIs, no scripts).

Every string from the run (names, comments, file paths) is escaped here. Cells that show a
summary.json figure carry ``data-key`` (the JSON list of keys into summary.json), ``data-value``
and ``data-se`` (``repr`` of the stored floats), so a reader or a test can check each number shown
against the file. A Content-Security-Policy forbids any network fetch: the page opens offline.
"""

from __future__ import annotations

import base64
from html import escape

from engine.report import fmt
from engine.report.headline import Row

CSS = """
:root { --ink:#1d2733; --muted:#5b6875; --line:#d9dee4; --accent:#1f5a99; --warn:#b3261e; --bg:#f6f7f9; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color:var(--ink); background:var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 18px 24px 48px; }
header { background:#15304f; color:#fff; padding: 16px 24px 14px; }
header .inner { max-width: 1180px; margin: 0 auto; }
header h1 { margin:0 0 4px; font-size: 21px; font-weight: 600; }
header p { margin: 2px 0; color:#d6e2ef; font-size: 13px; }
nav { font-size: 12.5px; margin: 10px 0 4px; }
nav a { color: var(--accent); margin-right: 12px; text-decoration: none; }
h2 { font-size: 17px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; }
p.note, .note { color: var(--muted); font-size: 12.5px; margin: 4px 0 8px; }
.warn { color: var(--warn); font-weight: 600; }
.cards { display:grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin: 12px 0 4px; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding: 10px 12px; }
.card h4 { margin:0 0 4px; font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight:600; }
.card .big { font-size: 22px; font-weight: 650; color: var(--ink); }
.card .se { font-size: 12px; color: var(--muted); }
.card .sub { font-size: 12.5px; color: var(--ink); margin-top: 3px; }
.inline { white-space: nowrap; }
table { border-collapse: collapse; background:#fff; border:1px solid var(--line); margin: 6px 0 10px; font-size: 13px; }
th, td { padding: 4px 9px; border-bottom: 1px solid #edf0f3; text-align: left; vertical-align: top; }
th { background: #eef2f6; font-weight: 600; font-size: 12.5px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
.tw { overflow-x: auto; max-width: 100%; }
figure.narrow img { max-width: 760px; }
details { margin: 6px 0 12px; }
details summary { cursor: pointer; color: var(--accent); font-size: 13px; }
td.se { color: var(--muted); }
td.key { color: var(--muted); font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; }
tr.sec td { background:#f7f9fb; font-weight:600; color: var(--accent); }
td.src { color: var(--muted); font-size: 12px; max-width: 420px; }
td.mono, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11.5px; word-break: break-all; }
figure { margin: 8px 0 16px; background:#fff; border:1px solid var(--line); border-radius: 6px; padding: 8px; }
figure img { max-width: 100%; height: auto; display:block; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.grid2 { display:grid; grid-template-columns: 1fr 1fr; gap: 10px; }
@media (max-width: 800px) { .cards { grid-template-columns: 1fr 1fr; } }
footer { color: var(--muted); font-size: 12px; margin-top: 30px; }
"""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def e(x) -> str:
    """Escape for HTML text and attributes."""
    return escape("" if x is None else str(x), quote=True)


def num_attrs(row: Row) -> str:
    """``data-key``/``data-value``/``data-se`` of a summary.json figure (repr of the stored floats)."""
    v = "" if row.value is None else (row.value if isinstance(row.value, str) else repr(float(row.value)))
    s = "" if row.se is None else repr(float(row.se))
    return f' data-key="{e(row.key_json)}" data-value="{e(v)}" data-se="{e(s)}" data-format="{e(row.kind)}"'


def figure(png: bytes | None, alt: str, caption: str, missing: str = "", narrow: bool = False) -> str:
    if png is None:
        return f'<p class="note">{e(missing)}</p>' if missing else ""
    b64 = base64.b64encode(png).decode("ascii")
    cls = ' class="narrow"' if narrow else ""
    return f'<figure{cls}><img alt="{e(alt)}" src="data:image/png;base64,{b64}"><figcaption>{e(caption)}</figcaption></figure>'


def headline_table(rows: list[Row]) -> str:
    out = ['<div class="tw"><table id="headline"><thead><tr><th>Figure</th><th class="num">Estimate</th><th class="num">Std. error</th><th>summary.json key</th></tr></thead><tbody>']
    section = None
    for r in rows:
        if r.section != section:
            section = r.section
            out.append(f'<tr class="sec"><td colspan="4">{e(section)}</td></tr>')
        out.append(f'<tr{num_attrs(r)}><td>{e(r.label)}</td><td class="num value">{e(r.text)}</td><td class="num se">{e(r.se_text)}</td>'
                   f'<td class="key">{e(" › ".join(r.key))}</td></tr>')
    out.append("</tbody></table></div>")
    return "".join(out)


def stat_cell(row: Row | None) -> str:
    """A table cell showing one summary.json figure with its SE."""
    if row is None:
        return '<td class="num">n/a</td>'
    se = f' <span class="se">{e(row.se_text)}</span>' if row.se_text else ""
    return f'<td class="num"{num_attrs(row)}><span class="value">{e(row.text)}</span>{se}</td>'


def grid_table(header: list[str], rows: list[tuple[str, list[Row | None]]], table_id: str) -> str:
    out = [f'<div class="tw"><table id="{e(table_id)}"><thead><tr><th>{e(header[0])}</th>' + "".join(f'<th class="num">{e(h)}</th>' for h in header[1:]) + "</tr></thead><tbody>"]
    for name, cells in rows:
        out.append(f"<tr><td>{e(name)}</td>" + "".join(stat_cell(c) for c in cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def plain_table(header: list[str], rows: list[list], table_id: str = "", num_cols: tuple[int, ...] = (), classes: dict[int, str] | None = None) -> str:
    classes = classes or {}
    tid = f' id="{e(table_id)}"' if table_id else ""
    out = [f'<div class="tw"><table{tid}><thead><tr>' + "".join(f'<th class="{"num" if i in num_cols else ""}">{e(h)}</th>' for i, h in enumerate(header)) + "</tr></thead><tbody>"]
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="{"num " if i in num_cols else ""}{classes.get(i, "")}">{e(c)}</td>' for i, c in enumerate(r)) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def card(title: str, row: Row | None, sub: str = "", big_text: str | None = None) -> str:
    """An at-a-glance card: the big number is a summary.json figure (with data attributes) or a given text."""
    if row is not None:
        big = f'<div class="big"{num_attrs(row)}><span class="value">{e(row.text)}</span> <span class="se">{e(row.se_text)}</span></div>'
    else:
        big = f'<div class="big">{e(big_text or "n/a")}</div>'
    return f'<div class="card"><h4>{e(title)}</h4>{big}<div class="sub">{sub}</div></div>'


def page(title: str, subtitle_lines: list[str], nav: list[tuple[str, str]], sections: list[tuple[str, str, str]], footer: str) -> str:
    """The document. ``sections``: (id, heading, inner HTML already escaped)."""
    head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{e(title)}</title><style>{CSS}</style></head><body>')
    hdr = '<header><div class="inner"><h1>' + e(title) + "</h1>" + "".join(f"<p>{line}</p>" for line in subtitle_lines) + "</div></header>"
    navs = "<nav>" + "".join(f'<a href="#{e(i)}">{e(t)}</a>' for i, t in nav) + "</nav>"
    body = "".join(f'<section id="{e(i)}"><h2>{e(h)}</h2>{inner}</section>' for i, h, inner in sections)
    return f"{head}{hdr}<main>{navs}{body}<footer>{footer}</footer></main></body></html>\n"


__all__ = ["e", "fmt", "figure", "headline_table", "grid_table", "plain_table", "card", "page", "stat_cell", "num_attrs"]
