#!/usr/bin/env bash
# Smoke check: start the etcd + kube-apiserver built by build-binaries.sh on
# free loopback ports, wait for /readyz, check /version and a real write, then
# tear everything down (processes and temp dir) on any exit.
#
#   e2e/tools/smoke-apiserver.sh
#
# Env: ETCD_BIN, KUBE_APISERVER_BIN (default e2e/.bin/etcd, e2e/.bin/kube-apiserver;
#      missing defaults are built/copied by build-binaries.sh first),
#      READY_TIMEOUT (seconds, default 120), SMOKE_KEEP_TMP=1 keeps the temp dir.
# Needs: openssl, curl. Only loopback addresses are used.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
BIN_DIR="$E2E_DIR/.bin"
READY_TIMEOUT="${READY_TIMEOUT:-120}"

log() { printf '[smoke] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
now_ms() { date +%s%3N; }

for tool in openssl curl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done

if [[ -z "${ETCD_BIN:-}" || -z "${KUBE_APISERVER_BIN:-}" ]]; then
  if [[ ! -x "$BIN_DIR/etcd" || ! -x "$BIN_DIR/kube-apiserver" ]]; then
    log "binaries missing; running build-binaries.sh"
    "$SCRIPT_DIR/build-binaries.sh"
  fi
fi
ETCD_BIN="${ETCD_BIN:-$BIN_DIR/etcd}"
KUBE_APISERVER_BIN="${KUBE_APISERVER_BIN:-$BIN_DIR/kube-apiserver}"
[[ -x "$ETCD_BIN" ]] || die "no etcd at $ETCD_BIN"
[[ -x "$KUBE_APISERVER_BIN" ]] || die "no kube-apiserver at $KUBE_APISERVER_BIN"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/rrfleet-smoke.XXXXXX")"
ETCD_PID=""
APISERVER_PID=""

stop_pid() {
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do   # up to 5s, then SIGKILL
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$APISERVER_PID"
  stop_pid "$ETCD_PID"
  if [[ $rc -ne 0 ]]; then
    [[ -f "$TMP/etcd.log" ]] && { log "--- etcd.log (tail) ---"; tail -n 20 "$TMP/etcd.log" >&2; }
    [[ -f "$TMP/apiserver.log" ]] && { log "--- apiserver.log (tail) ---"; tail -n 40 "$TMP/apiserver.log" >&2; }
  fi
  if [[ "${SMOKE_KEEP_TMP:-0}" == 1 ]]; then
    log "kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A free loopback TCP port: random in 20000-59999, not accepting connections and
# not already handed out by this script. (Small race window; fine for a smoke test.)
USED_PORTS=" "
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

ETCD_CLIENT_PORT="$(free_port)"
ETCD_PEER_PORT="$(free_port)"
API_PORT="$(free_port)"
ETCD_URL="http://127.0.0.1:$ETCD_CLIENT_PORT"
API_URL="https://127.0.0.1:$API_PORT"
TOKEN="admintoken"

# ---- certificates and keys (throwaway) ------------------------------------
PKI="$TMP/pki"
mkdir -p "$PKI" "$TMP/cert-dir"
(
  cd "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 \
    -subj "/CN=rrfleet-e2e-ca" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
    -subj "/CN=kube-apiserver" >/dev/null 2>&1
  printf '%s\n' \
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1" \
    "extendedKeyUsage=serverAuth" "keyUsage=digitalSignature,keyEncipherment" >apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out apiserver.crt -days 1 -extfile apiserver.ext >/dev/null 2>&1
  openssl genrsa -out sa.key 2048 >/dev/null 2>&1
  openssl rsa -in sa.key -pubout -out sa.pub >/dev/null 2>&1
) || die "openssl failed"
printf '%s,admin,admin-uid,system:masters\n' "$TOKEN" >"$TMP/tokens.csv"

# ---- etcd ------------------------------------------------------------------
t0="$(now_ms)"
"$ETCD_BIN" \
  --name=default \
  --data-dir="$TMP/etcd" \
  --listen-client-urls="$ETCD_URL" \
  --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="default=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync=true \
  --log-level=warn \
  >"$TMP/etcd.log" 2>&1 &
ETCD_PID=$!

deadline=$((SECONDS + 30))
until curl -fsS "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'; do
  kill -0 "$ETCD_PID" 2>/dev/null || die "etcd exited"
  ((SECONDS < deadline)) || die "etcd not healthy after 30s"
  sleep 0.1
done
t_etcd="$(now_ms)"
log "etcd $("$ETCD_BIN" --version | head -n1 | sed 's/.*: //') healthy on $ETCD_URL in $((t_etcd - t0))ms"

# ---- kube-apiserver ---------------------------------------------------------
# --endpoint-reconciler-type=none: from v1.37 the default (lease) reconciler
# refuses a loopback advertise address ("may not be in the loopback range") and
# the apiserver exits; with none it never writes the default/kubernetes Endpoints,
# which nothing in a control-plane-only harness needs.
"$KUBE_APISERVER_BIN" \
  --etcd-servers="$ETCD_URL" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --endpoint-reconciler-type=none \
  --secure-port="$API_PORT" \
  --cert-dir="$TMP/cert-dir" \
  --tls-cert-file="$PKI/apiserver.crt" \
  --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --allow-privileged=true \
  --disable-admission-plugins=ServiceAccount \
  --authorization-mode=RBAC \
  --token-auth-file="$TMP/tokens.csv" \
  --service-account-issuer="https://127.0.0.1:$API_PORT/" \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  >"$TMP/apiserver.log" 2>&1 &
APISERVER_PID=$!

CURL=(curl -sS --max-time 5 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $TOKEN")
deadline=$((SECONDS + READY_TIMEOUT))
ready=""
until [[ "$ready" == "ok" ]]; do
  kill -0 "$APISERVER_PID" 2>/dev/null || die "kube-apiserver exited"
  ((SECONDS < deadline)) || {
    "${CURL[@]}" "$API_URL/readyz?verbose" >&2 2>&1 || true
    die "kube-apiserver not ready after ${READY_TIMEOUT}s"
  }
  sleep 0.2
  ready="$("${CURL[@]}" "$API_URL/readyz" 2>/dev/null || true)"
done
t_ready="$(now_ms)"
startup_ms=$((t_ready - t_etcd))
log "kube-apiserver ready on $API_URL in ${startup_ms}ms (launch -> /readyz ok)"

# ---- checks ------------------------------------------------------------------
# TLS is verified against our CA (no -k needed).
version_json="$("${CURL[@]}" "$API_URL/version")"
git_version="$(sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' <<<"$version_json")"
expected="$("$KUBE_APISERVER_BIN" --version | sed 's/^Kubernetes //')"
[[ -n "$git_version" && "$git_version" == "$expected" ]] \
  || die "/version gitVersion '$git_version' != '$expected': $version_json"
log "/version gitVersion=$git_version"

code="$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" \
  -H "Authorization: Bearer wrong-token" "$API_URL/api/v1/namespaces")"
[[ "$code" == 401 ]] || die "bad token gave HTTP $code, expected 401"

# A write that goes through admission, RBAC and etcd.
ns="smoke-$$"
code="$("${CURL[@]}" -o "$TMP/ns.json" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' \
  --data "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" \
  "$API_URL/api/v1/namespaces")"
[[ "$code" == 201 ]] || die "create namespace gave HTTP $code: $(cat "$TMP/ns.json")"
code="$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$API_URL/api/v1/namespaces/$ns")"
[[ "$code" == 200 ]] || die "get namespace gave HTTP $code"
log "created and read back namespace $ns"

# CRDs are what the harness needs most (Calico BGP* resources): check the API group is served.
code="$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$API_URL/apis/apiextensions.k8s.io/v1/customresourcedefinitions")"
[[ "$code" == 200 ]] || die "list CRDs gave HTTP $code"

printf 'smoke ok: etcd ready %sms, kube-apiserver %s ready %sms after launch\n' \
  "$((t_etcd - t0))" "$git_version" "$startup_ms"
