#!/usr/bin/env bash
# Boot a LiteLLM image N times with gunicorn and W workers and count the workers that never
# finish their startup (the fork-time import-lock deadlock, roles/proxy/README.md).
# Usage: benchmarks/tools/worker_boot_check.sh IMAGE [BOOTS=10] [WORKERS=4] [CPUS=1.0] [WAIT_S=45]
# Prints one line per boot and a RESULT line; exits 1 when a worker hung.
set -euo pipefail
image="$1"; boots="${2:-10}"; workers="${3:-4}"; cpus="${4:-1.0}"; wait_s="${5:-45}"
work="$(mktemp -d /var/tmp/gatewayops-bootcheck.XXXXXX)"
container=""
cleanup() { [ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
cat > "$work/config.yaml" <<'YAML'
model_list:
  - model_name: fake-chat
    litellm_params: {model: openai/fake-chat, api_base: "http://127.0.0.1:9/v1", api_key: not-a-secret}
YAML
chmod 0644 "$work/config.yaml"
key="sk-bootcheck-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
hung=0
for boot in $(seq 1 "$boots"); do
  container="$(docker run -d --cpus "$cpus" --network none -v "$work/config.yaml:/c.yaml:ro" \
    -e LITELLM_LOCAL_MODEL_COST_MAP=True -e LITELLM_MASTER_KEY="$key" \
    "$image" --config /c.yaml --num_workers "$workers" --run_gunicorn)"
  started=0
  for second in $(seq 1 "$wait_s"); do
    started="$(docker logs "$container" 2>&1 | grep -c "Application startup complete" || true)"
    [ "$started" -ge "$workers" ] && break
    sleep 1
  done
  echo "boot $boot: $started/$workers workers finished their startup after ${second} s"
  hung=$((hung + workers - started))
  docker rm -f "$container" >/dev/null; container=""
done
echo "RESULT $image: $hung hung worker(s) of $((boots * workers)) in $boots boots (gunicorn, cpus $cpus)"
[ "$hung" -eq 0 ]
