#!/usr/bin/env bash
# deploy/systemd/kesm.service passes `systemd-analyze verify` with the
# built binary in place of /usr/bin/kesm, and stops after the shutdown
# grace. Skipped (77) where systemd-analyze is not installed.
set -euo pipefail
kesm="$1"
unit="$(dirname "$0")/../../deploy/systemd/kesm.service"
command -v systemd-analyze >/dev/null 2>&1 || exit 77
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/bin/kesm|$kesm|" "$unit" > "$dir/kesm.service"
out="$(systemd-analyze verify "$dir/kesm.service" 2>&1 || true)"
if [ -n "$out" ]; then
  echo "$out"
  exit 1
fi
grace=$(sed -n 's/.*--shutdown-grace \([0-9]*\).*/\1/p' "$unit")
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)/\1/p' "$unit")
# The stop takes the grace, librdkafka's close (5 s) and the watchdog's
# margin; systemd must not kill it first.
if [ "$stop" -le $((grace + 15)) ]; then
  echo "TimeoutStopSec=$stop is not above --shutdown-grace $grace + 15 s"
  exit 1
fi
echo "kesm.service verified (grace $grace s, stop timeout $stop s)"
