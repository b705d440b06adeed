"""A bounded chat workload through a LiteLLM proxy with the official OpenAI SDK that counts, from the
response headers, how many answers came from LiteLLM's response cache.

--prompts repeated: every request asks one of --distinct prompts (each carries this run's token,
so an earlier run's cache entries cannot answer it): all but the first of each are cache hits.
--prompts unique: every request's prompt is new: no hit is possible.

LiteLLM (1.108.7) answers a request its cache served with the header x-litellm-cache-key (the
key of the entry); a request the provider answered has none. That header is what is counted.

--clients threads share a pace of --rate requests per second (in total) and stop at --requests
started, --max-seconds, or when --stop-file appears. The JSON (--out, written atomically) has the
totals (requests, ok, failed, hits, hit_rate = hits / ok) and `timeline`: [end time (epoch
seconds), ok, hit] per request, so a caller can count within any window. Only loopback base URLs
are accepted; the API key is read from the proxy's .env (LITELLM_MASTER_KEY) and never printed."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid

import openai

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from change_load import LOOPBACK_HOSTS, dotenv_values  # noqa: E402  (the same .env parser and loopback rule)

CACHE_HEADER = "x-litellm-cache-key"


class Pace:
    """Hands out request slots at `rate` per second, at most `limit` of them, until `deadline`."""

    def __init__(self, rate, limit, deadline, stop_file):
        self.interval, self.limit, self.deadline, self.stop_file = 1.0 / rate, limit, deadline, stop_file
        self.next_at, self.issued, self.lock = time.monotonic(), 0, threading.Lock()

    def take(self):
        with self.lock:
            if self.issued >= self.limit or time.monotonic() >= self.deadline:
                return None
            if self.stop_file and os.path.exists(self.stop_file):
                return None
            slot, self.issued = self.issued, self.issued + 1
            at, self.next_at = self.next_at, max(self.next_at, time.monotonic()) + self.interval
        delay = at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return slot


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key-file", required=True, help="the proxy's .env")
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompts", choices=("repeated", "unique"), required=True)
    parser.add_argument("--distinct", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--stop-file")
    parser.add_argument("--ready-file", help="written once the first answer came back")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if urllib.parse.urlsplit(args.base_url).hostname not in LOOPBACK_HOSTS:
        parser.error("--base-url must be a loopback URL (got %s)" % args.base_url)
    if not (1 <= args.clients <= 64 and 0 < args.rate <= 500 and args.requests >= 1 and args.distinct >= 1):
        parser.error("--clients 1..64, --rate 0..500, --requests >= 1 and --distinct >= 1 are required")
    with open(args.api_key_file, encoding="utf-8") as handle:
        api_key = dotenv_values(handle.read()).get("LITELLM_MASTER_KEY", "")
    if not api_key:
        parser.error("%s has no LITELLM_MASTER_KEY" % args.api_key_file)

    token = uuid.uuid4().hex[:12]
    pace = Pace(args.rate, args.requests, time.monotonic() + args.max_seconds, args.stop_file)
    timeline, lock = [], threading.Lock()

    def client_loop():
        client = openai.OpenAI(base_url=args.base_url, api_key=api_key, max_retries=0, timeout=30.0)
        while True:
            slot = pace.take()
            if slot is None:
                return
            number = slot % args.distinct if args.prompts == "repeated" else slot
            text = "cache workload %s prompt %d" % (token, number)
            ok = hit = False
            try:
                raw = client.chat.completions.with_raw_response.create(
                    model=args.model, messages=[{"role": "user", "content": text}])
                raw.parse()
                ok, hit = True, CACHE_HEADER in raw.headers
            except openai.OpenAIError:
                pass
            with lock:
                timeline.append([round(time.time(), 3), ok, hit])
                if ok and args.ready_file and not os.path.exists(args.ready_file):
                    with open(args.ready_file, "w", encoding="utf-8") as ready:
                        ready.write("ready\n")

    threads = [threading.Thread(target=client_loop, daemon=True) for _client in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = sum(1 for _t, good, _h in timeline if good)
    hits = sum(1 for _t, good, hit in timeline if good and hit)
    summary = {"prompts": args.prompts, "distinct": args.distinct if args.prompts == "repeated" else None,
               "requests": len(timeline), "ok": ok, "failed": len(timeline) - ok, "hits": hits,
               "hit_rate": round(hits / ok, 4) if ok else None, "timeline": sorted(timeline)}
    tmp = "%s.%d.tmp" % (args.out, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(summary, handle)
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
