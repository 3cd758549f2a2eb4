"""Demo data: partner universities, institutes, programs with intakes, staff, teachers, applications."""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from course_portal.accounts import consent
from course_portal.accounts.models import AcademicTitle, Role, TeacherProfile, User
from course_portal.catalog.models import (
    Institute,
    Intake,
    Module,
    PartnerUniversity,
    Program,
    StudyMode,
)
from course_portal.core.clock import portal_today
from course_portal.db import utcnow
from course_portal.extensions import db
from course_portal.ops.demo_applications import load_demo_applications
from course_portal.ops.demo_issuer import load_signatories, register_fields
from course_portal.ops.demo_progress import load_finished_intake, load_open_schedule

#: every demo account's password; printed by `flask demo-data`, so never for a real site
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (published on purpose: demo logins)
#: the authenticator secret of every demo staff account, published like the password: add it to
#: an app, or run `flask users two-factor-code EMAIL` in development (see demo_two_factor_help)
DEMO_TOTP_SECRET = "SPBPUDEMOSPBPUDEMOSPBPUDEMOSPBPU"  # noqa: S105

PARTNERS = [
    {
        "name_en": "Tianshui Normal University",
        "name_zh": "天水师范学院",
        "name_ru": "Тяньшуйский педагогический университет",
        "city": "Tianshui",
        "province": "Gansu",
    },
    {
        "name_en": "Datong University",
        "name_zh": "山西大同大学",
        "name_ru": "Датунский университет",
        "city": "Datong",
        "province": "Shanxi",
    },
    {
        # PRODUCT.md's name; the Chinese name is a rendering of it, to be confirmed with the partner
        "name_en": "Shandong University of Railway Transport (Institute of Foreign Languages)",
        "name_zh": "山东铁路交通学院 外国语学院",
        "name_ru": "Шаньдунский университет железнодорожного транспорта "
                   "(Институт иностранных языков)",
        "city": "Jinan",
        "province": "Shandong",
    },
    {
        "name_en": "Harbin Cambridge University",
        "name_zh": "哈尔滨剑桥学院",
        "name_ru": "Харбинский Кембриджский университет",
        "city": "Harbin",
        "province": "Heilongjiang",
    },
    {
        # the Qingdao campus is China University of Petroleum (East China)
        "name_en": "China University of Petroleum",
        "name_zh": "中国石油大学（华东）",
        "name_ru": "Китайский нефтяной университет",
        "city": "Qingdao",
        "province": "Shandong",
    },
]

INSTITUTES = [
    {
        "name_en": "Institute of Industrial Management, Economics and Trade",
        "name_zh": "工业管理、经济与贸易学院",
        "name_ru": "Институт промышленного менеджмента, экономики и торговли",
    },
    {
        "name_en": "Institute of Computer Science and Technology",
        "name_zh": "计算机科学与技术学院",
        "name_ru": "Институт компьютерных наук и технологий",
    },
]

