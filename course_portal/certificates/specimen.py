"""A specimen certificate: one complete snapshot to preview, benchmark and test the layout with."""

from __future__ import annotations

import dataclasses
from datetime import date

from course_portal.certificates.issuer import DEFAULT_ORGANISATION
from course_portal.certificates.snapshot import CURRENT_LAYOUT, CertificateSnapshot, SignatoryLine

#: the signatories of the specimen, as an admin would enter them
SPECIMEN_SIGNATORIES = (
    SignatoryLine(
        role="rector", name_ru="И. И. Иванов", name_en="Ivan Ivanov", name_zh="伊万诺夫",
        position_ru="Ректор", position_en="Rector", position_zh="校长",
    ),
    SignatoryLine(
        role="director", name_ru="П. П. Петров", name_en="Pyotr Petrov", name_zh="彼得罗夫",
        position_ru="Директор института", position_en="Director of the Institute",
        position_zh="学院院长",
    ),
    SignatoryLine(
        role="secretary", name_ru="Е. А. Смирнова", name_en="Elena Smirnova", name_zh="斯米尔诺娃",
        position_ru="Секретарь", position_en="Secretary", position_zh="秘书",
    ),
)


def specimen_snapshot(**changes) -> CertificateSnapshot:
    """A typical certificate of «Investment Ecosystem» for a teacher from Tianshui, fields changed."""
    snapshot = CertificateSnapshot(
        registry_number="IE-2026-0001",
        name_zh="欧阳娜娜",
        name_latin="OUYANG Nana",
        name_ru="Оуян Нана",
        partner_university_en="Tianshui Pedagogical University",
        partner_university_zh="天水师范学院",
        partner_university_ru="Тяньшуйский педагогический университет",
        program_title_ru="Инвестиционная экосистема",
        program_title_en="Investment Ecosystem",
        program_title_zh="投资生态系统",
        institute_name_ru="Институт промышленного менеджмента, экономики и торговли",
        institute_name_en="Institute of Industrial Management, Economics and Trade",
        institute_name_zh="工业管理、经济与贸易学院",
        hours=72,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 6, 30),
        result="passed",
        issued_on=date(2026, 7, 3),
        university_name_ru=DEFAULT_ORGANISATION["full_name_ru"],
        university_name_en=DEFAULT_ORGANISATION["full_name_en"],
        university_name_zh=DEFAULT_ORGANISATION["full_name_zh"],
        city_ru=DEFAULT_ORGANISATION["city_ru"],
        city_en=DEFAULT_ORGANISATION["city_en"],
        city_zh=DEFAULT_ORGANISATION["city_zh"],
        layout_version=CURRENT_LAYOUT,
        study_form="full_time",
        delivery="online",
        signatories=SPECIMEN_SIGNATORIES,
    )
    return dataclasses.replace(snapshot, **changes)
