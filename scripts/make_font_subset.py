"""Cut Noto Serif CJK SC down to GB2312 as course_portal/static/fonts/PortalSerifSC-GB2312.otf."""

# Run once with fonts-noto-cjk installed (`.venv/bin/python scripts/make_font_subset.py`) and
# commit the result: the portal ships the file and never subsets at build time (fontTools is
# still a dependency: pdf.py reads the fonts' character maps with it).
# Why a subset: the whole CJK collection is 26 MB and WeasyPrint loads what @font-face names
# on every new FontConfiguration; the GB2312 cut holds every character of simplified Chinese
# names and text in everyday use, and the system Noto stays behind it in the font stack for
# rarer characters (玥 in 司马玥 is outside GB2312).
# The family is renamed (a modified version under the SIL OFL keeps clear of the original's
# name and Google's Noto trademark); the licence and notices are written beside the file.

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
LICENCE_SOURCE = Path("/usr/share/doc/fonts-noto-cjk/copyright")
OUT_DIR = ROOT / "course_portal" / "static" / "fonts"
OUT_NAME = "PortalSerifSC-GB2312.otf"
FAMILY = "Portal Serif SC"
POSTSCRIPT = "PortalSerifSC-Regular"
#: the face of the collection that carries the Simplified Chinese glyph forms
SC_POSTSCRIPT = "NotoSerifCJKsc-Regular"

#: besides GB2312: ASCII, Latin-1, general punctuation, CJK punctuation, fullwidth forms
EXTRA_RANGES = [
    (0x0020, 0x007E),
    (0x00A0, 0x00FF),
    (0x2000, 0x206F),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
]


def gb2312_characters() -> set[int]:
    """Every character that GB2312 encodes (its 7,445 two-byte codes)."""
    found = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def wanted_characters() -> set[int]:
    """GB2312 plus the extra ranges."""
    chars = gb2312_characters()
    for start, end in EXTRA_RANGES:
        chars.update(range(start, end + 1))
    return chars


def licence_text(copyright_line: str) -> str:
    """The SIL OFL 1.1 as Debian's fonts-noto-cjk copyright file states it, with the notices."""
    lines = LICENCE_SOURCE.read_text(encoding="utf-8").splitlines()
    # the licence paragraph is the last "License: SIL-1.1"; the first one closes a Files stanza
    start = len(lines) - lines[::-1].index("License: SIL-1.1")
    body = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append("" if line == " ." else line[1:])
    header = [
        f"{OUT_NAME}: the GB2312 characters of {SC_POSTSCRIPT} (Noto Serif CJK SC),",
        "cut by scripts/make_font_subset.py and renamed to " + repr(FAMILY) + ".",
        "",
        copyright_line,
        "Noto is a trademark of Google Inc.",
        "",
    ]
    return "\n".join(header + body) + "\n"


def rename(font) -> None:
    """Give the subset its own family name, keeping copyright and licence records."""
    names = {
        1: FAMILY,
        2: "Regular",
        3: f"{POSTSCRIPT};GB2312 subset of NotoSerifCJKsc-Regular",
        4: f"{FAMILY} Regular",
        6: POSTSCRIPT,
        16: FAMILY,
        17: "Regular",
    }
    table = font["name"]
    table.names = [r for r in table.names if r.nameID not in names]
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [POSTSCRIPT]
        top = cff.topDictIndex[0]
        top.FullName = f"{FAMILY} Regular"
        top.FamilyName = FAMILY


def main(argv: list[str] | None = None) -> int:
    """Write the subset and its licence; print what was written."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    if not args.source.exists() or not LICENCE_SOURCE.exists():
        print(f"{args.source} is missing: apt-get install fonts-noto-cjk", file=sys.stderr)
        return 1

    collection = TTCollection(str(args.source), recalcTimestamp=False)
    faces = [f for f in collection.fonts if f["name"].getDebugName(6) == SC_POSTSCRIPT]
    if not faces:
        print(f"no {SC_POSTSCRIPT} face in {args.source}", file=sys.stderr)
        return 1
    font = faces[0]

    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    # the SC face already maps every code point to its simplified form, so 'locl' and the
    # vertical-writing features only pull in thousands of JP/KR/TC/HK alternates (4 MB, not 2.2)
    options.layout_features = ["kern"]
    options.drop_tables += ["VORG", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted_characters()))
    subsetter.subset(font)
    rename(font)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / OUT_NAME
    font.save(str(out))
    copyright_line = font["name"].getDebugName(0) or ""
    (args.out_dir / "OFL.txt").write_text(licence_text(copyright_line), encoding="utf-8")
    print(f"{out} {out.stat().st_size} bytes, {len(font.getBestCmap())} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
