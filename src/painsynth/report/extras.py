"""An experiment's or audit's folder in the report: its Markdown tables and PNG plots."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image

from painsynth.report.markup import data_uri, escape, img_tag, section_html


def extra_section(name: str, folder: Path) -> str:
    parts = []
    for md in sorted(folder.rglob("*.md")):
        try:
            text = md.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            parts.append(f"<p class='note'>{escape(md.name)}: unreadable ({escape(exc.strerror or str(exc))})</p>")
            continue
        parts.append(f"<div class='md'><div class='cap'>{escape(md.relative_to(folder).as_posix())}</div>{_markdown(text)}</div>")
    for png in sorted(folder.rglob("*.png")):
        try:
            raw = png.read_bytes()
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
        except (OSError, ValueError) as exc:
            parts.append(f"<p class='note'>{escape(png.relative_to(folder).as_posix())}: not a readable PNG ({escape(str(exc))})</p>")
            continue
        label = png.relative_to(folder).as_posix()
        parts.append(f"<figure>{img_tag(data_uri(raw, 'image/png'), label, 'chart')}<figcaption>{escape(label)}</figcaption></figure>")
    if not parts:
        parts.append("<p class='note'>No tables (*.md) or plots (*.png) in this folder.</p>")
    key = name.lower()
    return section_html(key, f"{name}: {folder}", "".join(parts))


def _markdown(text: str) -> str:
    """Enough Markdown for stage summaries: headings, pipe tables, lists, paragraphs; all else as text."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        line = lines[i].rstrip()
        if line.lstrip().startswith("|"):
            block = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                block.append(lines[i].strip())
                i += 1
            cells = [[c.strip() for c in row.strip("|").split("|")] for row in block]
            cells = [row for row in cells if not all(re.fullmatch(r":?-{2,}:?", c) for c in row if c)] or cells
            head, body = cells[0], cells[1:]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in body)
                       + "</table>")
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", line)
        if heading:
            level = min(len(heading.group(1)) + 2, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif re.match(r"\s*[-*]\s+", line):
            items = []
            while i < len(lines) and re.match(r"\s*[-*]\s+", lines[i]):
                item = re.sub(r"^\s*[-*]\s+", "", lines[i])
                items.append(f"<li>{_inline(item)}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
            continue
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    return "".join(out)


def _inline(text: str) -> str:
    text = escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)
