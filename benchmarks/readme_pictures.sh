#!/usr/bin/env bash
# Makes the README's pictures from the current code (about 10 min on 2 cores):
#   bash benchmarks/readme_pictures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/painsynth preview --avatars 10 --views front,left45 --seed 1 --out docs/contact_sheet.png
$PY benchmarks/age_sheet.py --gender female --ancestry caucasian --out docs/ages.png
$PY benchmarks/profile_sheet.py --seed 1 --out docs/profiles.png
.venv/bin/painsynth generate --out "$work/syn" --clips 5 --views front,left45,right45 --seed 3 --frames 40 --workers 1
.venv/bin/painsynth report "$work/syn" --out "$work/report.html"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$work/chrome" --hide-scrollbars \
    --window-size=1280,1500 --screenshot="$work/report.png" "file://$work/report.html" 2>/dev/null
$PY -c "from PIL import Image; Image.open('$work/report.png').convert('RGB').save('docs/report_screenshot.png', optimize=True)"
echo "pictures: docs/contact_sheet.png docs/ages.png docs/profiles.png docs/report_screenshot.png"
echo "the identity sheet: python benchmarks/identity_diversity.py --avatars 100 --seed 1 --out docs/identity_bank.png (then downscaled)"
