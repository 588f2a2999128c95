"""Plain words for the matcher's explanation vocabulary (see services/matcher/domain/explain.py),
as the console and the e-mail show it."""

from __future__ import annotations

HOW: dict[str, str] = {
    "exact": "identical on both sides",
    "same": "the same",
    "transliteration": "the same name written in another alphabet",
    "spelling_variant": "a known spelling variant of the same name",
    "one_edit": "differs by one letter (a typing or reading slip is likely)",
    "sounds_alike": "spelt with other letters of the same sound (such as b and v, s and z)",
    "two_edits": "differs by two letters",
    "gender_form": "the same surname in its male or female form",
    "swapped_order": "the same names in a different order",
    "partial_date": "the list knows only part of the date, and that part agrees",
    "placeholder_date": "one side uses a placeholder date (such as 1 January)",
    "day_month_swapped": "the same date with day and month swapped",
    "same_year": "only the year agrees",
    "different": "does not agree",
    "contradicts": "contradicts the list",
    "unknown": "cannot be compared (missing on one side)",
    "only_in_event": "given only by the event",
    "same_number": "the same document number",
    "same_number_other_format": "the same document number, written differently",
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
