"""HTML building blocks of the report: escaping, sections, images as data URIs, tables."""

from __future__ import annotations

import base64
import html


def section_html(key: str, title: str, body: str) -> str:
    return f"<section id='{key}'><h2>{escape(title)}</h2>{body}</section>"


def img_tag(src: str, alt: str, cls: str = "") -> str:
    klass = f" class='{cls}'" if cls else ""
    return f"<img{klass} src='{src}' alt='{escape(alt)}'>"


def data_uri(raw: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def table_html(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header) if any(header) else ""
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def escape(text: str) -> str:
    return html.escape(str(text), quote=True)
