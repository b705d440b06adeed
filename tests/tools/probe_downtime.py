"""Poll an HTTP endpoint and measure how long it did not answer 200.

Bounded: stops when --stop-file appears or after --max-seconds. Writes a JSON summary:
probes, failures, total seconds without an answer, the longest outage and the outages
themselves (start offsets and durations). Stdlib only. Targets: loopback, or with
--container-target an address on one of this host's own Docker bridges (checked with
`ip route get`: directly connected through docker0 or br-*, never through a gateway)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import urllib.parse
import urllib.error
import urllib.request


def probe(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def outages(samples: list[tuple[float, bool]]) -> list[tuple[float, float]]:
    """(start, duration) of each run of failed samples; a run lasts until the next success."""
    runs, start = [], None
    for at, ok in samples:
        if not ok and start is None:
            start = at
        elif ok and start is not None:
            runs.append((start, at - start))
            start = None
    if start is not None and samples:
        runs.append((start, samples[-1][0] - start))
    return runs


def on_local_bridge(host: str) -> bool:
    """True when `host` is reached directly through one of this host's Docker bridges."""
    route = subprocess.run(["ip", "-o", "route", "get", host], capture_output=True, text=True, check=False).stdout
    words = route.split()
    device = words[words.index("dev") + 1] if "dev" in words else ""
    return "via" not in words and (device == "docker0" or device.startswith("br-"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--container-target", action="store_true",
                        help="the URL's host is a container of ours on a local Docker bridge")
    args = parser.parse_args()
    host = urllib.parse.urlsplit(args.url).hostname or ""
    loopback = host == "localhost" or host.startswith("127.")
    if not (loopback or (args.container_target and on_local_bridge(host))):
        parser.error("only loopback targets, or (--container-target) containers on a local Docker bridge, are probed")
    began = time.monotonic()
    samples = []
    while not os.path.exists(args.stop_file) and time.monotonic() - began < args.max_seconds:
        at = time.monotonic() - began
        samples.append((at, probe(args.url, args.timeout)))
        time.sleep(max(0.0, args.interval - (time.monotonic() - began - at)))
    runs = outages(samples)
    summary = {
        "url": args.url,
        "probes": len(samples),
        "failures": sum(1 for _at, ok in samples if not ok),
        "seconds_observed": round(time.monotonic() - began, 2),
        "seconds_without_answer": round(sum(seconds for _start, seconds in runs), 2),
        "longest_outage_seconds": round(max((seconds for _start, seconds in runs), default=0.0), 2),
        "outages": [{"start": round(s, 2), "seconds": round(d, 2)} for s, d in runs],
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
