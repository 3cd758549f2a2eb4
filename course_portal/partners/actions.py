"""The audit-log actions of the partner pages, with the labels the audit page shows for them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: every action partners/ records with core.audit.record(), as "<thing>.<verb>"
PARTNER_ACTIONS = {
    "partner.liaison_added": _l("Partner liaison added"),
    "partner.liaison_disabled": _l("Partner liaison disabled"),
    "partner.report_exported": _l("Partner liaison exported the list of teachers"),
    "partner.certificate_downloaded": _l("Partner liaison downloaded a certificate"),
}
