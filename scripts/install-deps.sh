#!/usr/bin/env bash
# Installs every Debian package kesm needs to build, test and benchmark.
# Idempotent; run as root (or with sudo) on Debian 12 (bookworm).
# --build-only: only what building kesm and its packages needs (the
# Dockerfile's build stage, scripts/package.sh).
set -euo pipefail
BUILD_ONLY=0
[ "${1:-}" = "--build-only" ] && BUILD_ONLY=1
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git file dpkg-dev
  libcaf-dev librdkafka-dev libsimdjson-dev libmimalloc-dev
  prometheus-cpp-dev libcurl4-openssl-dev libcpp-httplib-dev libcli11-dev
  libsqlite3-dev libssl-dev zlib1g-dev libprotobuf-dev libprotoc-dev
)
if [ "$BUILD_ONLY" = 0 ]; then
  PKGS+=(
    libgtest-dev libgmock-dev libbenchmark-dev python3 python3-yaml curl
    clang libclang-rt-14-dev chromium fonts-dejavu-core prometheus
    protobuf-compiler python3-protobuf python3-avro python3-jsonschema
    python3-confluent-kafka openssl
  )
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "kesm: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  # No package may start a service while we install (prometheus ships a
  # server; only its promtool is used): policy-rc.d says no, for this
  # install only, where the machine has no policy of its own.
  POLICY=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    POLICY=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || { [ -n "$POLICY" ] && $SUDO rm -f "$POLICY"; exit 1; }
  [ -n "$POLICY" ] && $SUDO rm -f "$POLICY"
  # With systemd, keep the server from starting at the next boot too.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
else
  echo "kesm: all Debian packages already installed"
fi
[ "$BUILD_ONLY" = 1 ] && exit 0
# The control-plane tests drive kesm with the real AWS CLI and boto3, and
# the AWS tests check signatures with botocore; take Debian's where the
# machine has none. The Glue schema registry test runs Debian's own
# /usr/bin/python3 (for python3-avro), so that one needs botocore too,
# whatever the python3 first on PATH has.
if ! command -v aws >/dev/null 2>&1 \
   || ! python3 -c "import boto3, botocore" 2>/dev/null \
   || ! /usr/bin/python3 -c "import botocore" 2>/dev/null; then
  echo "kesm: installing Debian's awscli, python3-boto3 and python3-botocore"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends awscli python3-boto3 \
    python3-botocore
fi
# Powertools for AWS Lambda's Kafka utility reads kesm's events in the
# schema registry test: Node.js and npm from Debian, the package from npm's
# registry into tests/node/node_modules (not committed).
if ! command -v npm >/dev/null 2>&1; then
  echo "kesm: installing Debian's nodejs and npm"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
NODE_DIR="$(cd "$(dirname "$0")/.." && pwd)/tests/node"
if [ ! -d "$NODE_DIR/node_modules/@aws-lambda-powertools/kafka" ]; then
  echo "kesm: installing @aws-lambda-powertools/kafka into tests/node (npm)"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error >/dev/null \
    || echo "kesm: npm install failed; the Powertools test will be skipped"
fi
