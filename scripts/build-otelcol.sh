#!/usr/bin/env bash
# Build (or take from the cache) rrfleet's OpenTelemetry Collector distribution with the collector
# builder (ocb) from Go modules, as deploy/images/otelcol/builder-config.yaml lists them.
#
#   scripts/build-otelcol.sh        # prints the binary's path on stdout, logs on stderr
#
# The builder itself comes from scripts/build-go-tool.sh (cache name ocb-VERSION, VERSION = the
# manifest's dist.version). The collector is cached as ~/.cache/rrfleet/bin/otelcol-rrfleet-HASH,
# HASH being the first 16 hex digits of the manifest's sha256: an unchanged manifest is never
# rebuilt; edit it (or delete the binary) to build again. Runs under `nice -n 19`.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
manifest="$root/deploy/images/otelcol/builder-config.yaml"
log() { printf '[build-otelcol] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -f "$manifest" ]] || die "missing $manifest"
command -v go >/dev/null 2>&1 || { [[ -x /usr/local/go/bin/go ]] && export PATH="/usr/local/go/bin:$PATH"; }
command -v go >/dev/null 2>&1 || die "go not found (expected /usr/local/go/bin/go)"
if [[ -z "${HOME:-}" ]]; then HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"; export HOME; fi

version="$(sed -n 's/^  version: *\([0-9.]*\) *$/\1/p' "$manifest" | head -n 1)"
[[ -n "$version" ]] || die "$manifest: dist.version is missing"
hash="$(sha256sum "$manifest" | cut -c1-16)"
cache_dir="${RRFLEET_BIN_CACHE:-$HOME/.cache/rrfleet/bin}"
out="$cache_dir/otelcol-rrfleet-$hash"
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.otelcol-rrfleet.lock"
flock 9
if [[ -x "$out" ]]; then
  log "otelcol-rrfleet $version: cached ($out)"
  echo "$out"
  exit 0
fi

ocb="$("$root/scripts/build-go-tool.sh" ocb go.opentelemetry.io/collector/cmd/builder "v$version")"
work="$cache_dir/build/otelcol-rrfleet-$hash"
rm -rf "$work"
mkdir -p "$work"
# ocb writes the generated sources and the binary under dist.output_path; give it our own dir.
sed "s#^dist:#dist:\n  output_path: $work/src#" "$manifest" >"$work/builder-config.yaml"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOWORK=off CGO_ENABLED="${CGO_ENABLED:-0}"
export GOFLAGS="-buildvcs=false -p=${RRFLEET_BUILD_JOBS:-2}"
start=$SECONDS
log "otelcol-rrfleet $version: building with ocb v$version (nice 19) ..."
nice -n 19 "$ocb" --config "$work/builder-config.yaml" >"$work/build.log" 2>&1 \
  || { tail -n 30 "$work/build.log" >&2; die "ocb failed (log: $work/build.log)"; }
[[ -x "$work/src/otelcol-rrfleet" ]] || die "ocb produced no binary (log: $work/build.log)"
mv -f "$work/src/otelcol-rrfleet" "$out"
rm -rf "$work/src"
log "otelcol-rrfleet $version: built in $((SECONDS - start)) s -> $out"
echo "$out"
