"""A duty officer's words for the wire's codes: the matcher's explanation vocabulary
(``schemas.alert.How``), field names, lists, actions, states.

Every text here is an English msgid marked with ``N_`` for the gettext catalogues (``locale/``).
Functions take the reader's ``gettext`` (``services.notifier.i18n.translator(lang).gettext``)
and answer in that language; the console gets the msgids and translates them with ``t()``.
"""

from __future__ import annotations

from collections.abc import Callable

from schemas.alert import How

Gettext = Callable[[str], str]


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; it is translated where it is shown."""
    return msgid


def english(msgid: str) -> str:
    return msgid


# The console's OpenID Connect button unless a bureau names its own (not translated then).
OIDC_LABEL = N_("Sign in with your bureau's account")


# The languages of the catalogues (locale/<code>/), each by its own name as the console's
# switcher shows it. Uzbek is written in Latin script.
LANGUAGES: dict[str, str] = {
    "en": "English",
    "ru": "Русский",
    "uz": "Oʻzbekcha",
    "kk": "Қазақша",
    "ky": "Кыргызча",
    "tg": "Тоҷикӣ",
    "tk": "Türkmençe",
}


HOW: dict[How, str] = {
    How.EXACT: N_("identical on both sides"),
    How.SAME: N_("the same"),
    How.TRANSLITERATION: N_("the same name written in another alphabet"),
    How.SPELLING_VARIANT: N_("a known spelling variant of the same name"),
    How.KNOWN_VARIANT: N_("another recorded spelling of the same name (Wikidata name records)"),
    How.ONE_EDIT: N_("differs by one letter (a typing or reading slip is likely)"),
    How.SOUNDS_ALIKE: N_("spelt with other letters of the same sound (such as b and v, s and z)"),
    How.TWO_EDITS: N_("differs by two letters"),
    How.GENDER_FORM: N_("the same surname in its male or female form"),
    How.SWAPPED_ORDER: N_("the same names in a different order"),
    How.PARTIAL_DATE: N_("the list knows only part of the date, and that part agrees"),
    How.PLACEHOLDER_DATE: N_("one side uses a placeholder date (such as 1 January)"),
    How.DAY_MONTH_SWAPPED: N_("the same date with day and month swapped"),
    How.ONE_DIGIT_DIFFERENT: N_("differs by one digit (a typing or reading slip is likely)"),
    How.SAME_YEAR_MONTH: N_("only the year and month agree"),
    How.SAME_YEAR: N_("only the year agrees"),
    How.DIFFERENT: N_("does not agree"),
    How.CONTRADICTS: N_("contradicts the list"),
    How.UNKNOWN: N_("cannot be compared (missing on one side)"),
    How.ONLY_IN_EVENT: N_("given only by the event"),
    How.SAME_NUMBER: N_("the same document number"),
    How.SAME_NUMBER_OTHER_FORMAT: N_("the same document number, written differently"),
    How.NAME_FROM_MRZ: N_(
        "the name compared is the one in the document's machine-readable zone (MRZ), "
        "which differs from the name typed for the event"
    ),
    How.CHECK_DIGIT_FAILED: N_(
        "the check digits of the document's machine-readable zone (MRZ) do not add up: "
        "it may be misread, altered or forged; check the document itself"
    ),
}

_CODES = {code.value: code for code in How}

FIELDS: dict[str, str] = {
    "name": N_("Name"),
    "surname": N_("Surname"),
    "given_names": N_("Given names"),
    "patronymic": N_("Patronymic"),
    "date_of_birth": N_("Date of birth"),
    "sex": N_("Sex"),
    "nationality": N_("Nationality"),
    "document": N_("Document"),
    "document_number": N_("Document number"),
    "issuing_state": N_("Issuing state"),
    "mrz": N_("Machine-readable zone (MRZ)"),
}

# Codes of the wire's vocabularies as shown: lists (INTERPOL's own names), requested actions,
# bands, urgencies, console states, event types, SLTD statuses, notices, deliveries, channels.
LABELS: dict[str, str] = {
    "red_notice": N_("Red Notice"),
    "yellow_notice": N_("Yellow Notice"),
    "diffusion": N_("Diffusion"),
    "blue_notice": N_("Blue Notice"),
    "green_notice": N_("Green Notice"),
    "sltd": N_("Stolen and Lost Travel Documents (SLTD)"),
    "arrest": N_("arrest"),
    "locate": N_("locate"),
    "protect": N_("protect"),
    "inform": N_("inform"),
    "seize_document": N_("seize the document"),
    "strong": N_("strong"),
    "possible": N_("possible"),
    "urgent": N_("urgent"),
    "normal": N_("normal"),
    "low": N_("low"),
    "open": N_("open"),
    "escalated": N_("escalated"),
    "cannot_act": N_("cannot act"),
    "acknowledged": N_("acknowledged"),
    "resolved": N_("resolved"),
    "cancelled": N_("cancelled"),
    "border_crossing": N_("border crossing"),
    "document_check": N_("document check"),
    "stolen": N_("stolen"),
    "stolen_blank": N_("stolen blank"),
    "lost": N_("lost"),
    "revoked": N_("revoked"),
    "invalidated": N_("invalidated"),
    "alert": N_("alert"),
    "update": N_("update"),
    "escalation": N_("escalation"),
    "cancellation": N_("cancellation"),
    "hit_report": N_("hit report"),
    "reminder": N_("reminder: outcome overdue"),
    "pending": N_("pending"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "failed": N_("failed, will retry"),
    "dead_lettered": N_("not delivered"),
    "webhook": N_("webhook"),
    "email": N_("e-mail"),
    "console": N_("console"),
    "M": N_("male"),
    "F": N_("female"),
    "X": N_("unspecified"),
}

# A yellow notice of a minor: what the officer does first, before anything else is read.
PROTECTION_TITLE = N_("Missing child: protect the child first")
PROTECTION_STEPS: tuple[str, ...] = (
    N_("Keep the child with an officer in a safe place; do not let the child leave."),
    N_("Do not tell the child or any accompanying adult that a notice exists."),
    N_(
        "Check who the accompanying adults are and whether they may travel with the child "
        "(documents, parents' consent)."
    ),
    N_("Call your National Central Bureau now; it informs the issuing country."),
    N_("Let a child-protection or juvenile officer talk to the child."),
)


def how_text(how: str, gettext: Gettext = english) -> str:
    """A code this notifier does not know (a newer matcher's) is shown as written."""
    code = _CODES.get(how)
    return gettext(HOW[code]) if code is not None else how.replace("_", " ")


def field_text(field: str, gettext: Gettext = english) -> str:
    known = FIELDS.get(field)
    return gettext(known) if known else field.replace("_", " ").capitalize()


def label(code: str | None, gettext: Gettext = english) -> str:
    """A code's words; an unknown code as written, without underscores."""
    if not code:
        return ""
    known = LABELS.get(code)
    return gettext(known) if known else code.replace("_", " ")


def protection_first(list_kind: str, minor: bool | None) -> bool:
    return list_kind == "yellow_notice" and bool(minor)


def strength(score: float) -> str:
    if score >= 0.9:
        return "strong"
    if score >= 0.6:
        return "partial"
    return "weak"