PROGRAMS = [
    {
        "code": "IE",
        "institute": "Institute of Industrial Management, Economics and Trade",
        "title_en": "Investment Ecosystem",
        "title_zh": "投资生态系统",
        "title_ru": "Инвестиционная экосистема",
        "description_en": (
            "A program for university teachers of economics, finance and management on how "
            "investment ecosystems work: the investors, institutions, markets and instruments "
            "that turn ideas into funded projects, with a focus on cooperation between Russia "
            "and China.\n\n"
            "Online lectures by SPbPU faculty alternate with case studies and seminars, and a "
            "study week in St. Petersburg. Participants finish by preparing an investment "
            "project proposal that they can adapt for their own teaching."
        ),
        "description_zh": (
            "本项目面向经济、金融和管理专业的高校教师，介绍投资生态系统的运作方式：投资者、机构、"
            "市场和投资工具如何把创意转化为获得资金支持的项目，重点关注中俄两国之间的合作。\n\n"
            "圣彼得堡彼得大帝理工大学教师的线上讲座与案例研讨、专题研讨会交替进行，并安排在圣彼得堡的"
            "一周学习。学员在结业时完成一份投资项目方案，可用于自己的教学工作。"
        ),
        "description_ru": (
            "Программа для преподавателей экономики, финансов и менеджмента о том, как устроены "
            "инвестиционные экосистемы: инвесторы, институты, рынки и инструменты, благодаря "
            "которым идеи становятся профинансированными проектами, с акцентом на сотрудничество "
            "России и Китая.\n\n"
            "Онлайн-лекции преподавателей СПбПУ чередуются с разбором кейсов и семинарами, "
            "а учебная неделя проходит в Санкт-Петербурге. В завершение слушатели готовят "
            "инвестиционное предложение, которое смогут использовать в своей преподавательской "
            "работе."
        ),
        "mode": StudyMode.BLENDED,
        "duration_months": 3,
        "capacity": 30,
        # (hours, English, Chinese, Russian): 72 academic hours in all
        "modules": [
            (8, "Foundations of the investment ecosystem", "投资生态系统基础",
             "Основы инвестиционной экосистемы"),
            (10, "Financial markets and investment instruments", "金融市场与投资工具",
             "Финансовые рынки и инвестиционные инструменты"),
            (10, "Venture capital and startup financing", "风险投资与初创企业融资",
             "Венчурный капитал и финансирование стартапов"),
            (12, "Investment project appraisal", "投资项目评估",
             "Оценка инвестиционных проектов"),
            (10, "Legal framework of Russian–Chinese investment cooperation",
             "中俄投资合作的法律框架",
             "Правовые основы российско-китайского инвестиционного сотрудничества"),
            (10, "Digital finance and fintech", "数字金融与金融科技",
             "Цифровые финансы и финтех"),
            (12, "Final project: an investment project proposal", "结业项目：投资项目方案设计",
             "Итоговый проект: разработка инвестиционного предложения"),
        ],
    },
    {
        "code": "IS",
        "institute": "Institute of Computer Science and Technology",
        "title_en": "Intellectual Systems",
        "title_zh": "智能系统",
        "title_ru": "Интеллектуальные системы",
        "description_en": (
            "A program for university teachers of computer science and related fields on the "
            "methods behind today's intelligent systems: machine learning, neural networks, "
            "natural language processing, computer vision and knowledge-based decision "
            "support.\n\n"
            "All classes are online: lectures by SPbPU faculty, hands-on assignments in Python "
            "and consultations. In the final module participants design a course or a course "
            "unit on artificial intelligence for their own students."
        ),
        "description_zh": (
            "本项目面向计算机科学及相关专业的高校教师，讲授当今智能系统背后的方法：机器学习、"
            "神经网络、自然语言处理、计算机视觉以及基于知识的决策支持。\n\n"
            "全部课程在线进行，包括圣彼得堡彼得大帝理工大学教师的讲座、Python 实践作业和答疑辅导。"
            "在最后一个模块中，学员将为自己的学生设计一门人工智能课程或课程单元。"
        ),
        "description_ru": (
            "Программа для преподавателей информатики и смежных направлений о методах, на которых "
            "строятся современные интеллектуальные системы: машинное обучение, нейронные сети, "
            "обработка естественного языка, компьютерное зрение и системы поддержки принятия "
            "решений, основанные на знаниях.\n\n"
            "Все занятия проходят онлайн: лекции преподавателей СПбПУ, практические задания "
            "на Python и консультации. В заключительном модуле слушатели разрабатывают курс "
            "или раздел курса по искусственному интеллекту для своих студентов."
        ),
        "mode": StudyMode.ONLINE,
        "duration_months": 4,
        "capacity": 25,
        # 108 academic hours in all
        "modules": [
            (10, "Introduction to intelligent systems", "智能系统导论",
             "Введение в интеллектуальные системы"),
            (14, "Mathematical foundations of machine learning", "机器学习的数学基础",
             "Математические основы машинного обучения"),
            (16, "Machine learning methods", "机器学习方法", "Методы машинного обучения"),
            (16, "Neural networks and deep learning", "神经网络与深度学习",
             "Нейронные сети и глубокое обучение"),
            (12, "Natural language processing", "自然语言处理",
             "Обработка естественного языка"),
            (12, "Computer vision", "计算机视觉", "Компьютерное зрение"),
            (12, "Knowledge-based systems and decision support", "知识库系统与决策支持",
             "Системы, основанные на знаниях, и поддержка принятия решений"),
            (16, "Teaching AI: course design and final project", "人工智能教学：课程设计与结业项目",
             "Преподавание ИИ: проектирование курса и итоговый проект"),
        ],
    },
]

