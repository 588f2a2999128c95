"""Hot-path cost of the message contract: µs per message to decode and encode events and alerts.

Compares the codec's choice (pydantic-core JSON in and out) with the orjson alternatives, over
the labelled events of ../shared/data/screening-dev (or the DESIGN example when absent).
Median of several repeats; the last line printed is one JSON object.

    .venv/bin/python -m bench.bench_schemas [--repeats 7] [--limit 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from schemas import codec
from schemas.alert import Alert, alert_id_for
from schemas.event import Event

EVENTS_PATH = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "screening-dev" / "events.jsonl"
)


def load_events(limit: int) -> list[bytes]:
    lines = EVENTS_PATH.read_bytes().splitlines()[:limit]
    return [line for line in lines if line.strip()]


def make_alerts(events: list[bytes]) -> list[bytes]:
    alerts = []
    for raw in events:
        event = codec.decode_event(raw)
        surname, dob = event.traveller.surname, event.traveller.date_of_birth
        alert = Alert.model_validate(
            {
                "alert_id": alert_id_for(event.event_id, "RED-2025-004711"),
                "event_id": event.event_id,
                "entry_id": "RED-2025-004711",
                "list": "red_notice",
                "kind": "person",
                "band": "strong",
                "score": 0.97,
                "action": "arrest",
                "urgency": "urgent",
                "country": event.country,
                "issuer": "UZB",
                "occurred_at": event.occurred_at,
                "explanation": [
                    {
                        "field": "surname",
                        "event": surname,
                        "entry": "Холматов",
                        "how": "transliteration",
                        "score": 1.0,
                    },
                    {
                        "field": "date_of_birth",
                        "event": dob,
                        "entry": "1985-03-02",
                        "how": "exact",
                        "score": 1.0,
                    },
                ],
                "created_at": datetime.now(UTC),
                "traveller": event.traveller,
                "event_document": event.document,
            }
        )
        alerts.append(codec.encode(alert))
    return alerts


def per_message_us(fn: Callable[[Any], object], items: list[Any], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            fn(item)
        runs.append((time.perf_counter() - start) / len(items) * 1e6)
    return round(statistics.median(runs), 2)


def variants(model: type[BaseModel]) -> dict[str, Callable[[Any], object]]:
    return {
        "decode_validate_json": model.model_validate_json,
        "decode_orjson_validate": lambda raw: model.model_validate(orjson.loads(raw), strict=False),
        "encode_to_json": codec.encode,
        "encode_model_dump_json": lambda m: m.model_dump_json(exclude_none=True).encode(),
        "encode_orjson_dump": lambda m: orjson.dumps(m.model_dump(mode="json", exclude_none=True)),
    }


def bench(model: type[BaseModel], raws: list[bytes], repeats: int) -> dict[str, float]:
    models = [model.model_validate_json(raw) for raw in raws]
    results = {}
    for name, fn in variants(model).items():
        results[name] = per_message_us(fn, raws if name.startswith("decode") else models, repeats)
    results["roundtrip_chosen"] = round(
        results["decode_validate_json"] + results["encode_to_json"], 2
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--limit", type=int, default=2000)
    args = parser.parse_args()
    events = load_events(args.limit)
    alerts = make_alerts(events)
    report: dict[str, Any] = {
        "bench": "schemas",
        "messages": len(events),
        "repeats": args.repeats,
        "unit": "us_per_message_median",
        "event": bench(Event, events, args.repeats),
        "alert": bench(Alert, alerts, args.repeats),
        "event_bytes_mean": round(statistics.mean(len(e) for e in events)),
        "alert_bytes_mean": round(statistics.mean(len(a) for a in alerts)),
    }
    for kind in ("event", "alert"):
        for name, value in report[kind].items():
            print(f"{kind:6} {name:24} {value:8.2f} µs")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
