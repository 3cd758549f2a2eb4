"""Suggested Latin spellings of a Chinese name, in the form Chinese passports print them."""

from __future__ import annotations

import unicodedata

#: the longest input read, in characters (the name columns hold 50)
MAX_INPUT = 50

#: Surnames that read otherwise than the character's everyday reading, which is what pypinyin
#: gives (单 dān, 曾 céng, 区 qū). pypinyin (0.55) has no surname mode, so the readings
#: that surname dictionaries give are kept here; the teacher can still change the suggestion.
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "区": "ou",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "盖": "ge",
    "乐": "yue",
    "覃": "qin",
    "翟": "zhai",
    "缪": "miao",
    "折": "she",
    "种": "chong",
    "重": "chong",
    "秘": "bi",
    "祭": "zhai",
    "隗": "wei",
    "召": "shao",
    "员": "yun",
    "黑": "he",
    "都": "du",
    "句": "gou",
    "能": "nai",
    "佴": "nai",
    "洗": "xian",
    "便": "pian",
    "粘": "nian",
    "乜": "nie",
    "郇": "huan",
    "繁": "po",
    "蕃": "pi",
    "薄": "bo",
    "卜": "bu",
}

#: Compound surnames, read as one word; listed so that their first character is not taken for
#: a single surname above (单于 is Chanyu, not Shanyu).
COMPOUND_SURNAMES = {
    "单于": "chanyu",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "长孙": "zhangsun",
    "澹台": "tantai",
    "欧阳": "ouyang",
    "令狐": "linghu",
    "皇甫": "huangfu",
    "上官": "shangguan",
    "司马": "sima",
    "诸葛": "zhuge",
    "夏侯": "xiahou",
    "公孙": "gongsun",
    "慕容": "murong",
    "宇文": "yuwen",
    "司徒": "situ",
    "司空": "sikong",
    "钟离": "zhongli",
    "闻人": "wenren",
    "呼延": "huyan",
    "赫连": "helian",
    "东方": "dongfang",
    "南宫": "nangong",
    "鲜于": "xianyu",
    "淳于": "chunyu",
    "申屠": "shentu",
    "轩辕": "xuanyuan",
}


def is_han(ch: str) -> bool:
    """True for a Chinese character (汉字), as the name fields' Script('han') rule accepts."""
    return unicodedata.name(ch, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def han_only(text: str | None) -> str:
    """The Chinese characters of the first MAX_INPUT characters; everything else is dropped."""
    text = unicodedata.normalize("NFC", (text or "")[:MAX_INPUT])
    return "".join(ch for ch in text if is_han(ch))


def _syllables(text: str) -> list[str]:
    """pypinyin's everyday readings, without tones; phrases it knows are read as phrases."""
    if not text:
        return []
    # imported on first use: its dictionaries take some 55 MB, which only this page needs
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(text, style=Style.NORMAL, errors="ignore")


def _passport_syllable(syllable: str) -> str:
    # pypinyin writes ü as v (lv, nve); Chinese passports write it as yu: 吕 LYU, 女 NYU
    return syllable.replace("v", "yu")


def _spell(syllables: list[str]) -> str:
    return "".join(_passport_syllable(s) for s in syllables).capitalize()


def _starts_surname(text: str) -> bool:
    return text[:2] in COMPOUND_SURNAMES or text[:1] in SURNAME_READINGS


def _surname_syllables(family: str) -> list[str]:
    """The family name's syllables, with surname readings where they differ."""
    syllables: list[str] = []
    rest = family
    while rest:
        if rest[:2] in COMPOUND_SURNAMES:
            syllables.append(COMPOUND_SURNAMES[rest[:2]])
            rest = rest[2:]
        elif rest[0] in SURNAME_READINGS:
            syllables.append(SURNAME_READINGS[rest[0]])
            rest = rest[1:]
        else:
            # up to the next character with a surname reading, in one piece, so that pypinyin
            # can use its phrase readings
            end = 1
            while end < len(rest) and not _starts_surname(rest[end:]):
                end += 1
            syllables.extend(_syllables(rest[:end]))
            rest = rest[end:]
    return syllables


def family_name_latin(family: str | None) -> str:
    """欧阳 → Ouyang, 单 → Shan, 吕 → Lyu: a family name in Chinese characters, spelt in pinyin."""
    return _spell(_surname_syllables(han_only(family)))


def given_name_latin(given: str | None) -> str:
    """娜娜 → Nana: a given name in Chinese characters, in one capitalised word without tones."""
    return _spell(_syllables(han_only(given)))


def suggest(family: str | None, given: str | None) -> dict[str, str]:
    """The suggested Latin family and given names; empty strings where there is nothing Chinese."""
    return {"family": family_name_latin(family), "given": given_name_latin(given)}