STAFF: list[dict[str, Any]] = [
    {"email": "admin@example.com", "role": Role.ADMIN, "display_name": "Иван Петров",
     "locale": "en"},
    {"email": "coordinator@example.com", "role": Role.COORDINATOR,
     "display_name": "Анна Смирнова", "locale": "ru"},
]

#: a read-only liaison of the university most demo teachers belong to (partners/)
LIAISONS = [
    {"email": "liaison@example.com", "partner": "Datong University",
     "display_name": "赵敏", "locale": "zh"},
]

TEACHERS: list[dict[str, Any]] = [
    {
        "email": "wang.fang@example.com",
        "locale": "zh",
        "partner": "Tianshui Normal University",
        "profile": {
            "family_name_zh": "王", "given_name_zh": "芳",
            "family_name_latin": "Wang", "given_name_latin": "Fang", "name_ru": "Ван Фан",
            "department": "School of Economics and Management",
            "position": "Head of the Finance Teaching Section",
            "academic_title": AcademicTitle.ASSOCIATE_PROFESSOR,
            "phone": "+86 130 0000 0101", "wechat_id": "wangfang_tsnu",
        },
    },
    {
        "email": "li.wei@example.com",
        "locale": "zh",
        "partner": "Datong University",
        "profile": {
            "family_name_zh": "李", "given_name_zh": "伟",
            "family_name_latin": "Li", "given_name_latin": "Wei", "name_ru": "Ли Вэй",
            "department": "School of Computer and Network Engineering",
            "position": "Lecturer",
            "academic_title": AcademicTitle.LECTURER,
            "phone": "+86 130 0000 0102", "wechat_id": "liwei_dtu",
        },
    },
    {
        "email": "zhang.jing@example.com",
        "locale": "ru",
        "partner": "Shandong University of Railway Transport (Institute of Foreign Languages)",
        "profile": {
            "family_name_zh": "张", "given_name_zh": "静",
            "family_name_latin": "Zhang", "given_name_latin": "Jing", "name_ru": "Чжан Цзин",
            "department": "Department of Russian Language",
            "position": "Teacher of Russian",
            "academic_title": AcademicTitle.LECTURER,
            "phone": "+86 130 0000 0103", "wechat_id": "zhangjing_rus",
        },
    },
    {
        "email": "liu.yang@example.com",
        "locale": "en",
        "partner": "Harbin Cambridge University",
        "profile": {
            "family_name_zh": "刘", "given_name_zh": "洋",
            "family_name_latin": "Liu", "given_name_latin": "Yang", "name_ru": "",
            "department": "School of Intelligent Engineering",
            "position": "Teaching Assistant",
            "academic_title": AcademicTitle.ASSISTANT,
            "phone": "+86 130 0000 0104", "wechat_id": "liuyang_hcu",
        },
    },
    {
        "email": "ouyang.nana@example.com",
        "locale": "zh",
        "partner": "China University of Petroleum",
        "profile": {
            "family_name_zh": "欧阳", "given_name_zh": "娜娜",
            "family_name_latin": "Ouyang", "given_name_latin": "Nana", "name_ru": "Оуян Нана",
            "department": "经济管理学院",
            "position": "系主任",
            "academic_title": AcademicTitle.PROFESSOR,
            "phone": "+86 130 0000 0105", "wechat_id": "ouyangnana_upc",
        },
    },
    {
        # a second teacher of Datong University: the queue's partner filter then finds two
        "email": "chen.hao@example.com",
        "locale": "en",
        "partner": "Datong University",
        "profile": {
            "family_name_zh": "陈", "given_name_zh": "浩",
            "family_name_latin": "Chen", "given_name_latin": "Hao", "name_ru": "Чэнь Хао",
            "department": "School of Economics and Management",
            "position": "Lecturer in Investment Analysis",
            "academic_title": AcademicTitle.LECTURER,
            "phone": "+86 130 0000 0106", "wechat_id": "chenhao_dtu",
        },
    },
]

