"""Keep a LiteLLM proxy busy with real OpenAI SDK clients during a change and measure availability.

N client threads (M of them streaming) each loop on chat.completions.create with their own
``openai.OpenAI`` client (own keep-alive connection pool, max_retries=0), until --stop-file
appears, SIGTERM/SIGINT arrives, --max-seconds pass or --max-requests have been started.
Requests in flight then get up to --request-timeout (+1) seconds to finish; one still running
after that is left out (counted in ``abandoned_in_flight``). --request-timeout is the SDK timeout
and also bounds a whole stream (cut as TimeoutError). A client pauses 50 ms after a failure so
that a refused port is not hammered in a busy loop. Each request text is unique per run (no
proxy cache hits). Only loopback base URLs are accepted.

The JSON summary (--out, written atomically) has: label, clients, stream_clients, started_at
(ISO UTC), seconds_observed (the window: first request start to the stop, or to the last request
end if that is earlier; requests finishing while the tool drains count, the drain is no gap),
requests, ok, failed, failures_by_kind ({"InternalServerError(503)": n,
"APIConnectionError(ConnectError)": n, ...}),
failure_samples (<= 10 {at_s, kind, message}, the first of each kind first), streams {started
(the response began), complete (ended normally with a finish_reason), incomplete},
longest_gap_without_2xx_s and gaps_over_1s [{start_s, seconds}] (intervals in which no request
completed successfully, window edges included), latency_ms {p50, p95, max} of ok requests,
latency_ms_by_mode {plain, stream} (the same split by request kind; a stream's latency is its
whole duration) and abandoned_in_flight. Every *_s offset counts from started_at. Exit code 0
whatever the failures (the caller judges), 2 on usage errors. Never prints the API key."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import signal
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass

import openai

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
FAILURE_PAUSE_S = 0.05
MAX_SAMPLES = 10
MESSAGE_CHARS = 200


@dataclass
class Record:
    """One request; start and end are seconds since the tool started."""
    start: float
    end: float
    ok: bool
    stream: bool
    kind: str | None = None
    message: str | None = None
    status: int | None = None
    stream_started: bool = False
    chunks: int = 0
    finish_reason: str | None = None


# ---------------------------------------------------------------- pure arithmetic

def gaps_without_success(window_start: float, window_end: float, success_times) -> list[tuple[float, float]]:
    """(start, seconds) of each interval of [window_start, window_end] in which no request completed
    successfully: window start -> first success, between successive successes, last success -> window end."""
    inside = sorted(t for t in success_times if window_start <= t <= window_end)
    points = [window_start, *inside, window_end]
    return [(begin, end - begin) for begin, end in zip(points, points[1:]) if end > begin]


def percentile(values, pct: float) -> float | None:
    """Nearest-rank percentile (pct in 0..100); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(pct * len(ordered) / 100.0))
    return ordered[min(rank, len(ordered)) - 1]


def latency_summary(seconds) -> dict:
    """p50, p95 and max in milliseconds (None without values)."""
    seconds = list(seconds)

    def as_ms(value):
        return None if value is None else round(value * 1000.0, 1)
    return {"p50": as_ms(percentile(seconds, 50)), "p95": as_ms(percentile(seconds, 95)),
            "max": as_ms(max(seconds, default=None))}


def failure_samples(records: list[Record], limit: int = MAX_SAMPLES) -> list[dict]:
    """Up to `limit` failures in time order: the first of each kind, then the earliest others."""
    failures = sorted((r for r in records if not r.ok), key=lambda r: r.end)
    firsts, seen = [], set()
    for record in failures:
        if record.kind not in seen:
            seen.add(record.kind)
            firsts.append(record)
    chosen = firsts[:limit]
    taken = {id(r) for r in chosen}
    chosen += [r for r in failures if id(r) not in taken][:limit - len(chosen)]
    return [{"at_s": round(r.end, 3), "kind": r.kind, "message": r.message}
            for r in sorted(chosen, key=lambda r: r.end)]


def summarize(records: list[Record], meta: dict, stopped_s: float | None = None) -> dict:
    """The JSON summary. The window runs from the first 2xx (the load is running: a caller waits for
    --ready-file before it starts a change, so the client's own start-up is no gap) to the last request
    end, or to `stopped_s` (when the load was told to stop) if that is earlier: the requests that finish
    while the tool drains are counted, but the drain itself, with no new requests, is not an
    availability gap. Without any 2xx the window starts at the first request."""
    ok = [r for r in records if r.ok]
    if records:
        first_start, last_end = min(r.start for r in records), max(r.end for r in records)
        if ok:
            first_start = min(r.end for r in ok)
        if stopped_s is not None:
            last_end = max(first_start, min(last_end, stopped_s))
        window = (first_start, last_end)
        gaps = gaps_without_success(*window, (r.end for r in ok))
    else:
        window, gaps = (0.0, 0.0), []
    streams = [r for r in records if r.stream and r.stream_started]
    complete = sum(1 for r in streams if r.ok)
    return {
        **meta,
        "seconds_observed": round(window[1] - window[0], 3),
        "requests": len(records),
        "ok": len(ok),
        "failed": len(records) - len(ok),
        "failures_by_kind": dict(Counter(r.kind for r in records if not r.ok).most_common()),
        "failure_samples": failure_samples(records),
        "streams": {"started": len(streams), "complete": complete, "incomplete": len(streams) - complete},
        "longest_gap_without_2xx_s": round(max((seconds for _start, seconds in gaps), default=0.0), 3),
        "gaps_over_1s": [{"start_s": round(start, 3), "seconds": round(seconds, 3)} for start, seconds in gaps if seconds > 1.0],
        "latency_ms": latency_summary(r.end - r.start for r in ok),
        "latency_ms_by_mode": {mode: latency_summary(r.end - r.start for r in ok if r.stream == (mode == "stream"))
                               for mode in ("plain", "stream")},
    }


