#!/usr/bin/env bash
# The BGP lab (e2e/src/bgp-lab) runs Debian's BIRD 1.6 (`bird`, `birdc`), iproute2 and chrt.
# Installs BIRD from Debian's packages when it is missing (as CI does, as root); fails with the
# reason otherwise. The package's own system service is not used: the lab starts its daemons.
set -euo pipefail
if command -v bird >/dev/null 2>&1 && command -v birdc >/dev/null 2>&1; then
  bird --version 2>&1 | sed 's/^/[ensure-bird] /' >&2
  exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "[ensure-bird] ERROR: BIRD is not installed and this is not root: apt-get install -y bird" >&2
  exit 1
fi
echo "[ensure-bird] installing Debian's bird package ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends bird >/dev/null 2>&1 \
  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends bird >/dev/null; }
# Debian may start its own bird service where an init system runs; the lab needs none of it.
if command -v service >/dev/null 2>&1; then service bird stop >/dev/null 2>&1 || true; fi
bird --version 2>&1 | sed 's/^/[ensure-bird] /' >&2
