"""Plain words for the matcher's explanation vocabulary (``schemas.alert.How``), as the console
and the e-mail show it, in English (the notifier's one language)."""

from __future__ import annotations

from schemas.alert import How

HOW: dict[How, str] = {
    How.EXACT: "identical on both sides",
    How.SAME: "the same",
    How.TRANSLITERATION: "the same name written in another alphabet",
    How.SPELLING_VARIANT: "a known spelling variant of the same name",
    How.KNOWN_VARIANT: "another recorded spelling of the same name (Wikidata name records)",
    How.ONE_EDIT: "differs by one letter (a typing or reading slip is likely)",
    How.SOUNDS_ALIKE: "spelt with other letters of the same sound (such as b and v, s and z)",
    How.TWO_EDITS: "differs by two letters",
    How.GENDER_FORM: "the same surname in its male or female form",
    How.SWAPPED_ORDER: "the same names in a different order",
    How.PARTIAL_DATE: "the list knows only part of the date, and that part agrees",
    How.PLACEHOLDER_DATE: "one side uses a placeholder date (such as 1 January)",
    How.DAY_MONTH_SWAPPED: "the same date with day and month swapped",
    How.ONE_DIGIT_DIFFERENT: "differs by one digit (a typing or reading slip is likely)",
    How.SAME_YEAR_MONTH: "only the year and month agree",
    How.SAME_YEAR: "only the year agrees",
    How.DIFFERENT: "does not agree",
    How.CONTRADICTS: "contradicts the list",
    How.UNKNOWN: "cannot be compared (missing on one side)",
    How.ONLY_IN_EVENT: "given only by the event",
    How.SAME_NUMBER: "the same document number",
    How.SAME_NUMBER_OTHER_FORMAT: "the same document number, written differently",
    How.NAME_FROM_MRZ: "the name compared is the one in the document's machine-readable zone "
    "(MRZ), which differs from the name typed for the event",
    How.CHECK_DIGIT_FAILED: "the check digits of the document's machine-readable zone (MRZ) do "
    "not add up: it may be misread, altered or forged; check the document itself",
}

_CODES = {code.value: code for code in How}

FIELDS: dict[str, str] = {
    "name": "Name",
    "surname": "Surname",
    "given_names": "Given names",
    "patronymic": "Patronymic",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "nationality": "Nationality",
    "document": "Document",
    "document_number": "Document number",
    "issuing_state": "Issuing state",
    "mrz": "Machine-readable zone (MRZ)",
}


def how_text(how: str) -> str:
    """A code this notifier does not know (a newer matcher's) is shown as written."""
    code = _CODES.get(how)
    return HOW[code] if code is not None else how.replace("_", " ")


def field_text(field: str) -> str:
    return FIELDS.get(field, field.replace("_", " ").capitalize())


def strength(score: float) -> str:
    if score >= 0.9:
        return "strong"
    if score >= 0.6:
        return "partial"
    return "weak"
