"""Plot every panel query of the shipped Grafana dashboard from a live Prometheus (query_range),
one small chart per panel, into one PNG: what on-call would see, without Grafana.

Usage: python tests/tools/plot_dashboard.py --prometheus http://127.0.0.1:9290 --minutes 20 --out docs/observability.png
(loopback Prometheus only; needs matplotlib). Prints each panel's series count; exit 1 when no
panel has data."""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import sys
import time
import urllib.parse
import urllib.request

DASHBOARD = pathlib.Path(__file__).resolve().parents[2] / "roles" / "proxy" / "files" / "grafana" / "litellm-dashboard.json"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def panels(dashboard: dict) -> list:
    """[(title, unit, [(expr, legendFormat)])] for the panels that query, in dashboard order."""
    out = []
    for panel in dashboard["panels"]:
        targets = [(t["expr"], t.get("legendFormat", "")) for t in panel.get("targets", []) if t.get("expr")]
        if targets:
            out.append((panel["title"], (panel.get("fieldConfig") or {}).get("defaults", {}).get("unit", ""), targets))
    return out


def legend(fmt: str, labels: dict) -> str:
    text = fmt
    for key, value in labels.items():
        text = text.replace("{{%s}}" % key, value).replace("{{ %s }}" % key, value)
    return text.strip() or ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__") or "value"


def query_range(base: str, expr: str, start: float, end: float, step: int) -> list:
    url = f"{base}/api/v1/query_range?" + urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)["data"]["result"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if urllib.parse.urlsplit(args.prometheus).hostname not in LOOPBACK:
        parser.error("--prometheus must be a loopback URL")
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    items = panels(json.loads(DASHBOARD.read_text(encoding="utf-8")))
    end = time.time()
    start = end - args.minutes * 60
    step = max(5, int(args.minutes * 60 / 240))
    columns = 3
    rows = math.ceil(len(items) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(15, 3.0 * rows), squeeze=False)
    with_data = 0
    for index, (title, unit, targets) in enumerate(items):
        axis = axes[index // columns][index % columns]
        count = 0
        for expr, fmt in targets:
            for series in query_range(args.prometheus, expr, start, end, step):
                points = [((float(t) - end) / 60, float(v)) for t, v in series["values"] if v not in ("NaN", "+Inf", "-Inf")]
                if points:
                    axis.plot([p[0] for p in points], [p[1] for p in points], label=legend(fmt, series["metric"])[:40])
                    count += 1
        with_data += bool(count)
        print(f"{title}: {count} series")
        axis.set_title(title + (f" ({unit})" if unit else ""), fontsize=9)
        axis.tick_params(labelsize=7)
        axis.set_xlabel("minutes", fontsize=7)
        if count:
            axis.legend(fontsize=6, loc="upper left")
        else:
            axis.text(0.5, 0.5, "no data", ha="center", va="center", transform=axis.transAxes)
    for index in range(len(items), rows * columns):
        axes[index // columns][index % columns].axis("off")
    figure.suptitle("gatewayops.litellm dashboard queries from a live Prometheus (Molecule default scenario)", fontsize=11)
    figure.tight_layout()
    figure.savefig(args.out, dpi=80)
    print(f"wrote {args.out}: {with_data}/{len(items)} panels with data")
    return 0 if with_data else 1


if __name__ == "__main__":
    sys.exit(main())
