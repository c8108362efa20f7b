"""Every UI string is in the Vietnamese catalog, and the shipped .mo matches the .po."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "web/translations/vi/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")


def test_every_ui_string_has_a_vietnamese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-o", str(pot), "--omit-header", "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    missing = sorted(i for i in wanted if not po.get(i))
    assert not missing, f"untranslated (run tools/vi_catalog.py): {missing}"


def test_compiled_catalog_matches_the_po():
    with PO.open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id and m.string}
    with MO.open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert mo == po, "web/translations/vi/LC_MESSAGES/messages.mo is stale: run tools/vi_catalog.py"
