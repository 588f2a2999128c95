"""The state snapshot: written atomically, read back to go on where it stopped, and refused
(with a reason, never a crash) when it is damaged, foreign, stale or of other code."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import stat
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from schemas.event import Event
from schemas.lead import Pattern
from services.analyst import snapshot
from services.analyst.domain import Analyser, Params
from services.analyst.domain.leads import LeadBook
from services.analyst.handlers import Analysis
from services.analyst.history import History
from services.analyst.metrics import AnalystMetrics
from services.analyst.snapshot import MAGIC, Refused, SnapshotStore
from tests.unit.analyst.builders import KEY, START, P, event, party

TOPIC = "t-analyst.sightings"
ESCORT = P("TURSUNOV", "BAKHTIYOR", "1979-05-14", number="FA1000001")
MINORS = [
    P("ABDULLAEVA", "MADINA", "2011-02-03", "F", number="FA2000001"),
    P("SOBIROV", "JAHONGIR", "2012-07-08", number="FA2000002"),
    P("NURMATOVA", "ZARINA", "2010-11-12", "F", number="FA2000003"),
]


def trip(n: int) -> list[Event]:
    pid = f"T-{n}"
    return [
        event(ESCORT, 7 * n, party=party(pid, "guardian", "not_shown")),
        event(MINORS[n], 7 * n, party=party(pid, consent="not_shown")),
    ]


def two_trips() -> Analyser:
    """As the service feeds it: each event, then the purge's clock on its time."""
    analyser = Analyser(Params(), KEY)
    for item in trip(0) + trip(1):
        assert analyser.observe(item) == []
        analyser.tick(item.occurred_at)
    return analyser


def store(tmp_path: Path, key: bytes = KEY, params: Params | None = None) -> SnapshotStore:
    return SnapshotStore(tmp_path / "state", TOPIC, key, params or Params())


def written(tmp_path: Path) -> SnapshotStore:
    analyser = two_trips()
    target = store(tmp_path)
    target.write({0: analyser}, {0: 4}, analyser.book, START)
    return target


def test_a_loaded_state_goes_on_where_it_stopped(tmp_path: Path) -> None:
    target = written(tmp_path)
    book = LeadBook()
    snapshot = target.read(book)
    assert snapshot.offsets == {0: 4}
    assert snapshot.written_at == START
    loaded = snapshot.analysers[0]
    assert loaded.book is book  # the book comes from ``leads``, not from the file
    # the third trip completes the pattern, with the same lead as a state never stopped
    [grown] = [lead for item in trip(2) for lead in loaded.observe(item)]
    never_stopped = two_trips()
    [same] = [lead for item in trip(2) for lead in never_stopped.observe(item)]
    assert grown.pattern is Pattern.SERIAL_ESCORT
    assert (grown.lead_id, grown.summary) == (same.lead_id, same.summary)
    assert book.leads == {grown.lead_id: grown}


def test_the_file_is_private_and_holds_no_key(tmp_path: Path) -> None:
    target = written(tmp_path)
    data = target.path.read_bytes()
    assert KEY not in data
    assert stat.S_IMODE(target.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.path.parent.stat().st_mode) == 0o700
    assert os.listdir(target.path.parent) == [target.path.name]  # no temporary file left


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]


def _version(data: bytes) -> bytes:
    at = len(MAGIC)
    return data[:at] + struct.pack(">H", 99) + data[at + 2 :]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: d[: len(d) // 2], "tag does not match"),  # truncated
        (lambda d: d[:10], "not a snapshot"),
        (_flip, "tag does not match"),  # one bit
        (lambda d: b"\x80\x05garbage" + d, "not a snapshot"),  # a plain pickle is never read
        (lambda d: b"", "not a snapshot"),
        (_version, "format 99"),
    ],
    ids=["truncated", "cut-short", "bit-flip", "foreign", "empty", "other-version"],
)
def test_a_damaged_file_is_refused_with_its_reason(
    tmp_path: Path, damage: Callable[[bytes], bytes], reason: str
) -> None:
    target = written(tmp_path)
    target.path.write_bytes(damage(target.path.read_bytes()))
    with pytest.raises(Refused, match=reason):
        target.read(LeadBook())


