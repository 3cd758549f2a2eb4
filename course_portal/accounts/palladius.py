"""Cyrillic spelling of a Chinese name from its passport pinyin, by the Palladius system."""

from __future__ import annotations

import unicodedata

from course_portal.accounts.pinyin import han_only

#: the longest word read, in characters; a name is never longer, and the search below stays cheap
MAX_INPUT = 100

#: Every Mandarin syllable in pinyin (ü written ü) and its Palladius spelling. Checked against the
#: Russian Wikipedia table («Транскрипционная система Палладия», through its mirrors), the
#: orthodox.cn «Pinyin — Pallady System» table, the studfile.net table «Перевод пиньиня в систему
#: Палладия», CLDR's zh_Latn_PINYIN-ru transform and pypinyin's Style.CYRILLIC. Where they
#: differ, today's usage wins: hui is хуэй (Wikipedia and CLDR; orthodox.cn also lists хуй and
#: хой), and duo, tuo, suo, chuo, shuo are до, то, со, чо, шо like guo го and luo ло (CLDR,
#: studfile.net, orthodox.cn; only pypinyin keeps дуо). Interjections without a vowel (m, n, ng,
#: hm, hng) and rare readings outside those tables (biang, fiao, din, bong, wong, len, nia) are
#: left out, so that they cannot turn a non-pinyin word into a "name".
PALLADIUS: dict[str, str] = {
    "a": "а", "ai": "ай", "an": "ань", "ang": "ан", "ao": "ао", "e": "э", "ei": "эй", "en": "энь",
    "eng": "эн", "er": "эр", "o": "о", "ou": "оу",
    "ba": "ба", "bai": "бай", "ban": "бань", "bang": "бан", "bao": "бао", "bei": "бэй",
    "ben": "бэнь", "beng": "бэн", "bi": "би", "bian": "бянь", "biao": "бяо", "bie": "бе",
    "bin": "бинь", "bing": "бин", "bo": "бо", "bu": "бу",
    "pa": "па", "pai": "пай", "pan": "пань", "pang": "пан", "pao": "пао", "pei": "пэй",
    "pen": "пэнь", "peng": "пэн", "pi": "пи", "pian": "пянь", "piao": "пяо", "pie": "пе",
    "pin": "пинь", "ping": "пин", "po": "по", "pou": "поу", "pu": "пу",
    "ma": "ма", "mai": "май", "man": "мань", "mang": "ман", "mao": "мао", "me": "мэ", "mei": "мэй",
    "men": "мэнь", "meng": "мэн", "mi": "ми", "mian": "мянь", "miao": "мяо", "mie": "ме",
    "min": "минь", "ming": "мин", "miu": "мю", "mo": "мо", "mou": "моу", "mu": "му",
    "fa": "фа", "fan": "фань", "fang": "фан", "fei": "фэй", "fen": "фэнь", "feng": "фэн",
    "fo": "фо", "fou": "фоу", "fu": "фу",
    "da": "да", "dai": "дай", "dan": "дань", "dang": "дан", "dao": "дао", "de": "дэ", "dei": "дэй",
    "den": "дэнь", "deng": "дэн", "di": "ди", "dia": "дя", "dian": "дянь", "diao": "дяо",
    "die": "де", "ding": "дин", "diu": "дю", "dong": "дун", "dou": "доу", "du": "ду",
    "duan": "дуань", "dui": "дуй", "dun": "дунь", "duo": "до",
    "ta": "та", "tai": "тай", "tan": "тань", "tang": "тан", "tao": "тао", "te": "тэ", "tei": "тэй",
    "teng": "тэн", "ti": "ти", "tian": "тянь", "tiao": "тяо", "tie": "те", "ting": "тин",
    "tong": "тун", "tou": "тоу", "tu": "ту", "tuan": "туань", "tui": "туй", "tun": "тунь",
    "tuo": "то",
    "na": "на", "nai": "най", "nan": "нань", "nang": "нан", "nao": "нао", "ne": "нэ", "nei": "нэй",
    "nen": "нэнь", "neng": "нэн", "ni": "ни", "nian": "нянь", "niang": "нян", "niao": "няо",
    "nie": "не", "nin": "нинь", "ning": "нин", "niu": "ню", "nong": "нун", "nou": "ноу", "nu": "ну",
    "nuan": "нуань", "nun": "нунь", "nuo": "но", "nü": "нюй", "nüe": "нюэ",
    "la": "ла", "lai": "лай", "lan": "лань", "lang": "лан", "lao": "лао", "le": "лэ", "lei": "лэй",
    "leng": "лэн", "li": "ли", "lia": "ля", "lian": "лянь", "liang": "лян", "liao": "ляо",
    "lie": "ле", "lin": "линь", "ling": "лин", "liu": "лю", "lo": "ло", "long": "лун", "lou": "лоу",
    "lu": "лу", "luan": "луань", "lun": "лунь", "luo": "ло", "lü": "люй", "lüe": "люэ",
    "ga": "га", "gai": "гай", "gan": "гань", "gang": "ган", "gao": "гао", "ge": "гэ", "gei": "гэй",
    "gen": "гэнь", "geng": "гэн", "gong": "гун", "gou": "гоу", "gu": "гу", "gua": "гуа",
    "guai": "гуай", "guan": "гуань", "guang": "гуан", "gui": "гуй", "gun": "гунь", "guo": "го",
    "ka": "ка", "kai": "кай", "kan": "кань", "kang": "кан", "kao": "као", "ke": "кэ", "kei": "кэй",
    "ken": "кэнь", "keng": "кэн", "kong": "кун", "kou": "коу", "ku": "ку", "kua": "куа",
    "kuai": "куай", "kuan": "куань", "kuang": "куан", "kui": "куй", "kun": "кунь", "kuo": "ко",
    "ha": "ха", "hai": "хай", "han": "хань", "hang": "хан", "hao": "хао", "he": "хэ", "hei": "хэй",
    "hen": "хэнь", "heng": "хэн", "hong": "хун", "hou": "хоу", "hu": "ху", "hua": "хуа",
    "huai": "хуай", "huan": "хуань", "huang": "хуан", "hui": "хуэй", "hun": "хунь", "huo": "хо",
    "ji": "цзи", "jia": "цзя", "jian": "цзянь", "jiang": "цзян", "jiao": "цзяо", "jie": "цзе",
    "jin": "цзинь", "jing": "цзин", "jiong": "цзюн", "jiu": "цзю", "ju": "цзюй", "juan": "цзюань",
    "jue": "цзюэ", "jun": "цзюнь",
    "qi": "ци", "qia": "ця", "qian": "цянь", "qiang": "цян", "qiao": "цяо", "qie": "це",
    "qin": "цинь", "qing": "цин", "qiong": "цюн", "qiu": "цю", "qu": "цюй", "quan": "цюань",
    "que": "цюэ", "qun": "цюнь",
    "xi": "си", "xia": "ся", "xian": "сянь", "xiang": "сян", "xiao": "сяо", "xie": "се",
    "xin": "синь", "xing": "син", "xiong": "сюн", "xiu": "сю", "xu": "сюй", "xuan": "сюань",
    "xue": "сюэ", "xun": "сюнь",
    "zha": "чжа", "zhai": "чжай", "zhan": "чжань", "zhang": "чжан", "zhao": "чжао", "zhe": "чжэ",
    "zhei": "чжэй", "zhen": "чжэнь", "zheng": "чжэн", "zhi": "чжи", "zhong": "чжун", "zhou": "чжоу",
    "zhu": "чжу", "zhua": "чжуа", "zhuai": "чжуай", "zhuan": "чжуань", "zhuang": "чжуан",
    "zhui": "чжуй", "zhun": "чжунь", "zhuo": "чжо",
    "cha": "ча", "chai": "чай", "chan": "чань", "chang": "чан", "chao": "чао", "che": "чэ",
    "chen": "чэнь", "cheng": "чэн", "chi": "чи", "chong": "чун", "chou": "чоу", "chu": "чу",
    "chua": "чуа", "chuai": "чуай", "chuan": "чуань", "chuang": "чуан", "chui": "чуй",
    "chun": "чунь", "chuo": "чо",
    "sha": "ша", "shai": "шай", "shan": "шань", "shang": "шан", "shao": "шао", "she": "шэ",
    "shei": "шэй", "shen": "шэнь", "sheng": "шэн", "shi": "ши", "shou": "шоу", "shu": "шу",
    "shua": "шуа", "shuai": "шуай", "shuan": "шуань", "shuang": "шуан", "shui": "шуй",
    "shun": "шунь", "shuo": "шо",
    "ran": "жань", "rang": "жан", "rao": "жао", "re": "жэ", "ren": "жэнь", "reng": "жэн",
    "ri": "жи", "rong": "жун", "rou": "жоу", "ru": "жу", "rua": "жуа", "ruan": "жуань",
    "rui": "жуй", "run": "жунь", "ruo": "жо",
    "za": "цза", "zai": "цзай", "zan": "цзань", "zang": "цзан", "zao": "цзао", "ze": "цзэ",
    "zei": "цзэй", "zen": "цзэнь", "zeng": "цзэн", "zi": "цзы", "zong": "цзун", "zou": "цзоу",
    "zu": "цзу", "zuan": "цзуань", "zui": "цзуй", "zun": "цзунь", "zuo": "цзо",
    "ca": "ца", "cai": "цай", "can": "цань", "cang": "цан", "cao": "цао", "ce": "цэ", "cei": "цэй",
    "cen": "цэнь", "ceng": "цэн", "ci": "цы", "cong": "цун", "cou": "цоу", "cu": "цу",
    "cuan": "цуань", "cui": "цуй", "cun": "цунь", "cuo": "цо",
    "sa": "са", "sai": "сай", "san": "сань", "sang": "сан", "sao": "сао", "se": "сэ", "sen": "сэнь",
    "seng": "сэн", "si": "сы", "song": "сун", "sou": "соу", "su": "су", "suan": "суань",
    "sui": "суй", "sun": "сунь", "suo": "со",
    "ya": "я", "yan": "янь", "yang": "ян", "yao": "яо", "ye": "е", "yi": "и", "yin": "инь",
    "ying": "ин", "yo": "ё", "yong": "юн", "you": "ю", "yu": "юй", "yuan": "юань", "yue": "юэ",
    "yun": "юнь",
    "wa": "ва", "wai": "вай", "wan": "вань", "wang": "ван", "wei": "вэй", "wen": "вэнь",
    "weng": "вэн", "wo": "во", "wu": "у",
}

