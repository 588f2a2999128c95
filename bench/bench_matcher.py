"""``make bench-matcher``: the matcher's figures in one JSON line (issue 5's "Must show").

Runs bench/bench_screen.py (load seconds and peak RSS for 100,000 people + 1,000,000 SLTD
documents; ``relay screen`` events/s on one core) and bench/bench_matcher_stream.py
(streaming events/s per process, its ratio to a plain aiokafka consume -> produce loop on the
same broker in the same run, p99 event -> alert latency at 1,000 events/s), each in its own
process so one's memory does not colour the other's, and prints the merged summary last.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.support import write_result


def last_json(module: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", module], capture_output=True, text=True, check=True, timeout=1800
    )
    sys.stderr.write(result.stderr[-2000:])
    result_line: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return result_line


def main() -> None:
    screen = last_json("bench.bench_screen")
    stream = last_json("bench.bench_matcher_stream")
    summary = {
        "watchlist_load_seconds": screen.get("load_seconds"),
        "peak_rss_mb_after_load": screen.get("peak_rss_mb_after_load"),
        "peak_rss_mb_after_screening": screen.get("peak_rss_mb_after_screening"),
        "people": screen.get("people"),
        "documents": screen.get("documents"),
        "screen_events_per_s_first_pass": screen.get("screen_cpu_events_per_s"),
        "screen_events_per_s_repeat": screen.get("screen_repeat_cpu_events_per_s"),
        "streaming_events_per_s": stream["streaming_events_per_s"],
        "passthrough_events_per_s": stream["passthrough_events_per_s"],
        "ratio_to_passthrough": stream["ratio_to_passthrough"],
        "p99_event_to_alert_ms_at_1000_per_s": stream["latency_at_1000_per_s"]["p99_ms"],
        "latency_load_generator_nice": stream["load_generator_nice"],
    }
    write_result("matcher", summary)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
