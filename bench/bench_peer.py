"""Our engine against nomenklatura's logic-v2 (OpenSanctions; yente's default) on screening-dev.

Both score the same events in the same run. The peer lives in a throw-away venv outside the
project (``make bench-peer`` makes /tmp/peer-venv); this file starts it as a worker process
(``--worker``), so its top-level imports are the standard library only.

Peer set-up, chosen to be generous to it:
- Person entries become FollowTheMoney ``Person`` entities (name, firstName, lastName,
  fatherName, alias for further name forms, birthDate as listed, nationality, gender,
  passportNumber / idNumber); event travellers the same but with the full name only (no
  part tags), which scores better for the peer. SLTD entries are not persons: the SLTD
  categories are reported for us only.
- Blocking (the peer has no index here): every person entry born in the event's birth year,
  every entry without a birth date, and every entry listing the presented document number.
  On screening-dev this loses no expected pair (``blocking_recall`` in the output).
- Alert when the logic-v2 score is >= 0.7 (yente's default threshold).

Ours: ``Screener`` over the whole watchlist; every alert has a score, so the comparison at equal
precision takes the highest recall over our score thresholds with precision >= the peer's.

Run: ``make bench-peer`` (or ``.venv/bin/python -m bench.bench_peer --sample 1500``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import re
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "screening-dev"
RESULTS = Path(__file__).resolve().parent / "results"
PEER_PYTHON = "/tmp/peer-venv/bin/python"  # noqa: S108 - a throw-away venv outside the project
PEER_THRESHOLD = 0.7
SCORE_FLOOR = 0.3  # peer pairs below this are not kept (they only matter for its curve's tail)
# The example (surname, given names): logic-v2 gives it 0.38.
EXAMPLE: dict[str, tuple[str, str]] = {"event": ("Ёкубов", "Жасур"), "entry": ("YOQUBOV", "JASUR")}
EXAMPLE_DOB = "1985-03-12"

Row = dict[str, Any]


def read_jsonl(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _number(value: str | None) -> str:
    return re.sub(r"[^0-9A-Z]", "", (value or "").upper())


# --- the peer (runs under the peer venv's python) -------------------------------------------


class PeerModel:
    """FollowTheMoney entities for the watchlist's people, with the blocking described above."""

    def __init__(self, watchlist: Iterable[Row]) -> None:
        self.ftm = importlib.import_module("followthemoney")
        self.by_year: dict[str, list[Any]] = defaultdict(list)
        self.undated: list[Any] = []
        self.by_number: dict[str, list[Any]] = defaultdict(list)
        for entry in watchlist:
            if entry.get("person"):
                self._add(entry)

    def _add(self, entry: Row) -> None:
        person = entry["person"]
        entity = self.person(entry["entry_id"], person["names"], person)
        for nationality in person.get("nationalities") or []:
            entity.add("nationality", nationality.lower())
        for document in person.get("documents") or []:
            self._document(entity, document)
            self.by_number[_number(document.get("number"))].append(entity)
        dob = person.get("date_of_birth")
        (self.by_year[dob[:4]] if dob else self.undated).append(entity)

    def person(self, entity_id: str, names: list[Row], facts: Row) -> Any:
        entity = self.ftm.model.make_entity("Person")
        entity.id = entity_id
        for position, form in enumerate(names):
            parts = [form.get("given_names"), form.get("patronymic"), form.get("surname")]
            full = " ".join(p for p in parts if p)
            entity.add("name" if position == 0 else "alias", full)
            entity.add("firstName", form.get("given_names"))
            entity.add("lastName", form.get("surname"))
            entity.add("fatherName", form.get("patronymic"))
        entity.add("birthDate", facts.get("date_of_birth"))
        sex = {"M": "male", "F": "female"}.get(facts.get("sex") or "")
        entity.add("gender", sex)
        return entity

    def _document(self, entity: Any, document: Row) -> None:
        prop = "passportNumber" if document.get("type") == "P" else "idNumber"
        entity.add(prop, document.get("number"))

    def event(self, event: Row) -> Any:
        traveller = event.get("traveller") or {}
        entity = self.person(event["event_id"], [traveller], traveller)
        for part in ("firstName", "lastName", "fatherName"):
            # A query by full name, as yente is usually asked: tagged parts make logic-v2 punish
            # surname and given name swapped at the border (recall 0.14 instead of 0.9 there).
            entity.pop(part)
        entity.add("nationality", (traveller.get("nationality") or "").lower() or None)
        if event.get("document"):
            self._document(entity, event["document"])
        return entity

    def candidates(self, event: Row) -> dict[str, Any]:
        dob = (event.get("traveller") or {}).get("date_of_birth") or ""
        number = _number((event.get("document") or {}).get("number"))
        found = [*self.by_year.get(dob[:4], []), *self.undated, *self.by_number.get(number, [])]
        return {entity.id: entity for entity in found}