# ---------------------------------------------------------------- configuration

def _collection_dotenv_parse():
    """The proxy role's own .env parser (plugins/filter/secrets.py), loaded by path: one parser for
    the role and this tool (the module is named like the stdlib's ``secrets``, so no sys.path)."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plugins", "filter", "secrets.py")
    spec = importlib.util.spec_from_file_location("gatewayops_litellm_secrets", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dotenv_parse


def dotenv_values(text: str) -> dict:
    """NAME=value pairs of a .env file, parsed as the proxy role parses it."""
    return _collection_dotenv_parse()(text)


def parse_args(argv=None) -> tuple[argparse.Namespace, str]:
    """Parsed arguments and the API key; usage errors exit with code 2."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:4110/v1 (loopback only)")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--api-key-file", help="a .env file; LITELLM_MASTER_KEY is read from it")
    key.add_argument("--api-key-env", metavar="NAME", help="an environment variable that holds the API key")
    parser.add_argument("--clients", type=int, default=20, help="client threads (default 20)")
    parser.add_argument("--stream-clients", type=int, default=5, help="how many of the clients stream (default 5)")
    parser.add_argument("--model", default="fake-chat")
    parser.add_argument("--stream-model", default="fake-drip", help="model of the streaming clients")
    parser.add_argument("--out", required=True, help="JSON summary path")
    parser.add_argument("--stop-file", help="stop when this file appears (it must not exist at start)")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop starting requests after this (default 600)")
    parser.add_argument("--max-requests", type=int, default=200000, help="requests started at most (default 200000)")
    parser.add_argument("--request-timeout", type=float, default=60.0, help="seconds per request (default 60)")
    parser.add_argument("--label", default="", help="free text copied into the summary")
    parser.add_argument("--think-ms", type=float, default=0.0,
                        help="pause of each client after a successful request (default 0: closed loop, saturating)")
    parser.add_argument("--ready-file", help="written once the first request succeeded: start the change after it appears")
    parser.add_argument("--ca-file", help="PEM of the authorities an https:// --base-url is verified against "
                        "(default: the system's)")
    args = parser.parse_args(argv)
    url = urllib.parse.urlsplit(args.base_url)
    try:
        host = url.hostname
    except ValueError:
        host = None
    if url.scheme not in ("http", "https") or host not in LOOPBACK_HOSTS:
        parser.error(f"--base-url {args.base_url!r}: only http(s) URLs on 127.0.0.1, localhost or [::1] are loaded")
    if args.clients < 1 or not 0 <= args.stream_clients <= args.clients:
        parser.error("need --clients >= 1 and 0 <= --stream-clients <= --clients")
    if args.max_seconds <= 0 or args.max_requests < 1 or args.request_timeout <= 0:
        parser.error("--max-seconds and --request-timeout must be > 0, --max-requests >= 1")
    if args.stop_file and os.path.exists(args.stop_file):
        parser.error(f"--stop-file {args.stop_file} already exists; remove it first")
    if args.api_key_file:
        try:
            with open(args.api_key_file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            parser.error(f"--api-key-file: cannot read {args.api_key_file}: {exc.strerror}")
        try:
            api_key = dotenv_values(text).get("LITELLM_MASTER_KEY", "")
        except Exception as exc:  # the parser's message names a line number, never a value
            parser.error(f"--api-key-file: {args.api_key_file}: {exc}")
        if not api_key:
            parser.error(f"--api-key-file: {args.api_key_file} has no LITELLM_MASTER_KEY")
    else:
        api_key = os.environ.get(args.api_key_env, "")
        if not api_key:
            parser.error(f"--api-key-env: environment variable {args.api_key_env} is unset or empty")
    return args, api_key


# ---------------------------------------------------------------- load

class Budget:
    """The --max-requests bound, shared by all client threads."""

    def __init__(self, limit: int):
        self.left = limit
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def failure_kind(exc: BaseException) -> tuple[str, int | None]:
    """(kind, HTTP status or None): the exception class, with the status (InternalServerError(503)) or,
    for a connection error, the transport error under it (APIConnectionError(ConnectError))."""
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    cause = exc.__cause__ or exc.__context__
    if status is not None:
        return f"{type(exc).__name__}({status})", status
    if isinstance(exc, openai.APIConnectionError) and cause is not None:
        return f"{type(exc).__name__}({type(cause).__name__})", None
    return type(exc).__name__, None


def short_message(exc: BaseException) -> str:
    message = str(exc)
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, openai.APIConnectionError) and cause is not None:
        message = f"{message} {type(cause).__name__}: {cause}"
    return " ".join(message.split())[:MESSAGE_CHARS]


