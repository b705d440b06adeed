#!/usr/bin/env bash
# Build the local images that Molecule, the demo and the benchmarks use. Nothing can be
# pulled from a registry on our machines, so everything is built here:
#
#   $PREFIX/debian-root:bookworm   debian:bookworm-slim if a registry answers, else debootstrap + docker import
#   $PREFIX/debian:bookworm        + the host CA bundle (pip/apt behind the TLS-inspecting egress proxy)
#   $PREFIX/litellm:$LITELLM_VERSION   litellm[proxy] + prometheus-client, non-root, `litellm` entrypoint
#   $PREFIX/litellm-db:$LITELLM_VERSION   TEST-ONLY: + Prisma's WebAssembly engines behind prisma-wasm/ (database
#                                  mode, Molecule's database scenario); built with the default set
#   $PREFIX/redis:7  $PREFIX/postgres:15  $PREFIX/haproxy:2.6  $PREFIX/fake-openai:latest  $PREFIX/molecule-debian:bookworm
#   $PREFIX/prometheus:2  $PREFIX/alertmanager:0   (Debian's packages, laid out as prom/prometheus and prom/alertmanager)
#
# An image is rebuilt only when its inputs change: each carries the sha256 of its build
# context, build arguments and parent image id in the label org.gatewayops.inputs.
#
# Usage: tests/images/build.sh [image ...]     (default: all)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PREFIX="${GATEWAYOPS_IMAGE_PREFIX:-gatewayops-test}"
LITELLM_VERSION="${LITELLM_VERSION:-1.108.7}"
HOST_CA_BUNDLE="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
LABEL=org.gatewayops.inputs
export DOCKER_BUILDKIT=0   # classic builder: no buildx plugin on our machines

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running?)"

current_label() {  # image -> inputs label, empty when the image is absent
  docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

image_id() { docker image inspect -f '{{ .Id }}' "$1"; }

hash_dir() {  # sha256 over the relative names and contents of every file below $1
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64
}

build_root() {
  local tag="$PREFIX/debian-root:bookworm" inputs
  inputs="$(printf 'root v1 bookworm minbase python3,ca-certificates %s' "$DEBIAN_MIRROR" | sha256sum | cut -c1-64)"
  if [ "$(current_label "$tag")" = "$inputs" ]; then log "$tag is up to date"; return; fi
  if timeout 60 docker pull -q debian:bookworm-slim >/dev/null 2>&1; then
    log "$tag from debian:bookworm-slim"
    printf 'FROM debian:bookworm-slim\n' | docker build -q --label "$LABEL=$inputs" -t "$tag" - >/dev/null
    return
  fi
  command -v debootstrap >/dev/null || die "no registry answers and debootstrap is not installed (apt-get install -y debootstrap)"
  local rootfs
  rootfs="$(mktemp -d /var/tmp/gatewayops-rootfs.XXXXXX)"
  trap 'rm -rf "$rootfs"' RETURN
  log "$tag via debootstrap (no registry answers); about a minute"
  debootstrap --variant=minbase --include=python3,ca-certificates bookworm "$rootfs" "$DEBIAN_MIRROR" >"$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; die "debootstrap failed"; }
  rm -f "$rootfs.log"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import --change "LABEL $LABEL=$inputs" - "$tag" >/dev/null
}

# build_image NAME TAG PARENT_TAG [SOURCE_FILE:NAME_IN_CONTEXT ...]
build_image() {
  local name="$1" tag="$2" parent="$3"; shift 3
  local ctx inputs
  ctx="$(mktemp -d /var/tmp/gatewayops-ctx.XXXXXX)"
  cp -a "$here/$name/." "$ctx/"
  rm -rf "$ctx"/*/node_modules   # a developer's npm install: the image installs from the lock file
  local extra
  for extra in "$@"; do cp "${extra%%:*}" "$ctx/${extra#*:}"; done
  inputs="$( { hash_dir "$ctx"; image_id "$parent"; echo "LITELLM_VERSION=$LITELLM_VERSION"; } | sha256sum | cut -c1-64)"
  if [ "$(current_label "$tag")" = "$inputs" ]; then
    log "$tag is up to date"; rm -rf "$ctx"; return
  fi
  log "building $tag"
  local start=$SECONDS
  if ! docker build -q --label "$LABEL=$inputs" \
      --build-arg "ROOT_IMAGE=$parent" --build-arg "BASE_IMAGE=$parent" \
      --build-arg "LITELLM_VERSION=$LITELLM_VERSION" \
      -t "$tag" "$ctx" >"$ctx.log" 2>&1; then
    tail -30 "$ctx.log" >&2; rm -rf "$ctx" "$ctx.log"; die "building $tag failed"
  fi
  rm -rf "$ctx" "$ctx.log"
  log "built $tag in $((SECONDS - start)) s"
}

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(base litellm litellm-db redis postgres haproxy fake-openai molecule prometheus alertmanager)
want() { local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

[ -r "$HOST_CA_BUNDLE" ] || die "host CA bundle $HOST_CA_BUNDLE is not readable"
build_root
build_image base "$PREFIX/debian:bookworm" "$PREFIX/debian-root:bookworm" "$HOST_CA_BUNDLE:host-ca-bundle.crt"
{ want litellm || want litellm-db; } && build_image litellm "$PREFIX/litellm:$LITELLM_VERSION" "$PREFIX/debian:bookworm"
# TEST-ONLY database mode (Prisma's WebAssembly engines behind our translation layer): litellm-db/Dockerfile
want litellm-db && build_image litellm-db "$PREFIX/litellm-db:$LITELLM_VERSION" "$PREFIX/litellm:$LITELLM_VERSION"
want redis && build_image redis "$PREFIX/redis:7" "$PREFIX/debian:bookworm"
want postgres && build_image postgres "$PREFIX/postgres:15" "$PREFIX/debian:bookworm"
want haproxy && build_image haproxy "$PREFIX/haproxy:2.6" "$PREFIX/debian:bookworm"
want fake-openai && build_image fake-openai "$PREFIX/fake-openai:latest" "$PREFIX/debian:bookworm" \
  "$repo/tests/fixtures/fake_openai/server.py:server.py"
want prometheus && build_image prometheus "$PREFIX/prometheus:2" "$PREFIX/debian:bookworm"
want alertmanager && build_image alertmanager "$PREFIX/alertmanager:0" "$PREFIX/debian:bookworm"
want molecule && build_image molecule "$PREFIX/molecule-debian:bookworm" "$PREFIX/debian:bookworm"
log "images ready (prefix $PREFIX)"