#: intake dates relative to the portal's today, set when the intake is first created
OPENED_DAYS_AGO = 7
CLOSES_IN_DAYS = 30
STARTS_IN_DAYS = 45


@dataclass
class DemoSummary:
    """What a load created, brought back to the demo values, and found as it should be."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)
    #: what was left out and why, for the operator
    notes: list[str] = field(default_factory=list)
    #: what the new rows amount to, one line each (the finished intake, its certificates)
    lines: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        """True when the load created or changed at least one row."""
        return bool(sum(self.created.values()) or sum(self.updated.values()))


def add_months(day: date, months: int) -> date:
    """The same day of the month, months later (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


#: the seasons' names, by language, and how each language writes "<season> <year>"
SEASONS = {
    "en": ({"winter": "Winter", "spring": "Spring", "summer": "Summer", "autumn": "Autumn"},
           "{season} {year}"),
    "zh": ({"winter": "冬季", "spring": "春季", "summer": "夏季", "autumn": "秋季"},
           "{year}年{season}"),
    "ru": ({"winter": "Зима", "spring": "Весна", "summer": "Лето", "autumn": "Осень"},
           "{season} {year}"),
}


def season_titles(day: date) -> dict[str, str]:
    """An intake's titles from its start date: {"title": "Spring 2027", "title_zh": ...}."""
    season = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring",
              6: "summer", 7: "summer", 8: "summer"}.get(day.month, "autumn")
    titles = {}
    for language, (names, pattern) in SEASONS.items():
        key = "title" if language == "en" else f"title_{language}"
        titles[key] = pattern.format(season=names[season], year=day.year)
    return titles


def season_title(day: date) -> str:
    """An intake's English title from its start date: "Spring 2027"."""
    return season_titles(day)["title"]


def _upsert(model, key: dict, values: dict, kind: str, summary: DemoSummary):
    """Find the row by its natural key; create it, or set the fields that differ."""
    row = db.session.scalar(select(model).filter_by(**key))
    if row is None:
        row = model(**key, **values)
        db.session.add(row)
        summary.created[kind] += 1
        return row
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    (summary.updated if changed else summary.present)[kind] += 1
    return row


def _load_program(spec: dict, institutes: dict[str, Institute], today: date,
                  summary: DemoSummary) -> None:
    """A program, its modules by position, and one intake created only if it has none."""
    values = {k: spec[k] for k in ("title_en", "title_zh", "title_ru", "description_en",
                                   "description_zh", "description_ru", "mode",
                                   "duration_months")}
    values.update(institute_id=institutes[spec["institute"]].id, is_published=True)
    program = _upsert(Program, {"code": spec["code"]}, values, "programs", summary)
    db.session.flush()
    for position, (hours, title_en, title_zh, title_ru) in enumerate(spec["modules"], start=1):
        _upsert(Module, {"program_id": program.id, "position": position},
                {"hours": hours, "title_en": title_en, "title_zh": title_zh,
                 "title_ru": title_ru}, "modules", summary)

    starts_on = today + timedelta(days=STARTS_IN_DAYS)
    titles = season_titles(starts_on)
    has_intake = db.session.scalar(
        select(Intake.id).where(Intake.program_id == program.id).limit(1)
    )
    # an existing intake keeps its dates and seats: tomorrow's run must not move them, and a
    # different season tomorrow must not add a second demo intake
    if has_intake is not None:
        summary.present["intakes"] += 1
        return
    db.session.add(Intake(
        program_id=program.id,
        **titles,
        applications_open_on=today - timedelta(days=OPENED_DAYS_AGO),
        applications_close_on=today + timedelta(days=CLOSES_IN_DAYS),
        starts_on=starts_on,
        ends_on=add_months(starts_on, spec["duration_months"]) - timedelta(days=1),
        capacity=spec["capacity"],
    ))
    summary.created["intakes"] += 1


def _new_user(email: str, role: Role, locale: str, display_name: str = "") -> User:
    """A confirmed, enabled account with the demo password (staff: and the demo authenticator)."""
    user = User(
        email=email,
        password_hash=generate_password_hash(
            DEMO_PASSWORD, method=current_app.config["PASSWORD_HASH_METHOD"]
        ),
        role=role,
        is_enabled=True,
        email_confirmed_at=utcnow(),
        locale=locale,
        display_name=display_name,
    )
    if user.needs_two_factor:
        user.totp_secret = DEMO_TOTP_SECRET
        user.totp_enabled_at = utcnow()
    return user


