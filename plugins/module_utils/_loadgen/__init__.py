# -*- coding: utf-8 -*-
# Copyright: gatewayops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load generator of gatewayops.litellm.load_test, one module per job (import from them):

- http1: HTTP/1.1 client side (target, request bytes, TLS, connections) and response parser
- sse: server-sent events decoder and the kind of each event
- config: LoadConfig and its DEFAULTS, LIMITS, ENDPOINTS, MODES (the one source of defaults)
- results: Record, LoadResult and its summary, thresholds, the threshold table, summary line
- runner: LoadRunner, the open-loop schedule, run_load

The parsers, the schedule, the summary and the thresholds have no I/O so that they can be
tested on their own. Private to this collection; standard library only (runs on targets and
in benchmarks/)."""
