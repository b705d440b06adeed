#!/usr/bin/env bash
# Molecule's dependency step: Galaxy is unreachable here, so make sure the collections this
# one needs are installed (pip's ansible==12.3.0 ships them) and only then try Galaxy.
set -euo pipefail
if ansible-galaxy collection list community.docker 2>/dev/null | grep -qE '^community\.docker +4\.'; then
  echo "community.docker 4.x is installed"
  exit 0
fi
echo "community.docker 4.x is missing; trying Ansible Galaxy" >&2
exec ansible-galaxy collection install -r "$(dirname "$0")/../requirements.yml"
