"""Write a time-compressed copy of a Prometheus rule file, so a live test sees an alert go pending,
fire and resolve in seconds instead of minutes.

Every duration in the file (range selectors such as ``[5m]``, ``for:``, group ``interval:``) is
divided by --factor; every recording rule is renamed ``fast:<name>`` and every reference to it
follows, every alert is renamed ``<name>Fast`` and labelled ``copy: fast``. The expressions are
otherwise unchanged: the copy loads beside the original (no name is recorded twice) and proves on
a live Prometheus that the original's metric names, labels and joins work, while promtool's unit
tests (tests/prometheus/) prove the original's thresholds and windows.

Usage: python tests/tools/fast_rules.py SOURCE.yml DEST.yml [--factor 10]"""

from __future__ import annotations

import argparse
import re
import sys

import yaml

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
DURATION = re.compile(r"^(?:(\d+)(ms|s|m|h|d|w|y))+$")
RANGE = re.compile(r"\[(\d+(?:ms|s|m|h|d|w|y))(:[^\]]*)?\]")


def seconds(text: str) -> float:
    if not DURATION.match(text):
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", text))


def duration(value: float) -> str:
    """A Prometheus duration for `value` seconds, at least 1 s, in whole seconds."""
    return "%ds" % max(1, round(value))


def compress(text: str, factor: float) -> str:
    return duration(seconds(text) / factor)


def fast_copy(rules: dict, factor: float) -> dict:
    records = [rule["record"] for group in rules["groups"] for rule in group["rules"] if "record" in rule]
    # longest first, bounded by characters that cannot be part of a metric name
    patterns = [(re.compile(r"(?<![A-Za-z0-9_:])%s(?![A-Za-z0-9_:])" % re.escape(name)), "fast:" + name)
                for name in sorted(records, key=len, reverse=True)]

    def expr(text: str) -> str:
        for pattern, replacement in patterns:
            text = pattern.sub(replacement, text)
        return RANGE.sub(lambda m: "[%s%s]" % (compress(m.group(1), factor), m.group(2) or ""), text)

    groups = []
    for group in rules["groups"]:
        new_group = {"name": group["name"] + ".fast"}
        if "interval" in group:
            new_group["interval"] = compress(group["interval"], factor)
        new_rules = []
        for rule in group["rules"]:
            new = dict(rule, expr=expr(str(rule["expr"])))
            if "record" in rule:
                new["record"] = "fast:" + rule["record"]
            else:
                new["alert"] = rule["alert"] + "Fast"
                new["labels"] = dict(rule.get("labels") or {}, copy="fast")
                if "for" in rule:
                    new["for"] = compress(str(rule["for"]), factor)
            new_rules.append(new)
        new_group["rules"] = new_rules
        groups.append(new_group)
    return {"groups": groups}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("source")
    parser.add_argument("dest")
    parser.add_argument("--factor", type=float, default=10.0)
    args = parser.parse_args(argv)
    if args.factor < 1:
        parser.error("--factor must be >= 1")
    with open(args.source, encoding="utf-8") as handle:
        rules = yaml.safe_load(handle)
    copy = fast_copy(rules, args.factor)
    with open(args.dest, "w", encoding="utf-8") as handle:
        handle.write("# Time-compressed test copy (x1/%g) of %s, written by tests/tools/fast_rules.py.\n"
                     % (args.factor, args.source.rsplit("/", 1)[-1]))
        yaml.safe_dump(copy, handle, sort_keys=False, width=200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
