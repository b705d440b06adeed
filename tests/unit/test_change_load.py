"""tests/tools/change_load.py: the gap and percentile arithmetic, the .env reader, usage errors, and
short runs against the fake OpenAI backend (tests/fixtures/fake_openai/server.py) on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from ansible_collections.gatewayops.litellm.tests.unit.fake_backend import SERVER, FakeBackendProcess

TOOL = pathlib.Path(__file__).resolve().parents[1] / "tools" / "change_load.py"
spec = importlib.util.spec_from_file_location("change_load", TOOL)
change_load = importlib.util.module_from_spec(spec)
sys.modules.setdefault("change_load", change_load)  # dataclasses look their module up there
spec.loader.exec_module(change_load)


# ---------------------------------------------------------------- pure functions

def test_gaps_include_both_window_edges():
    gaps = change_load.gaps_without_success(0.0, 10.0, [2.0, 2.5, 7.5])
    assert gaps == [(0.0, 2.0), (2.0, 0.5), (2.5, 5.0), (7.5, 2.5)]


def test_gaps_ignore_order_and_drop_empty_intervals():
    assert change_load.gaps_without_success(1.0, 4.0, [4.0, 1.0, 3.0]) == [(1.0, 2.0), (3.0, 1.0)]


def test_no_success_is_one_gap_over_the_whole_window():
    assert change_load.gaps_without_success(0.5, 3.5, []) == [(0.5, 3.0)]
    assert change_load.gaps_without_success(2.0, 2.0, []) == []


def test_percentile_nearest_rank():
    values = list(range(1, 21))  # 1..20
    assert change_load.percentile(values, 50) == 10
    assert change_load.percentile(values, 95) == 19  # 95 * 20 / 100 is exactly rank 19
    assert change_load.percentile(values, 100) == 20
    assert change_load.percentile(reversed(values), 0) == 1
    assert change_load.percentile([7.5], 95) == 7.5
    assert change_load.percentile([], 50) is None


def test_latency_summary_in_milliseconds():
    assert change_load.latency_summary([0.010, 0.020, 0.030, 0.5]) == {"p50": 20.0, "p95": 500.0, "max": 500.0}
    assert change_load.latency_summary([]) == {"p50": None, "p95": None, "max": None}


def record(start, end, ok, kind=None, stream=False, started=False):
    return change_load.Record(start=start, end=end, ok=ok, stream=stream, kind=kind, message=kind,
                              stream_started=started, finish_reason="stop" if ok and stream else None)


def test_summarize_counts_streams_gaps_and_samples():
    records = [record(0.0, 0.1, True), record(0.1, 0.2, False, "APIConnectionError(ConnectError)"),
               record(0.2, 2.0, False, "InternalServerError(503)"), record(0.0, 3.0, True, stream=True, started=True),
               record(1.0, 1.5, False, "APIConnectionError(RemoteProtocolError)", stream=True, started=True),
               record(1.5, 1.6, False, "InternalServerError(503)", stream=True)]  # a stream that never began
    summary = change_load.summarize(records, {"label": "x"})
    assert summary["label"] == "x"
    assert (summary["requests"], summary["ok"], summary["failed"]) == (6, 2, 4)
    assert summary["failures_by_kind"] == {"InternalServerError(503)": 2, "APIConnectionError(ConnectError)": 1,
                                           "APIConnectionError(RemoteProtocolError)": 1}
    assert summary["streams"] == {"started": 2, "complete": 1, "incomplete": 1}
    assert summary["longest_gap_without_2xx_s"] == 2.9
    assert summary["gaps_over_1s"] == [{"start_s": 0.1, "seconds": 2.9}]
    assert summary["seconds_observed"] == 2.9  # from the first 2xx (0.1 s) on
    assert summary["latency_ms"] == {"p50": 100.0, "p95": 3000.0, "max": 3000.0}
    assert summary["latency_ms_by_mode"]["plain"]["max"] == 100.0
    assert [sample["at_s"] for sample in summary["failure_samples"]] == [0.2, 1.5, 1.6, 2.0]


def test_the_window_ends_at_the_stop_so_draining_is_no_gap():
    # plain requests stop at 2.0 s with the stop; a stream started at 1.5 s finishes while the tool drains
    records = [record(t / 10, t / 10 + 0.05, True) for t in range(20)] + [record(1.5, 3.5, True, stream=True, started=True)]
    summary = change_load.summarize(records, {}, stopped_s=2.0)
    assert summary["seconds_observed"] == 1.95 and summary["ok"] == 21  # from the first 2xx (0.05 s) to the stop
    assert summary["longest_gap_without_2xx_s"] == 0.1 and summary["gaps_over_1s"] == []
    assert change_load.summarize(records, {})["longest_gap_without_2xx_s"] == 1.55  # without the stop time
    assert change_load.summarize(records[:3], {}, stopped_s=9.0)["seconds_observed"] == 0.2  # ended before the stop


def test_failure_samples_take_the_first_of_each_kind_first():
    records = [record(i, i + 0.1, False, "A") for i in range(20)] + [record(30, 30.1, False, "B")]
    samples = change_load.failure_samples(records)
    assert len(samples) == 10
    assert [s["kind"] for s in samples].count("B") == 1 and samples[-1]["kind"] == "B"
    assert change_load.summarize([], {})["longest_gap_without_2xx_s"] == 0.0


def test_dotenv_values():
    text = ("# comment\n\nexport LITELLM_MASTER_KEY='sk-a b#c'\nOTHER=\"q\\\"x\"\n"
            "PLAIN=value # note\n")
    assert change_load.dotenv_values(text) == {"LITELLM_MASTER_KEY": "sk-a b#c", "OTHER": 'q"x', "PLAIN": "value"}


def test_a_malformed_env_file_is_a_usage_error_that_names_the_line(tmp_path, capsys):
    env = tmp_path / ".env"
    env.write_text("LITELLM_MASTER_KEY='sk-secret-value'\nnot a line\n")
    message = usage_error(capsys, "--base-url", "http://127.0.0.1:4000/v1", "--api-key-file", str(env),
                          "--out", str(tmp_path / "o.json"))
    assert "line 2" in message and "sk-secret-value" not in message


# ---------------------------------------------------------------- the command

def usage_error(capsys, *args) -> str:
    """Run the tool's main() in-process with `args`; it must exit 2. Returns stderr."""
    with pytest.raises(SystemExit) as exit_info:
        change_load.main(list(args))
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://10.0.0.1:4000/v1", "http://example.com/v1", "ftp://127.0.0.1/v1", "nonsense"])
def test_non_loopback_base_url_is_refused(capsys, monkeypatch, tmp_path, url):
    monkeypatch.setenv("CL_KEY", "k")
    err = usage_error(capsys, "--base-url", url, "--api-key-env", "CL_KEY", "--out", str(tmp_path / "o.json"))
    assert "only http(s) URLs on 127.0.0.1, localhost or [::1] are loaded" in err
    assert not (tmp_path / "o.json").exists()


