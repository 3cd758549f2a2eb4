"""The demo's catalog and people: partner universities, institutes, programmes with their
modules, staff, liaisons and teachers, as ops/demo.py loads them."""

from __future__ import annotations

from typing import Any

from course_portal.accounts.models import AcademicTitle, Role
from course_portal.catalog.models import StudyMode

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
