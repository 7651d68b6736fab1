"""The report's page: one self-contained HTML file with its styles, a check script, header, contents and sections."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from painsynth.report.data import LoadedDataset
from painsynth.report.markup import escape

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d232b;background:#fafbfc}
header{background:#24303f;color:#fff;padding:18px 28px}
header h1{margin:0 0 6px;font-size:24px}
header .meta{font-size:14px;opacity:.9}
header code{color:#ffe6a6}
nav{padding:8px 28px;background:#e9edf2;font-size:14px}
nav a{margin-right:14px;color:#24476b;text-decoration:none}
main{padding:4px 28px 40px;max-width:1280px}
section{margin:22px 0;padding:14px 18px;background:#fff;border:1px solid #dde3ea;border-radius:8px}
h2{margin:0 0 10px;font-size:20px}
h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #dde3ea;padding:4px 8px;text-align:left;vertical-align:top}
table.sheet td,table.sheet th{text-align:center;padding:3px}
table.sheet th.who{text-align:left;font-size:13px;min-width:120px}
.cap{font-size:11px;color:#5b6572;font-weight:normal}
.note{color:#8a5a00;background:#fff7e0;padding:6px 10px;border-radius:4px}
.gallery{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:6px 0}
figcaption{font-size:12px;color:#5b6572;max-width:260px}
.gallery figcaption{max-width:170px}
img.chart{max-width:100%;height:auto}
.scroll{overflow-x:auto}
td.missing{color:#999}
.md{margin:10px 0}
"""

# Marks <body> when every image has decoded (and counts errors), so a headless browser can check the page.
_SCRIPT = """
(function(){var errors=0;
window.addEventListener('error',function(){errors++;if(document.body){document.body.setAttribute('data-errors',String(errors));}},true);
window.addEventListener('load',function(){var imgs=document.images,ok=0;
for(var i=0;i<imgs.length;i++){if(imgs[i].complete&&imgs[i].naturalWidth>0){ok++;}}
document.body.setAttribute('data-images',ok+'/'+imgs.length);
document.body.setAttribute('data-errors',String(errors));
document.body.setAttribute('data-ready',ok===imgs.length&&errors===0?'yes':'no');});})();
"""


def page(data: LoadedDataset, sections: list[str]) -> str:
    meta = data.meta
    versions = meta.get("versions", {}) if isinstance(meta.get("versions"), dict) else {}
    made = meta.get("created", "not recorded")
    seed = meta.get("seed", "not recorded")
    version_text = ", ".join(f"{k} {v}" for k, v in versions.items()) or "not recorded"
    title = f"painsynth dataset report: {data.folder.resolve().name}"
    toc = "".join(f"<a href='#{i}'>{t}</a>" for i, t in re.findall(r"<section id='([^']+)'><h2>([^<]+)</h2>", "".join(sections)))
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_CSS}</style>
<script>{_SCRIPT}</script>
</head><body>
<header><h1>{escape(title)}</h1>
<div class="meta">dataset <code>{escape(str(data.folder.resolve()))}</code> · {len(data.rows)} clips ·
made {escape(str(made))} with seed <b>{escape(str(seed))}</b> · {escape(version_text)}</div>
<div class="meta">report written {now}</div></header>
<nav>{toc}</nav>
<main>{''.join(sections)}</main>
</body></html>
"""
