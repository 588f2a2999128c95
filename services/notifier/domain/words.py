"""Plain words for the matcher's explanation vocabulary (``schemas.alert.How``), as the console
and the e-mail show it."""

from __future__ import annotations

HOW: dict[str, str] = {
    "exact": "identical on both sides",
    "same": "the same",
    "transliteration": "the same name written in another alphabet",
    "spelling_variant": "a known spelling variant of the same name",
    "known_variant": "another recorded spelling of the same name (Wikidata name records)",
    "one_edit": "differs by one letter (a typing or reading slip is likely)",
    "sounds_alike": "spelt with other letters of the same sound (such as b and v, s and z)",
    "two_edits": "differs by two letters",
    "gender_form": "the same surname in its male or female form",
    "swapped_order": "the same names in a different order",
    "partial_date": "the list knows only part of the date, and that part agrees",
    "placeholder_date": "one side uses a placeholder date (such as 1 January)",
    "day_month_swapped": "the same date with day and month swapped",
    "one_digit_different": "differs by one digit (a typing or reading slip is likely)",
    "same_year_month": "only the year and month agree",
    "same_year": "only the year agrees",
    "different": "does not agree",
    "contradicts": "contradicts the list",
    "unknown": "cannot be compared (missing on one side)",
    "only_in_event": "given only by the event",
    "same_number": "the same document number",
    "same_number_other_format": "the same document number, written differently",
    "name_from_mrz": "the name compared is the one in the document's machine-readable zone "
    "(MRZ), which differs from the name typed for the event",
    "check_digit_failed": "the check digits of the document's machine-readable zone (MRZ) do "
    "not add up: it may be misread, altered or forged; check the document itself",
}

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
    return HOW.get(how, how.replace("_", " "))


def field_text(field: str) -> str:
    return FIELDS.get(field, field.replace("_", " ").capitalize())


def strength(score: float) -> str:
    if score >= 0.9:
        return "strong"
    if score >= 0.6:
        return "partial"
    return "weak"
