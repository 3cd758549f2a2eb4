"""The pinyin suggestion: Latin spellings of a name typed in Chinese characters."""

from __future__ import annotations

import pytest

from course_portal.accounts.pinyin import MAX_INPUT, suggest


def ask(client, **params):
    response = client.get("/pinyin", query_string=params)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


@pytest.mark.parametrize(
    ("family", "given", "expected"),
    [
        ("欧阳", "娜娜", {"family": "Ouyang", "given": "Nana", "ru": "Оуян Нана"}),
        ("王", "小明", {"family": "Wang", "given": "Xiaoming", "ru": "Ван Сяомин"}),
        ("李", "伟", {"family": "Li", "given": "Wei", "ru": "Ли Вэй"}),
        ("张", "子怡", {"family": "Zhang", "given": "Ziyi", "ru": "Чжан Цзыи"}),
        ("诸葛", "亮", {"family": "Zhuge", "given": "Liang", "ru": "Чжугэ Лян"}),
        ("司马", "光", {"family": "Sima", "given": "Guang", "ru": "Сыма Гуан"}),
    ],
)
def test_common_names(client, family, given, expected):
    assert ask(client, family=family, given=given) == expected


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        # the character's everyday reading (dān, céng, qū, ...) is not the surname's
        ("单", "Shan"),
        ("曾", "Zeng"),
        ("区", "Ou"),
        ("解", "Xie"),
        ("仇", "Qiu"),
        ("朴", "Piao"),
        ("查", "Zha"),
        ("翟", "Zhai"),
        ("缪", "Miao"),
        ("覃", "Qin"),
        # compound surnames are read as one word: 单于 is not Shan-yu, 尉迟 not Wei-chi
        ("单于", "Chanyu"),
        ("尉迟", "Yuchi"),
        ("万俟", "Moqi"),
    ],
)
def test_surnames_take_their_surname_reading(client, family, expected):
    assert ask(client, family=family, given="")["family"] == expected


def test_surname_reading_only_for_the_family_name(client):
    # 曾 in a given name keeps its everyday reading; 单 as a family name is Shan
    assert ask(client, family="单", given="曾") == {"family": "Shan", "given": "Ceng",
                                                 "ru": "Шань Цэн"}
    assert ask(client, family="曾", given="国藩") == {"family": "Zeng", "given": "Guofan",
                                                       "ru": "Цзэн Гофань"}


def test_u_umlaut_is_written_as_in_passports(client):
    # pypinyin says lv and nv; a Chinese passport prints LYU and NYU
    assert ask(client, family="吕", given="女") == {"family": "Lyu", "given": "Nyu", "ru": "Люй Нюй"}


def test_characters_other_than_chinese_are_ignored(client):
    answer = ask(client, family="Ou欧 阳1<b>", given="娜·娜 Nana\u202e")
    assert answer == {"family": "Ouyang", "given": "Nana", "ru": "Оуян Нана"}
    assert ask(client, family="Ouyang", given="Nana") == {"family": "", "given": "", "ru": ""}


def test_missing_and_empty_parameters_give_empty_suggestions(client):
    assert ask(client) == {"family": "", "given": "", "ru": ""}
    assert ask(client, family="欧阳") == {"family": "Ouyang", "given": "", "ru": ""}
    assert ask(client, given="娜娜") == {"family": "", "given": "Nana", "ru": ""}


def test_input_is_capped(client):
    answer = ask(client, family="王" * 1000, given="娜" * 1000)
    assert answer["family"] == ("wang" * MAX_INPUT).capitalize()
    assert answer["given"] == ("na" * MAX_INPUT).capitalize()
    assert suggest("x" * MAX_INPUT + "王", "") == {"family": "", "given": ""}


def test_anonymous_visitors_may_ask_and_the_browser_may_keep_the_answer(client):
    response = client.get("/pinyin", query_string={"family": "欧阳", "given": "娜娜"})
    assert response.status_code == 200
    assert "private" in response.headers["Cache-Control"]
    assert "public" not in response.headers["Cache-Control"]


def test_suggestions_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = [client.get("/pinyin", query_string={"family": "王"}).status_code for _ in range(61)]
    assert codes[:60] == [200] * 60
    assert codes[60] == 429
    elsewhere = client.get("/pinyin", query_string={"family": "王"},
                           environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert elsewhere.status_code == 200


def test_the_cyrillic_is_read_from_the_passport_spelling_by_palladius(client):
    # from the Latin the teacher typed, which wins over the suggestion from the characters
    assert ask(client, family="欧阳", given="娜娜", family_latin="OUYANG",
               given_latin="Nana")["ru"] == "Оуян Нана"
    assert ask(client, family="谢", given="伟", family_latin="XIE",
               given_latin="Wei")["ru"] == "Се Вэй"
    # a passport spelling that is not pinyin suggests nothing: the teacher types it
    assert ask(client, family_latin="SMITH", given_latin="John")["ru"] == ""
    # hostile input is answered, not failed
    assert ask(client, family_latin="<script>" * 100, given_latin="\x00{{ 7*7 }}")["ru"] == ""