def test_a_file_of_another_key_topic_or_thresholds_is_refused(tmp_path: Path) -> None:
    written(tmp_path)
    other_key = store(tmp_path, key=b"another-pseudonymisation-key-98765")
    with pytest.raises(Refused, match="another key"):
        other_key.read(LeadBook())
    with pytest.raises(Refused, match="other thresholds"):
        store(tmp_path, params=Params(retention_days=30)).read(LeadBook())
    foreign = SnapshotStore(tmp_path / "state", "u-analyst.sightings", KEY, Params())
    os.replace(tmp_path / "state" / f"{TOPIC}.snapshot", foreign.path)
    foreign.topic = TOPIC  # the file of one topic, found under another's name
    with pytest.raises(Refused, match="another topic"):
        SnapshotStore(tmp_path / "state", "u-analyst.sightings", KEY, Params()).read(LeadBook())


def test_no_file_is_refused_quietly(tmp_path: Path) -> None:
    with pytest.raises(Refused, match="no snapshot"):
        store(tmp_path).read(LeadBook())


def test_the_purge_still_holds_after_a_load(tmp_path: Path) -> None:
    """A snapshot older than the window: its sightings are forgotten at the first purge."""
    target = written(tmp_path)
    late = START + dt.timedelta(days=Params().retention_days + 30)
    history = History(Params(), KEY, AnalystMetrics(), clock=lambda: late, store=target)
    [loaded] = target.read(history.book).analysers.values()
    history.partitions[TopicPartition(TOPIC, 0)] = Analysis(loaded, history.metrics)
    history.purge()
    assert history.metrics.persons._value.get() == 0
    # nothing of the two old trips is left to complete a pattern
    assert [lead for item in trip(2) for lead in loaded.observe(item)] == []


def test_a_snapshot_that_cannot_be_written_is_logged_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    history = History(Params(), KEY, AnalystMetrics(), store=store(blocker))
    analyser = two_trips()
    analyser.book = history.book
    history.partitions[TopicPartition(TOPIC, 0)] = Analysis(analyser, history.metrics)
    history.positions[TopicPartition(TOPIC, 0)] = 4
    history.clean = True
    asyncio.run(history.save("test"))  # NotADirectoryError: logged
    assert not (blocker / "state").exists()


def test_no_snapshot_while_a_found_lead_is_unpublished(tmp_path: Path) -> None:
    target = store(tmp_path)
    history = History(Params(), KEY, AnalystMetrics(), store=target)
    history.positions[TopicPartition(TOPIC, 0)] = 4
    history.clean = False
    asyncio.run(history.save("test"))
    assert not target.path.exists()
    history.clean = True
    asyncio.run(history.save("test"))
    assert target.read(LeadBook()).offsets == {0: 4}


def test_a_state_that_did_not_move_is_not_written_again_until_a_purge_may_have_run(
    tmp_path: Path,
) -> None:
    analyser = two_trips()
    target = store(tmp_path)
    assert target.write({0: analyser}, {0: 4}, analyser.book, START) > 0
    assert target.write({0: analyser}, {0: 4}, analyser.book, START + dt.timedelta(hours=1)) == 0
    assert target.write({0: analyser}, {0: 5}, analyser.book, START) > 0  # it moved
    a_day = START + Params().purge_every
    assert target.write({0: analyser}, {0: 5}, analyser.book, a_day) > 0  # purged, perhaps


def test_a_file_of_other_analysis_code_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The domain's shape may have changed: its sources' fingerprint is in the header."""
    target = written(tmp_path)
    monkeypatch.setattr(snapshot, "DOMAIN", "0" * 32)
    with pytest.raises(Refused, match="other analysis code"):
        target.read(LeadBook())
