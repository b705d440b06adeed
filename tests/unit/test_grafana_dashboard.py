"""The Grafana dashboard the proxy role ships (roles/proxy/files/grafana/litellm-dashboard.json):
provisionable as it is (uid, title, schema, a data-source variable), laid out on Grafana's
24-column grid without overlaps, every panel explained for on-call, and every query on a metric
that exists: a recording rule of roles/proxy/files/prometheus/ or one of the few raw series the
dashboard reads directly. Every recording rule (but litellm:worker_processes_seen, a counter of
pids only the recycling alert reads) has a panel."""

from __future__ import annotations

import json
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "roles" / "proxy" / "files" / "grafana" / "litellm-dashboard.json"
RULE_DIR = ROOT / "roles" / "proxy" / "files" / "prometheus"
RULES = RULE_DIR / "litellm-rules.yml"
EDGE_RULES = RULE_DIR / "litellm-edge-rules.yml"

RAW_METRICS = {"up", "haproxy_backend_current_queue", "haproxy_backend_active_servers"}
NOT_ON_THE_DASHBOARD = {"litellm:worker_processes_seen"}
ROWS = ["Traffic and errors", "Latency", "Cost and cache", "Edge"]
GRID_COLUMNS = 24

# PromQL words that look like metric names: functions, aggregations, operators and modifiers
PROMQL_WORDS = {
    "abs", "absent", "absent_over_time", "and", "atan2", "avg", "avg_over_time", "bool", "bottomk", "by", "ceil",
    "changes", "clamp", "clamp_max", "clamp_min", "count", "count_over_time", "count_values", "day_of_month",
    "day_of_week", "delta", "deriv", "exp", "floor", "group", "group_left", "group_right", "histogram_quantile",
    "holt_winters", "hour", "idelta", "ignoring", "increase", "irate", "label_join", "label_replace", "last_over_time",
    "ln", "log10", "log2", "max", "max_over_time", "min", "min_over_time", "minute", "month", "offset", "on", "or",
    "predict_linear", "quantile", "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sort",
    "sort_desc", "sqrt", "stddev", "stddev_over_time", "stdvar", "sum", "sum_over_time", "time", "timestamp", "topk",
    "unless", "vector", "without", "year", "inf", "nan",
}
STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'")
MATCHERS_RE = re.compile(r"\{[^}]*\}")
RANGE_RE = re.compile(r"\[[^\]]*\]")
# the label list of by/without/on/ignoring/group_left/group_right: label names, not metrics
LABEL_LIST_RE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
IDENTIFIER_RE = re.compile(r"(?<![\w.:])[A-Za-z_:][\w:]*")


def load_dashboard():
    return json.loads(DASHBOARD.read_text())


def recording_rules(path):
    """{group name: [record names]} of a rule file."""
    groups = yaml.safe_load(path.read_text())["groups"]
    return {group["name"]: [rule["record"] for rule in group["rules"] if "record" in rule] for group in groups}


def known_metrics():
    records = {name for path in (RULES, EDGE_RULES) for names in recording_rules(path).values() for name in names}
    return records | RAW_METRICS


def data_panels(dashboard):
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def panel_queries(dashboard):
    """[(panel title, expr), ...] for every target of every panel."""
    return [(panel["title"], target["expr"]) for panel in data_panels(dashboard) for target in panel.get("targets", [])]


def metric_names(expr):
    """The metric names a PromQL expression reads: label matchers, label lists, ranges and strings
    are removed first, then every identifier that is not a PromQL word counts."""
    text = STRING_RE.sub(" ", expr)
    text = MATCHERS_RE.sub(" ", text)
    text = RANGE_RE.sub(" ", text)
    text = LABEL_LIST_RE.sub(" ", text)
    return {name for name in IDENTIFIER_RE.findall(text) if name not in PROMQL_WORDS}


def overlaps(first, second):
    return (first["x"] < second["x"] + second["w"] and second["x"] < first["x"] + first["w"]
            and first["y"] < second["y"] + second["h"] and second["y"] < first["y"] + first["h"])


def test_metric_names_skips_functions_labels_and_numbers():
    expr = ('histogram_quantile(0.99, sum by (le, model_group) (rate(litellm_x_bucket{job="a:b", le!="1e3"}[5m])))'
            ' / on () group_left () (sum without (pid) (litellm:y:rate5m offset 1h) > 1e3) * 3600')
    assert metric_names(expr) == {"litellm_x_bucket", "litellm:y:rate5m"}
    assert metric_names('up{job=~"litellm|litellm-edge"} == 0 or absent(up)') == {"up"}


def test_the_dashboard_is_provisionable():
    dashboard = load_dashboard()
    assert dashboard["uid"] == "gatewayops-litellm"
    assert dashboard["title"] == "LiteLLM proxy (gatewayops.litellm)"
    assert dashboard["schemaVersion"] == 39
    assert dashboard["time"] == {"from": "now-1h", "to": "now"}
    assert dashboard["refresh"] == "30s"
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_the_rows():
    rows = [panel["title"] for panel in load_dashboard()["panels"] if panel["type"] == "row"]
    assert rows == ROWS


def test_every_panel_is_identified_and_explained():
    dashboard = load_dashboard()
    panels = dashboard["panels"]
    ids = [panel.get("id") for panel in panels]
    assert all(isinstance(panel_id, int) and not isinstance(panel_id, bool) for panel_id in ids), ids
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in panels:
        assert panel.get("title"), panel
    for panel in data_panels(dashboard):
        title = panel["title"]
        assert panel.get("description", "").strip(), f"{title}: no description"
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, title
        assert panel.get("targets"), f"{title}: no query"
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"])["uid"] == "${datasource}", title


def test_the_panels_fit_the_grid_without_overlapping():
    panels = load_dashboard()["panels"]
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["y"] >= 0 and grid["w"] >= 1 and grid["h"] >= 1, panel["title"]
        assert grid["x"] + grid["w"] <= GRID_COLUMNS, f"{panel['title']} is wider than the grid"
    for index, first in enumerate(panels):
        for second in panels[index + 1:]:
            assert not overlaps(first["gridPos"], second["gridPos"]), f"{first['title']} overlaps {second['title']}"


def test_every_target_has_a_query_and_a_unique_ref_id():
    for panel in data_panels(load_dashboard()):
        ref_ids = []
        for target in panel["targets"]:
            assert target.get("expr", "").strip(), f"{panel['title']}: a target without expr"
            assert target.get("refId"), f"{panel['title']}: a target without refId"
            ref_ids.append(target["refId"])
        assert len(ref_ids) == len(set(ref_ids)), f"{panel['title']}: refIds repeat"


def test_every_query_reads_a_metric_that_exists():
    known = known_metrics()
    queries = panel_queries(load_dashboard())
    assert queries
    for title, expr in queries:
        names = metric_names(expr)
        assert names, f"{title}: no metric found in {expr!r}"
        assert names <= known, f"{title}: unknown metrics {sorted(names - known)} in {expr!r}"


def test_every_recording_rule_has_a_panel():
    used = {name for _title, expr in panel_queries(load_dashboard()) for name in metric_names(expr)}
    expected = set(recording_rules(RULES)["litellm.recording"]) - NOT_ON_THE_DASHBOARD
    expected |= set(recording_rules(EDGE_RULES)["litellm-edge.recording"])
    assert sorted(expected - used) == [], "recording rules without a panel"
