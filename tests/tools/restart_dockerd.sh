#!/usr/bin/env bash
# Restart the dockerd that scripts/bootstrap started (its PID is in /run/gatewayops-dockerd.pid),
# for failure-injection tests: SIGTERM by PID, wait for it to exit, start it again the same way.
# Refuses to touch an engine it did not start (a systemd-managed one, for example).
set -euo pipefail
pidfile=/run/gatewayops-dockerd.pid
[ -s "$pidfile" ] || { echo "no $pidfile: this engine was not started by scripts/bootstrap" >&2; exit 3; }
pid="$(cat "$pidfile")"
[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || { echo "PID $pid is not dockerd" >&2; exit 3; }
kill -TERM "$pid"
for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$pid" 2>/dev/null; then echo "dockerd $pid did not exit" >&2; exit 1; fi
setsid nohup dockerd >>/var/log/gatewayops-dockerd.log 2>&1 </dev/null &
echo $! > "$pidfile"
for _ in $(seq 120); do docker info >/dev/null 2>&1 && exit 0; sleep 0.5; done
echo "dockerd did not come back" >&2
exit 1