#: How passports and keyboards write ü: Chinese passports spell 吕 LYU and 女 NYU, pypinyin and
#: input methods use v, and lüe/nüe are often written lue/nue, which no other syllable spells.
_VARIANTS = {
    "lv": "lü", "lyu": "lü", "lve": "lüe", "lyue": "lüe", "lue": "lüe",
    "nv": "nü", "nyu": "nü", "nve": "nüe", "nyue": "nüe", "nue": "nüe",
}

_SPELLINGS = {spelling: spelling for spelling in PALLADIUS} | _VARIANTS
_LONGEST = max(len(spelling) for spelling in _SPELLINGS)

#: Tone marks (and the breve, often typed for the caron), dropped; any other mark but the
#: diaeresis of ü means the word is not pinyin.
_TONE_MARKS = {"\u0304", "\u0301", "\u030c", "\u0300", "\u0306"}

#: Syllable boundaries a passport or a form may show: the pinyin apostrophe and its look-alikes,
#: and the hyphen or space some write inside a given name (Xiao-Ming).
_SEPARATORS = {"'", "\u2019", "\u2018", "\u02bc", "`", "-", "\u2010", "\u2011", "\u2013", " "}

_LETTERS = set("abcdefghijklmnopqrstuvwxyzü")
_VOWEL_STARTS = ("a", "o", "e")
_CYRILLIC_VOWELS = set("аеёиоуыэюя")


