"""What a certificate states, frozen at issuing and stored as JSON: CertificateSnapshot.

Layout 1 is what the portal issued first: the teacher's credited hours, the coordinator who
pressed the button as "Issued by", no signatories. Layout 2 prints the programme's volume,
the form of study, the signatories in force and each language's statement. A stored snapshot is
never rewritten: its PDF is frozen, so the snapshot keeps saying what that PDF printed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime

#: the layout new certificates are issued in
CURRENT_LAYOUT = 2

UNIVERSITY_NAME_EN = "Peter the Great St. Petersburg Polytechnic University"
UNIVERSITY_NAME_RU = "Санкт-Петербургский политехнический университет Петра Великого"
UNIVERSITY_NAME_ZH = "彼得大帝圣彼得堡理工大学"

#: the words printed for a snapshot's result code; an unknown code is printed as it is
RESULT_LABELS = {
    "passed": {"ru": "зачтено", "en": "passed", "zh": "合格"},
    "passed_with_distinction": {"ru": "зачтено с отличием", "en": "passed with distinction", "zh": "优秀"},
}

#: форма обучения as the certificate prints it (StudyForm's values)
STUDY_FORM_WORDS = {
    "full_time": {"ru": "очная", "en": "full-time", "zh": "全日制"},
    "part_time": {"ru": "очно-заочная", "en": "part-time", "zh": "半脱产"},
    "extramural": {"ru": "заочная", "en": "extramural", "zh": "函授"},
}
#: how the intake was taught (StudyMode's values); the Chinese reader reads this as the form
DELIVERY_WORDS = {
    "on_site": {"ru": "", "en": "on site", "zh": "面授"},
    "online": {"ru": "с применением дистанционных образовательных технологий",
               "en": "online, with distance learning technologies", "zh": "线上"},
    "blended": {"ru": "с применением дистанционных образовательных технологий",
                "en": "blended, partly with distance learning technologies", "zh": "线上线下结合"},
}


def study_form_words(study_form: str, delivery: str) -> dict[str, str]:
    """The form of study in each language: очная, с применением ДОТ / full-time, online / 线上."""
    form = STUDY_FORM_WORDS.get(study_form, dict.fromkeys(("ru", "en", "zh"), study_form))
    how = DELIVERY_WORDS.get(delivery, dict.fromkeys(("ru", "en", "zh"), delivery))
    return {
        "ru": ", ".join(p for p in (form["ru"], how["ru"]) if p),
        "en": ", ".join(p for p in (form["en"], how["en"]) if p),
        # a Chinese HR office reads how the course was taught: 面授 / 线上 / 线上线下结合
        "zh": how["zh"] or form["zh"],
    }


def hours_genitive_ru(hours: int) -> str:
    """«в объёме 72 академических часов», «в объёме 21 академического часа»."""
    if hours % 10 == 1 and hours % 100 != 11:
        return f"{hours} академического часа"
    return f"{hours} академических часов"


@dataclass(frozen=True, kw_only=True)
class SignatoryLine:
    """One signature line as printed: position, the order's words, the name, the image's hash."""

    #: rector, director or secretary
    role: str
    name_ru: str = ""
    name_en: str = ""
    name_zh: str = ""
    position_ru: str = ""
    position_en: str = ""
    position_zh: str = ""
    authority_ru: str = ""
    authority_en: str = ""
    authority_zh: str = ""
    #: hex SHA-256 of the signature's PNG placed on the line; empty without one
    signature_sha256: str = ""

    def texts(self) -> list[str]:
        """Every string the line prints."""
        return [getattr(self, f.name) for f in fields(self)
                if f.name not in ("role", "signature_sha256")]


class SnapshotProblem(ValueError):
    """A value the certificate cannot state; field names it, so a caller can say which.

    The text is for the log (this module has no app and no reader's language);
    certificates.services words it for the coordinator.
    """

    def __init__(self, field: str, text: str):
        super().__init__(text)
        self.field = field


@dataclass(frozen=True, kw_only=True)
class CertificateSnapshot:
    """Everything one certificate states, frozen at issuing and stored as JSON."""

    #: e.g. IE-2026-0001
    registry_number: str
    #: family name then given name in Chinese characters, no space: 欧阳娜娜
    name_zh: str
    #: as in the passport, FAMILY Given: OUYANG Nana
    name_latin: str
    #: the full name in Cyrillic, family name first (Оуян Нана); optional in layout 1 only
    name_ru: str = ""
    partner_university_en: str = ""
    partner_university_zh: str = ""
    partner_university_ru: str = ""
    program_title_ru: str
    program_title_en: str
    program_title_zh: str
    institute_name_ru: str
    institute_name_en: str
    institute_name_zh: str
    #: academic hours as printed: the programme's volume (layout 1: the hours credited)
    hours: int
    starts_on: date
    ends_on: date
    #: a code such as "passed"; RESULT_LABELS gives its words in each language
    result: str
    issued_on: date
    #: layout 1: the coordinator who issued it, printed as "Issued by"; empty from layout 2,
    #: where the coordinator is in the history and the signatories are printed instead
    issued_by: str = ""
    #: the issuing organisation: from layout 2 its full legal name
    university_name_en: str = UNIVERSITY_NAME_EN
    university_name_ru: str = UNIVERSITY_NAME_RU
    university_name_zh: str = UNIVERSITY_NAME_ZH
    #: 1 for the certificates issued before the layout below; see the module's docstring
    layout_version: int = 1
    #: StudyForm and StudyMode values of the intake; empty in layout 1
    study_form: str = ""
    delivery: str = ""
    #: the city of issue
    city_ru: str = "Санкт-Петербург"
    city_en: str = "Saint Petersburg"
    city_zh: str = "圣彼得堡"
    #: rector, director, secretary as they were when it was issued
    signatories: tuple[SignatoryLine, ...] = field(default=())
    #: hex SHA-256 of the seal's image on the PDF; empty when the seal's place is marked М. П.
    seal_sha256: str = ""

    def __post_init__(self):
        # with `from __future__ import annotations` each field's type is its annotation's text
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "date" and (not isinstance(value, date) or isinstance(value, datetime)):
                raise SnapshotProblem(f.name, f"{f.name} must be a date, not {type(value).__name__}")
            if f.type == "str" and not isinstance(value, str):
                raise SnapshotProblem(f.name,
                                      f"{f.name} must be a string, not {type(value).__name__}")
        if isinstance(self.hours, bool) or not isinstance(self.hours, int) or self.hours <= 0:
            raise SnapshotProblem("hours", "hours must be a positive whole number")
        if self.ends_on < self.starts_on:
            raise SnapshotProblem("ends_on", "ends_on is before starts_on")
        required = ["registry_number", "name_zh", "name_latin", "result"]
        required.append("issued_by" if self.layout_version == 1 else "name_ru")
        for name in required:
            if not getattr(self, name).strip():
                raise SnapshotProblem(name, f"{name} is empty")
        if not all(isinstance(line, SignatoryLine) for line in self.signatories):
            raise ValueError("signatories must be SignatoryLine values")

    @property
    def prints_programme_volume(self) -> bool:
        """False for layout 1, which printed the teacher's credited hours as the volume."""
        return self.layout_version >= 2

    def to_dict(self) -> dict:
        """Plain JSON types: dates as ISO strings, signatories as a list of dicts."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, date):
                data[key] = value.isoformat()
        data["signatories"] = [dict(line) for line in data["signatories"]]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> CertificateSnapshot:
        """The snapshot that to_dict() wrote; unknown keys are an error, not silently dropped."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown certificate fields: {', '.join(unknown)}")
        values = dict(data)
        for key, value in data.items():
            if known[key].type == "date" and isinstance(value, str):
                values[key] = date.fromisoformat(value)
        if "signatories" in values:
            values["signatories"] = tuple(SignatoryLine(**line) for line in values["signatories"])
        return cls(**values)

    def texts(self) -> list[str]:
        """Every string the certificate prints from this snapshot."""
        texts = [getattr(self, f.name) for f in fields(self) if f.type == "str"]
        for line in self.signatories:
            texts.extend(line.texts())
        return texts

    def signatory(self, role: str) -> SignatoryLine | None:
        """The line of a role, or None."""
        return next((line for line in self.signatories if line.role == role), None)
