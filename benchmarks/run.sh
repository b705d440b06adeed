#!/usr/bin/env bash
# Run the LiteLLM benchmark (benchmarks/bench.py) with the repo's venv; matplotlib (plots only)
# is installed into that venv when it is missing. Usage: benchmarks/run.sh [--quick] [bench.py options]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
if [ ! -x .venv/bin/python ]; then
  echo "no .venv: run scripts/bootstrap first" >&2
  exit 1
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# the collection as ansible_collections/gatewayops/litellm, like scripts/bootstrap links it
if [ ! -e .cache/collections/ansible_collections/gatewayops/litellm ]; then
  mkdir -p .cache/collections/ansible_collections/gatewayops
  ln -sfn ../../../.. .cache/collections/ansible_collections/gatewayops/litellm
fi
export ANSIBLE_COLLECTIONS_PATH="$repo/.cache/collections"
python -c 'import matplotlib' 2>/dev/null || python -m pip install --quiet matplotlib
exec python benchmarks/bench.py "$@"