def _letters(word: str) -> tuple[str, frozenset[int]] | None:
    """The word's letters, lower case and without tones, and the positions of its boundaries."""
    if not isinstance(word, str) or len(word) > MAX_INPUT:
        return None
    decomposed = unicodedata.normalize("NFD", word.lower())
    kept = []
    for ch in decomposed:
        if ch in _TONE_MARKS:
            continue
        if unicodedata.combining(ch) and ch != "\u0308":
            return None
        kept.append(ch)
    text = unicodedata.normalize("NFC", "".join(kept))
    letters: list[str] = []
    boundaries: set[int] = set()
    for ch in text:
        if ch in _SEPARATORS:
            boundaries.add(len(letters))
        elif ch in _LETTERS:
            letters.append(ch)
        else:
            return None
    if not letters:
        return None
    return "".join(letters), frozenset(boundaries)


def syllables(word: str, hint_count: int | None = None) -> list[str] | None:
    """Split one pinyin word ("Ouyang", "Xian", "Zhang", "Lyu", "Lü", "Xi'an") into syllables;
    None when it is not pinyin. hint_count (e.g. the number of Chinese characters) picks among
    ambiguous splits (Xian: 1 → ["xian"], 2 → ["xi", "an"])."""
    parsed = _letters(word)
    if parsed is None:
        return None
    text, boundaries = parsed
    size = len(text)
    # best[end][count]: the best split of text[:end] into count syllables, ranked by how many
    # syllables after the first start with a, o or e (pinyin puts an apostrophe before such a
    # syllable, so a word typed without one rarely has them), then by longer syllables first.
    # Keyed by count, so that every count the hint may ask for is kept; at most 100 × 100
    # entries, each reached from at most _LONGEST others.
    best: list[dict[int, tuple[int, tuple[int, ...], tuple[str, ...]]]] = [
        {} for _ in range(size + 1)
    ]
    best[0][0] = (0, (), ())
    for start in range(size):
        if not best[start]:
            continue
        for end in range(start + 1, min(size, start + _LONGEST) + 1):
            if any(start < b < end for b in boundaries):
                break
            syllable = _SPELLINGS.get(text[start:end])
            if syllable is None:
                continue
            penalty = int(start > 0 and start not in boundaries
                          and syllable.startswith(_VOWEL_STARTS))
            for count, (cost, lengths, parts) in best[start].items():
                candidate = (cost + penalty, lengths + (-(end - start),), parts + (syllable,))
                known = best[end].get(count + 1)
                if known is None or candidate[:2] < known[:2]:
                    best[end][count + 1] = candidate
    splits = best[size]
    if not splits:
        return None
    # bool is an int too, but True is no count of characters
    if isinstance(hint_count, int) and not isinstance(hint_count, bool) and hint_count in splits:
        count = hint_count
    else:
        count = min(splits)
    return list(splits[count][2])