def run_peer(watchlist: Path, events: Path, out: Path) -> Row:
    """Scores every blocked pair; writes pairs scoring >= SCORE_FLOOR as JSON lines."""
    matching = importlib.import_module("nomenklatura.matching")
    logic = matching.get_algorithm("logic-v2")
    config = logic.default_config()
    model = PeerModel(read_jsonl(watchlist))
    rows = read_jsonl(events)
    pairs = 0
    with out.open("w", encoding="utf-8") as sink:
        started, cpu = time.perf_counter(), time.process_time()
        for event in rows:
            query = model.event(event)
            for entry_id, result in model.candidates(event).items():
                pairs += 1
                score = float(logic.compare(query, result, config).score)
                if score >= SCORE_FLOOR:
                    sink.write(json.dumps([event["event_id"], entry_id, round(score, 4)]) + "\n")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "algorithm": logic.NAME,
        "nomenklatura": _version("nomenklatura"),
        "followthemoney": _version("followthemoney"),
        "events": len(rows),
        "pairs_scored": pairs,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "example_score_name_only": _peer_example(model, logic, config, tagged=False),
        "example_score_tagged": _peer_example(model, logic, config, tagged=True),
    }


def _peer_example(model: PeerModel, logic: Any, config: Any, *, tagged: bool) -> float:
    """The issue's pair as plain names (its 0.38) or with firstName/lastName on both sides."""
    sides = []
    for key in ("event", "entry"):
        entity = model.person(f"example-{key}-{tagged}", [_form(EXAMPLE[key])], {})
        if not tagged:
            entity.pop("firstName")
            entity.pop("lastName")
        sides.append(entity)
    return round(float(logic.compare(sides[0], sides[1], config).score), 4)


def _form(name: tuple[str, str]) -> Row:
    return {"surname": name[0], "given_names": name[1]}


def _version(package: str) -> str:
    return str(importlib.import_module("importlib.metadata").version(package))


# --- the comparison (runs in the project venv) ----------------------------------------------


def stratified(truth: list[Row], size: int, seed: int) -> set[str]:
    """``size`` events drawn per category in proportion (each category at least one)."""
    by_category: dict[str, list[str]] = defaultdict(list)
    for label in truth:
        by_category[label["category"]].append(label["event_id"])
    if size <= 0 or size >= len(truth):
        return {label["event_id"] for label in truth}
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    chosen: set[str] = set()
    for category in sorted(by_category):
        ids = sorted(by_category[category])
        share = max(1, round(size * len(ids) / len(truth)))
        chosen.update(rng.sample(ids, min(share, len(ids))))
    return chosen


