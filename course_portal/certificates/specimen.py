"""A specimen certificate: one complete snapshot to preview, benchmark and test the layout with."""

from __future__ import annotations

import dataclasses
from datetime import date

from course_portal.certificates.pdf import CertificateSnapshot


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
        issued_by="Иванова А. А.",
    )
    return dataclasses.replace(snapshot, **changes)
