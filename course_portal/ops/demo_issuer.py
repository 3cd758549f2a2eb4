"""Demo of who signs: the rector, each demo institute's director and the secretary, and what
the federal register needs of each demo teacher. The people are invented."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from course_portal.accounts.models import EducationLevel, Sex
from course_portal.catalog.models import Institute
from course_portal.certificates.models import Signatory, SignatoryRole
from course_portal.extensions import db

R = SignatoryRole

#: role, institute (English name, None for the university's own lines), names and positions
SIGNATORIES = [
    (R.RECTOR, None, {
        "name_ru": "И. И. Иванов", "name_en": "Ivan Ivanov", "name_zh": "伊万·伊万诺夫",
        "position_ru": "Проректор по международной деятельности",
        "position_en": "Vice-Rector for International Affairs", "position_zh": "主管国际事务副校长",
        "authority_ru": "(по доверенности № 12 от 1 сентября 2026 г.)",
        "authority_en": "by power of attorney No. 12 of 1 September 2026",
        "authority_zh": "（依据2026年9月1日第12号授权书）",
    }),
    (R.SECRETARY, None, {
        "name_ru": "Е. А. Смирнова", "name_en": "Elena Smirnova", "name_zh": "叶莲娜·斯米尔诺娃",
        "position_ru": "Секретарь", "position_en": "Secretary", "position_zh": "秘书",
    }),
    (R.DIRECTOR, "Institute of Industrial Management, Economics and Trade", {
        "name_ru": "П. П. Петров", "name_en": "Pyotr Petrov", "name_zh": "彼得·彼得罗夫",
        "position_ru": "Директор института", "position_en": "Director of the Institute",
        "position_zh": "学院院长",
    }),
    (R.DIRECTOR, "Institute of Computer Science and Technology", {
        "name_ru": "С. С. Сидоров", "name_en": "Sergey Sidorov", "name_zh": "谢尔盖·西多罗夫",
        "position_ru": "Директор института", "position_en": "Director of the Institute",
        "position_zh": "学院院长",
    }),
]

#: what the federal register records of each demo teacher (not printed on the certificate)
REGISTER_DATA = {
    "wang.fang@example.com": (date(1982, 5, 14), Sex.FEMALE),
    "li.wei@example.com": (date(1988, 11, 2), Sex.MALE),
    "zhang.jing@example.com": (date(1990, 3, 27), Sex.FEMALE),
    "liu.yang@example.com": (date(1994, 7, 9), Sex.FEMALE),
    "ouyang.nana@example.com": (date(1979, 1, 30), Sex.FEMALE),
    "chen.hao@example.com": (date(1985, 9, 18), Sex.MALE),
}


def register_fields(email: str) -> dict:
    """The profile's register fields of a demo teacher."""
    born_on, sex = REGISTER_DATA[email]
    return {"born_on": born_on, "sex": sex, "citizenship": "CN",
            "education_level": EducationLevel.HIGHER}


def load_signatories(summary) -> None:
    """Create the signature lines that have no signatory; an admin's own choice is kept."""
    institutes = {i.name_en: i.id for i in db.session.scalars(select(Institute))}
    for role, institute_name, values in SIGNATORIES:
        institute_id = institutes.get(institute_name) if institute_name else None
        if institute_name and institute_id is None:
            continue
        slot = Signatory.slot_for(role, institute_id)
        if db.session.scalar(select(Signatory.id).where(Signatory.slot == slot)) is not None:
            summary.present["signatories"] += 1
            continue
        db.session.add(Signatory(role=role, institute_id=institute_id, slot=slot,
                                 signature_sha256="", **values))
        summary.created["signatories"] += 1
    db.session.flush()