def peer_pairs(args: argparse.Namespace, events_file: Path, work: Path) -> tuple[Row, list[Any]]:
    out = work / "peer-pairs.jsonl"
    command = [args.peer_python, str(Path(__file__).resolve()), "--worker"]
    command += ["--watchlist", str(args.data / "watchlist.jsonl")]
    command += ["--events", str(events_file), "--out", str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    stats: Row = json.loads(done.stdout.strip().splitlines()[-1])
    return stats, read_jsonl(out)


def our_alerts(data: Path, events: list[Row]) -> tuple[list[tuple[str, str, float]], Row]:
    domain = importlib.import_module("services.matcher.domain")
    index = domain.WatchlistIndex()
    for entry in read_jsonl(data / "watchlist.jsonl"):
        index.upsert(domain.entry_record(entry))
    screener = domain.Screener(index)
    alerts: list[tuple[str, str, float]] = []
    started, cpu = time.perf_counter(), time.process_time()
    for event in events:
        alerts += [(m.event_id, m.entry_id, m.score) for m in screener.screen(event)]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    timing = {"events": len(events), "seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3)}
    return alerts, timing | _our_example(domain)


def _our_example(domain: Any) -> Row:
    """Our score for the issue's example, with and without a birth date on both sides."""
    screener_module = importlib.import_module("services.matcher.domain.screener")
    names = importlib.import_module("services.matcher.domain.names")
    surname, given = EXAMPLE["entry"]
    entry = {
        "entry_id": "RED-EXAMPLE",
        "list": "red_notice",
        "status": "active",
        "issuer": "UZB",
        "action": "arrest",
        "person": {
            "names": [{"surname": surname, "given_names": given}],
            "date_of_birth": EXAMPLE_DOB,
            "sex": "M",
            "nationalities": ["UZB"],
            "documents": [],
        },
    }
    index = domain.WatchlistIndex()
    record = domain.entry_record(entry)
    index.upsert(record)
    tokens = names.tokenise(EXAMPLE["event"][0], names.SURNAME) + names.tokenise(
        EXAMPLE["event"][1], names.GIVEN
    )
    name = screener_module.best_name(tokens, record)
    event = {
        "event_id": "example",
        "type": "border_crossing",
        "occurred_at": "2026-11-01T00:00:00Z",
        "reported_by": "UZB-BORDER",
        "country": "UZB",
        "location": {"code": "UZ-TAS-AIR", "name": "Tashkent", "kind": "air"},
        "traveller": {
            "surname": EXAMPLE["event"][0],
            "given_names": EXAMPLE["event"][1],
            "date_of_birth": EXAMPLE_DOB,
        },
        "document": None,
    }
    matches = domain.Screener(index).screen(event)
    return {
        "example_name_score": None if name is None else round(name.score, 4),
        "example_score_with_dob": matches[0].score if matches else None,
        "example_band_with_dob": matches[0].band if matches else None,
    }


def _scope(truth: dict[str, Any], person_only: bool) -> dict[str, Any]:
    return {k: v for k, v in truth.items() if not (person_only and v.category.startswith("sltd_"))}


def compare(truth: dict[str, Any], peer: dict[Any, float], ours: dict[Any, float]) -> Row:
    """Peer at its threshold; ours at equal precision, at precision 1.00 and as shipped."""
    pr = importlib.import_module("bench.prcurve")
    person = _scope(truth, person_only=True)
    peer_point = pr.point(peer, person, PEER_THRESHOLD)
    our_curve = pr.curve(ours, person)
    peer_curve = pr.curve(peer, person)
    at_peer = pr.recall_at_precision(our_curve, peer_point.precision)
    at_one = pr.recall_at_precision(our_curve, 1.0)
    shipped = our_curve[-1] if our_curve else pr.point(ours, person, 0.0)
    return {
        "scope": "person events (SLTD categories excluded: not a name matcher's job)",
        "peer_at_0.7": peer_point.as_dict(),
        "peer_best_at_its_precision": _as_dict(
            pr.recall_at_precision(peer_curve, peer_point.precision)
        ),
        "ours_at_peer_precision": _as_dict(at_peer),
        "ours_at_precision_1": _as_dict(at_one),
        "ours_all_alerts": shipped.as_dict(),
        "peer_categories_at_0.7": pr.categories(peer, person, PEER_THRESHOLD).as_dict(),
        "ours_categories_all_alerts": pr.categories(ours, truth, 0.0).as_dict(),
        "ours_overall_all_alerts": pr.point(ours, truth, 0.0).as_dict(),
    }


def _as_dict(point: Any) -> Row | None:
    return None if point is None else dict(point.as_dict())


def _blocking_recall(truth: dict[str, Any], data: Path, events: list[Row]) -> float:
    """Share of expected person pairs that reach the peer's scorer (recomputed here, cheaply)."""
    rows = read_jsonl(data / "watchlist.jsonl")
    people = {e["entry_id"]: e["person"] for e in rows if e.get("person")}
    reached = total = 0
    for event in events:
        for entry_id in truth[event["event_id"]].expect:
            if entry_id not in people:
                continue
            total += 1
            dob = people[entry_id].get("date_of_birth")
            year = ((event.get("traveller") or {}).get("date_of_birth") or "")[:4]
            numbers = {_number(d.get("number")) for d in people[entry_id].get("documents") or []}
            number = _number((event.get("document") or {}).get("number"))
            reached += (not dob) or dob[:4] == year or number in numbers
    return round(reached / total, 4) if total else 1.0


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    if args.worker:
        print(json.dumps(run_peer(args.watchlist, args.events, args.out)))
        return
    pr = importlib.import_module("bench.prcurve")
    truth_rows = read_jsonl(args.data / "truth.jsonl")
    chosen = stratified(truth_rows, args.sample, args.seed)
    truth = {
        r["event_id"]: pr.Label(r["category"], frozenset(r["expect"]))
        for r in truth_rows
        if r["event_id"] in chosen
    }
    events = [e for e in read_jsonl(args.data / "events.jsonl") if e["event_id"] in chosen]
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as work:
        events_file = Path(work) / "events.jsonl"
        events_file.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
        peer_stats, pairs = peer_pairs(args, events_file, Path(work))
    alerts, our_stats = our_alerts(args.data, events)
    report = compare(truth, pr.best_scores(tuple(p) for p in pairs), pr.best_scores(alerts))
    report |= {
        "events": len(events),
        "sample": {"size": args.sample, "seed": args.seed, "stratified_by": "category"},
        "peer": peer_stats | _rates(len(events), peer_stats),
        "ours": our_stats | _rates(len(events), our_stats),
        "blocking": "peer: same birth year + undated entries + same document number",
        "blocking_recall": _blocking_recall(truth, args.data, events),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "peer.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(_summary(report)))


def _rates(events: int, stats: Row) -> Row:
    """Wall-clock and CPU rates: other work on a shared machine slows the wall clock only."""
    return {
        "events_per_s": round(events / stats["seconds"], 1),
        "events_per_cpu_s": round(events / stats["cpu_seconds"], 1),
    }


def _summary(report: Row) -> Row:
    ours = report["ours_at_peer_precision"] or {}
    return {
        "bench": "peer",
        "events": report["events"],
        "peer_recall": report["peer_at_0.7"]["recall"],
        "peer_precision": report["peer_at_0.7"]["precision"],
        "ours_recall_at_equal_precision": ours.get("recall"),
        "ours_precision": ours.get("precision"),
        "ours_recall_at_precision_1": (report["ours_at_precision_1"] or {}).get("recall"),
        "peer_events_per_s": report["peer"]["events_per_s"],
        "ours_events_per_s": report["ours"]["events_per_s"],
        "peer_events_per_cpu_s": report["peer"]["events_per_cpu_s"],
        "ours_events_per_cpu_s": report["ours"]["events_per_cpu_s"],
        "example_peer": report["peer"]["example_score_name_only"],
        "example_ours_name": report["ours"]["example_name_score"],
        "blocking_recall": report["blocking_recall"],
        "beats_peer": (ours.get("recall") or 0) > report["peer_at_0.7"]["recall"],
    }


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sample", type=int, default=1500, help="events; 0 = the whole set")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--peer-python", default=PEER_PYTHON)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--watchlist", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--events", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