def demo_two_factor_help() -> list[str]:
    """How a person trying the demo gets the sign-in code of a staff account, without a phone."""
    return [
        "Staff accounts also ask for a two-step sign-in code. Without a phone, print the current",
        "code of any staff account above (only with COURSE_PORTAL_ENV=development, as make run):",
        "  COURSE_PORTAL_ENV=development .venv/bin/flask --app course_portal "
        "users two-factor-code coordinator@example.com",
        f"or add the setup key {DEMO_TOTP_SECRET} (time-based, 6 digits) to an authenticator app.",
    ]


def _load_users(partners: dict[str, PartnerUniversity], summary: DemoSummary) -> None:
    """Create the demo accounts that do not exist yet.

    An existing account is left exactly as it is: its person may have changed the password,
    the profile or the language, and demo-data must never undo that.
    """
    existing = set(db.session.scalars(
        select(User.email).where(User.email.in_([email for email, _ in demo_logins()]))
    ))
    for spec in STAFF:
        if spec["email"] in existing:
            summary.present["users"] += 1
            continue
        db.session.add(_new_user(spec["email"], spec["role"], spec["locale"],
                                 spec["display_name"]))
        summary.created["users"] += 1
    for spec in TEACHERS:
        if spec["email"] in existing:
            summary.present["users"] += 1
            continue
        user = _new_user(spec["email"], Role.TEACHER, spec["locale"])
        user.profile = TeacherProfile(partner_university=partners[spec["partner"]],
                                      **spec["profile"], **register_fields(spec["email"]))
        db.session.add(user)
        db.session.flush()
        # as registration records them: both consents, in the teacher's language
        consent.give(user, list(consent.ConsentKind), spec["locale"])
        summary.created["users"] += 1
    for spec in LIAISONS:
        if spec["email"] in existing:
            summary.present["users"] += 1
            continue
        user = _new_user(spec["email"], Role.PARTNER_LIAISON, spec["locale"],
                         spec["display_name"])
        user.partner_university = partners[spec["partner"]]
        db.session.add(user)
        summary.created["users"] += 1


def load_demo_data() -> DemoSummary:
    """Upsert the demo rows by their natural keys and flush; the caller commits."""
    summary = DemoSummary()
    partners = {
        spec["name_en"]: _upsert(
            PartnerUniversity, {"name_en": spec["name_en"]},
            {k: v for k, v in spec.items() if k != "name_en"}, "partner universities", summary,
        )
        for spec in PARTNERS
    }
    institutes = {
        spec["name_en"]: _upsert(
            Institute, {"name_en": spec["name_en"]},
            {k: v for k, v in spec.items() if k != "name_en"}, "institutes", summary,
        )
        for spec in INSTITUTES
    }
    db.session.flush()
    today = portal_today()
    for spec in PROGRAMS:
        _load_program(spec, institutes, today, summary)
    _load_users(partners, summary)
    db.session.flush()
    load_demo_applications(summary)
    load_signatories(summary)
    load_finished_intake(summary)
    load_open_schedule(summary)
    return summary


def demo_logins(existing_only: bool = False) -> list[tuple[str, str]]:
    """The demo accounts as (email, role); with existing_only, those in the database."""
    logins = [(spec["email"], str(spec["role"])) for spec in STAFF]
    logins += [(spec["email"], str(Role.TEACHER)) for spec in TEACHERS]
    logins += [(spec["email"], str(Role.PARTNER_LIAISON)) for spec in LIAISONS]
    if not existing_only:
        return logins
    present = set(db.session.scalars(
        select(User.email).where(User.email.in_([email for email, _ in logins]))
    ))
    return [(email, role) for email, role in logins if email in present]


def demo_password_works(email: str) -> bool:
    """True when the account exists and still has the demo password."""
    user = db.session.scalar(select(User).where(User.email == email))
    return user is not None and check_password_hash(user.password_hash, DEMO_PASSWORD)


def database_has_users() -> bool:
    """True when any account exists, demo or not."""
    return db.session.scalar(select(User.id).limit(1)) is not None
