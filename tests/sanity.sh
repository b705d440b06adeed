#!/usr/bin/env bash
# ansible-test sanity for the installed ansible-core. ansible-test needs the collection under
# ansible_collections/<namespace>/<name>/ and cannot use its registry-hosted --docker images
# here, so copy the checkout (tracked and new files, not ignored ones) and run with --venv.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${SANITY_WORKDIR:-/var/tmp/gatewayops-sanity}"
dest="$work/ansible_collections/gatewayops/litellm"
rm -rf "$dest"
mkdir -p "$dest"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - --ignore-failed-read) | tar -xf - -C "$dest"
# ansible-test bootstraps pip in its venvs with get-pip.py from a host we cannot reach:
# give it a stand-in that uses the interpreter's own ensurepip, then pip installs as asked.
pip_version="$(python3 - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)"
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -s "$get_pip" ]; then
  mkdir -p "$(dirname "$get_pip")"
  cat > "$get_pip" <<'PY'
"""Stand-in for get-pip.py written by gatewayops.litellm tests/sanity.sh (its host is unreachable here)."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY
fi
cd "$dest"
git init -q && git add -A   # ansible-test lists the collection's files through git
python="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
ansible-test sanity --venv --python "$python" --color no "$@"