def test_usage_errors(capsys, monkeypatch, tmp_path):
    env_file, out = tmp_path / ".env", str(tmp_path / "o.json")
    env_file.write_text("OTHER=1\n")
    base = ["--base-url", "http://[::1]:1/v1", "--out", out]
    assert "has no LITELLM_MASTER_KEY" in usage_error(capsys, *base, "--api-key-file", str(env_file))
    assert "cannot read" in usage_error(capsys, *base, "--api-key-file", str(tmp_path / "missing"))
    monkeypatch.delenv("CL_KEY", raising=False)
    assert "CL_KEY is unset or empty" in usage_error(capsys, *base, "--api-key-env", "CL_KEY")
    monkeypatch.setenv("CL_KEY", "k")
    assert "--stream-clients" in usage_error(capsys, *base, "--api-key-env", "CL_KEY", "--clients", "2", "--stream-clients", "3")
    (tmp_path / "stop").touch()
    assert "already exists" in usage_error(capsys, *base, "--api-key-env", "CL_KEY", "--stop-file", str(tmp_path / "stop"))
    assert "not allowed with" in usage_error(capsys, *base, "--api-key-env", "CL_KEY", "--api-key-file", str(env_file))
    assert not (tmp_path / "o.json").exists()


def start_load(tmp_path, port: int, *extra):
    """The tool as a subprocess: 4 clients, 2 of them streaming drip-200 (10 SSE chunks in 1.8 s)."""
    out, stop = tmp_path / "summary.json", tmp_path / "stop"
    if "--api-key-file" not in extra:
        extra = ("--api-key-env", "CL_KEY", *extra)
    proc = subprocess.Popen(
        [sys.executable, str(TOOL), "--base-url", f"http://127.0.0.1:{port}/v1", "--clients", "4", "--stream-clients", "2",
         "--model", "fake-chat", "--stream-model", "drip-200", "--request-timeout", "5", "--max-seconds", "30",
         "--out", str(out), "--stop-file", str(stop), *extra],
        env={**os.environ, "CL_KEY": "sk-unit"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, out, stop


def finish_load(proc, out, stop) -> dict:
    stop.touch()
    try:
        stdout, stderr = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, stderr
    assert re.match(r"change_load unit: \d+ requests in ", stdout), stdout
    assert not list(out.parent.glob("summary.json.tmp*"))
    return json.loads(out.read_text())


def test_steady_run_has_no_failures(tmp_path):
    backend = FakeBackendProcess(FAKE_API_KEY="sk-from-dotenv")
    env_file = tmp_path / ".env"
    env_file.write_text("# managed\nLITELLM_MASTER_KEY='sk-from-dotenv'\n")
    try:
        proc, out, stop = start_load(tmp_path, backend.port, "--api-key-file", str(env_file), "--label", "unit")
        time.sleep(3)
        summary = finish_load(proc, out, stop)
    finally:
        backend.stop()
    assert summary["label"] == "unit" and (summary["clients"], summary["stream_clients"]) == (4, 2)
    assert summary["requests"] > 0 and summary["failed"] == 0 and summary["ok"] == summary["requests"]
    assert summary["failures_by_kind"] == {} and summary["failure_samples"] == []
    assert summary["streams"]["started"] > 0
    assert summary["streams"]["complete"] == summary["streams"]["started"]
    assert summary["streams"]["incomplete"] == 0
    assert summary["latency_ms_by_mode"]["stream"]["p50"] >= 200 * 9  # 10 SSE chunks, 9 drips of 200 ms
    assert summary["longest_gap_without_2xx_s"] < 1.0 and summary["gaps_over_1s"] == []
    assert summary["abandoned_in_flight"] == 0
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", summary["started_at"])


def wait_for_requests(port: int, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=2) as response:
            if json.load(response)["requests_total"] >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"the load tool did not send {count} requests in 10 s")


def start_backend_on(port: int) -> subprocess.Popen:
    """The fake backend again on a fixed port (FakeBackendProcess always picks a new one)."""
    proc = subprocess.Popen([sys.executable, str(SERVER), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if select.select([proc.stderr], [], [], 0.1)[0] and "listening on" in proc.stderr.readline():
            return proc
    proc.kill()
    proc.wait()
    raise RuntimeError("fake backend did not restart")


def test_outage_shows_as_failures_and_a_gap(tmp_path):
    backend = FakeBackendProcess()
    port, restarted = backend.port, None
    try:
        proc, out, stop = start_load(tmp_path, port, "--label", "unit")
        wait_for_requests(port, 20)  # the tool has imported the SDK and runs against a live backend
        time.sleep(0.5)
        backend.stop()
        down_at = time.monotonic()
        time.sleep(2)
        restarted = start_backend_on(port)
        down_s = time.monotonic() - down_at
        time.sleep(1)
        summary = finish_load(proc, out, stop)
    finally:
        backend.stop()
        if restarted is not None:
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=5)
            restarted.stderr.close()
    assert summary["failed"] > 0 and summary["ok"] > 0
    assert any(kind.startswith("APIConnectionError") for kind in summary["failures_by_kind"])
    assert summary["failure_samples"] and len(summary["failure_samples"]) <= 10
    assert summary["longest_gap_without_2xx_s"] >= down_s * 0.9
    assert summary["longest_gap_without_2xx_s"] < down_s + 1.5
    assert len(summary["gaps_over_1s"]) == 1
    assert summary["streams"]["complete"] > 0  # streams succeed again after the restart


def test_the_window_starts_at_the_first_2xx_so_client_start_up_is_no_gap():
    records = [record(0.0, 1.5, True)] + [record(1.5 + t / 10, 1.55 + t / 10, True) for t in range(10)]
    summary = change_load.summarize(records, {})
    assert summary["longest_gap_without_2xx_s"] == 0.1 and summary["seconds_observed"] == 0.95
    failing = [record(0.0, 0.5, False, "InternalServerError(503)")] * 3
    assert change_load.summarize(failing, {})["seconds_observed"] == 0.5  # no 2xx: from the first request