def one_request(client: openai.OpenAI, model: str, stream: bool, text: str, began: float, timeout: float) -> Record:
    record = Record(start=time.monotonic() - began, end=0.0, ok=False, stream=stream)
    messages = [{"role": "user", "content": text}]
    try:
        if stream:
            with client.chat.completions.create(model=model, messages=messages, stream=True) as chunks:
                record.stream_started = True
                for chunk in chunks:
                    record.chunks += 1
                    for choice in chunk.choices:
                        record.finish_reason = choice.finish_reason or record.finish_reason
                    if time.monotonic() - began - record.start > timeout:
                        raise TimeoutError(f"stream still running after {timeout:g} s ({record.chunks} chunks)")
            record.ok = record.finish_reason is not None
            if not record.ok:
                record.kind, record.message = "StreamIncomplete", f"ended after {record.chunks} chunks without a finish_reason"
        else:
            completion = client.chat.completions.create(model=model, messages=messages)
            record.ok = bool(completion.choices)
            if not record.ok:
                record.kind, record.message = "EmptyCompletion", "a completion without choices"
    except Exception as exc:  # pylint: disable=broad-exception-caught  # every failure is a data point
        record.kind, record.status = failure_kind(exc)
        record.message = short_message(exc)
    record.end = time.monotonic() - began
    return record


def run_client(index: int, stream: bool, args: argparse.Namespace, api_key: str, shared: dict) -> None:
    http_client = openai.DefaultHttpxClient(verify=args.ca_file) if args.ca_file else None
    client = openai.OpenAI(api_key=api_key, base_url=args.base_url, max_retries=0, timeout=args.request_timeout,
                           http_client=http_client)
    model = args.stream_model if stream else args.model
    sequence = 0
    try:
        while not shared["stop"].is_set() and shared["budget"].take():
            sequence += 1
            # unique across runs, so that a proxy cache cannot answer; the reply streams as 10 SSE chunks
            record = one_request(client, model, stream, f"load {shared['run']} c{index} n{sequence}",
                                 shared["began"], args.request_timeout)
            with shared["lock"]:
                shared["records"].append(record)
                if record.ok and args.ready_file and not shared.get("ready"):
                    shared["ready"] = True
                    with open(args.ready_file, "w", encoding="utf-8") as handle:
                        handle.write("%.3f\n" % record.end)
            if not record.ok:
                shared["stop"].wait(FAILURE_PAUSE_S)
            elif args.think_ms > 0:
                shared["stop"].wait(args.think_ms / 1000.0)
    finally:
        client.close()


def write_atomically(path: str, summary: dict) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def main(argv=None) -> int:
    args, api_key = parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())
    started_at = datetime.datetime.now(datetime.timezone.utc)
    shared = {"stop": stop, "budget": Budget(args.max_requests), "lock": threading.Lock(),
              "records": [], "began": time.monotonic(), "run": os.urandom(3).hex()}
    threads = [threading.Thread(target=run_client, args=(i, i < args.stream_clients, args, api_key, shared),
                                name=f"client-{i}", daemon=True) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    while not stop.is_set():
        if ((args.stop_file and os.path.exists(args.stop_file))
                or time.monotonic() - shared["began"] >= args.max_seconds
                or not any(thread.is_alive() for thread in threads)):
            stop.set()
        stop.wait(0.1)
    stopped_s = time.monotonic() - shared["began"]
    drain_until = time.monotonic() + args.request_timeout + 1.0
    for thread in threads:
        thread.join(max(0.0, drain_until - time.monotonic()))
    with shared["lock"]:
        records = list(shared["records"])
    meta = {"label": args.label, "clients": args.clients, "stream_clients": args.stream_clients,
            "started_at": started_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
    summary = summarize(records, meta, stopped_s)
    summary["abandoned_in_flight"] = sum(1 for thread in threads if thread.is_alive())
    write_atomically(args.out, summary)
    kinds = ", ".join(f"{kind} {count}" for kind, count in summary["failures_by_kind"].items())
    print(f"change_load{' ' + args.label if args.label else ''}: {summary['requests']} requests in "
          f"{summary['seconds_observed']:.1f} s, {summary['ok']} ok, {summary['failed']} failed"
          f"{' (' + kinds + ')' if kinds else ''}; streams {summary['streams']['complete']}/"
          f"{summary['streams']['started']} complete; longest gap without 2xx "
          f"{summary['longest_gap_without_2xx_s']:.2f} s; p50/p95 {summary['latency_ms']['p50']}/"
          f"{summary['latency_ms']['p95']} ms -> {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