def _join(parts: list[str]) -> str:
    """The Cyrillic syllables of one word, joined as Palladius writes them."""
    # A syllable that ends in н (pinyin -ng) takes a separating ъ before one that starts with a
    # vowel: 长安 Чанъань, 朋友 пэнъю (Russian Wikipedia and chinese-russian.com, «Основные
    # принципы системы»), 东营 Дунъин, 回良玉 Хуэй Лянъюй. One that ends in нь (pinyin -n)
    # needs nothing more, its ь already separates: 天安门 Тяньаньмэнь (kremlin.ru), 延安
    # Яньань; before a consonant the ь stays too: 云南 Юньнань, 周恩来 Чжоу Эньлай. A syllable
    # that ends in a vowel joins as it is: 西安 Сиань.
    word = parts[0]
    for part in parts[1:]:
        if word.endswith("н") and part[0] in _CYRILLIC_VOWELS:
            word += "ъ"
        word += part
    return word


def word_to_cyrillic(word: str, hint_count: int | None = None) -> str | None:
    """One pinyin word in Cyrillic by Palladius, capitalised: Ouyang → Оуян, Nana → Нана;
    None when the word is not pinyin."""
    split = syllables(word, hint_count)
    if split is None:
        return None
    cyrillic = _join([PALLADIUS[syllable] for syllable in split])
    return cyrillic[0].upper() + cyrillic[1:]


def _han_count(text: str | None) -> int | None:
    """How many Chinese characters the text has; None when it has none."""
    return len(han_only(text)) or None


def name_to_cyrillic(family_latin: str, given_latin: str, family_zh: str = "",
                     given_zh: str = "") -> str:
    """The whole name, family name first: ("OUYANG", "Nana") → "Оуян Нана"; "" when either part
    is not pinyin (a teacher with a non-pinyin passport spelling types the Cyrillic by hand).
    The Chinese characters, when given, only tell how many syllables each part has."""
    family = word_to_cyrillic(family_latin, _han_count(family_zh))
    given = word_to_cyrillic(given_latin, _han_count(given_zh))
    if family is None or given is None:
        return ""
    return f"{family} {given}"


def suggestion_for(profile) -> str:
    """The Palladius spelling of a profile's passport name, when it has no Cyrillic one yet."""
    if profile is None or profile.name_ru:
        return ""
    return name_to_cyrillic(profile.family_name_latin, profile.given_name_latin,
                            profile.family_name_zh, profile.given_name_zh)
