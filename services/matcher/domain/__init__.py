"""The screener: pure code, no I/O, shared by ``relay screen`` and the streaming matcher.

API::

    index = WatchlistIndex()
    index.upsert(entry_record(entry))    # entry: schemas WatchlistEntry or decoded JSON mapping;
                                         # a cancelled entry removes it (so does remove(entry_id))
    index.remove(entry_id)               # tombstone
    len(index)                           # active entries
    matches = Screener(index).screen(event)   # event: schemas Event, mapping or EventRecord
    alerts = [to_alert(m, created_at) for m in matches]   # schemas.alert.Alert
    lines = [to_alert_json(m, created_at) for m in matches]  # the same, as encoded bytes

``screen`` returns at most one ``Match`` per entry, best first: document hits (state + number,
strong whatever the name says) and person hits (names across scripts and transliterations,
date of birth, nationality, sex), each with a band, a score, an urgency and a field-by-field
explanation. An event is screened under its typed name and, when it differs, its MRZ's name
too; an MRZ whose check digits fail is named in every alert of the event (see mrz.py).
Every match is an alert: ``strong`` (act now) and ``possible`` (a human looks).
"""

from services.matcher.domain.alerts import to_alert, to_alert_json
from services.matcher.domain.index import WatchlistIndex
from services.matcher.domain.records import EventRecord, entry_record, event_record
from services.matcher.domain.score import Match
from services.matcher.domain.screener import Screener

__all__ = [
    "EventRecord",
    "Match",
    "Screener",
    "WatchlistIndex",
    "entry_record",
    "event_record",
    "to_alert",
    "to_alert_json",
]
