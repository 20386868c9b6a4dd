#!/usr/bin/env bash
# The local Kubernetes control plane: real etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler, with kwok for the nodes (only the container runtime is not real).
#
#   bash scripts/k8s.sh up      build once (cached), start, print the admin kubeconfig path LAST
#   bash scripts/k8s.sh down    stop what `up` started (by pid; the API server before etcd)
#   bash scripts/k8s.sh build   build the binaries only (the test command runs this in the background)
#   bash scripts/k8s.sh status  say whether it runs; the kubeconfig path last when it does
#   bash scripts/k8s.sh stop|start|restart COMPONENT
#                               one component of a running plane (etcd, kube-apiserver,
#                               kube-controller-manager, kube-scheduler, kwok), by pid as `down`
#                               does; `start` waits until it serves (the fault tests' restarts)
#
# Everything is built from the Go module proxy into a cache at a fixed path outside the clone
# (NIGHTJAR_K8S_CACHE, default /var/cache/nightjar/k8s as root, else ~/.cache/nightjar/k8s), so a
# fresh clone on the same machine reuses it. Progress goes to stderr. Ports (loopback only):
# API 6443, etcd 2379/2380, kwok 10247 (NIGHTJAR_K8S_API_PORT, NIGHTJAR_K8S_ETCD_PORT, NIGHTJAR_K8S_KWOK_PORT).
# A second, private plane (one whose components a test may restart) shares the binaries but has
# its own state directory (NIGHTJAR_K8S_STATE: certificates, etcd data, pids, logs, kubeconfig)
# and other ports. `up` records the plane's cache and ports in STATE/plane.env; every other
# command given that state directory reads them from there, so it acts on that plane only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
KUBEFLOW_SPARK_API=kubeflow-spark-api==2.4.0

. "$ROOT/scripts/lib/machine-cache.sh"
CACHE=$(machine_cache k8s "${NIGHTJAR_K8S_CACHE:-}")
STATE=${NIGHTJAR_K8S_STATE:-$CACHE/state}
API_PORT=${NIGHTJAR_K8S_API_PORT:-6443}
ETCD_PORT=${NIGHTJAR_K8S_ETCD_PORT:-2379}
KWOK_PORT=${NIGHTJAR_K8S_KWOK_PORT:-10247}
# A plane that runs keeps the cache and ports it was started with (`up` chooses them anew).
if [ "${1:-}" != up ] && [ -f "$STATE/plane.env" ]; then
  # shellcheck disable=SC1091
  . "$STATE/plane.env"
fi
BIN=$CACHE/bin
PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$STATE/pids
ETCD_PEER_PORT=$((ETCD_PORT + 1))
SERVER=https://127.0.0.1:$API_PORT
KUBECONFIG_OUT=$STATE/admin.kubeconfig
# The nodes: two zones, two racks each (the rack label is the chart's `spark.locality.key` for racks).
ZONE_LABEL=topology.kubernetes.io/zone
RACK_LABEL=topology.nightjar.io/rack
NODES=("kwok-a1 zone-a rack-a1" "kwok-a2 zone-a rack-a2" "kwok-b1 zone-b rack-b1" "kwok-b2 zone-b rack-b2")
# Components in start order; `down` stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

T0=$(date +%s%N)
say() { printf 'k8s: [%5.1fs] %s\n' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3" "$*" >&2; }
fail() { printf 'k8s: ERROR: %s\n' "$*" >&2; exit 1; }

export PATH=$PATH:/usr/local/go/bin
export GOMODCACHE=$CACHE/gomod GOCACHE=$CACHE/gobuild GOPATH=$CACHE/gopath GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

# ---------------------------------------------------------------------------------------- processes
pid_of() { [ -f "$PIDS/$1.pid" ] && cat "$PIDS/$1.pid"; }
# Alive, not a zombie, and still the binary we started (a recycled pid is not ours).
ours() {
  local pid; pid=$(pid_of "$1") || return 1
  [ -r "/proc/$pid/stat" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] \
    && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "^$BIN/$1 "
}
launch() { # name command...: detached, in its own session; pid and log in the state directory
  local name=$1 pid; shift
  # Appended, so a restarted component's log keeps what it said before.
  echo "---- $(date -u +%FT%TZ) starting $name" >> "$LOGS/$name.log"
  setsid "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null 9>&- & # 9: the lock of `up`, not theirs to hold
  pid=$!
  echo "$pid" > "$PIDS/$name.pid"
  # Until setsid has exec'd the binary the pid's command line is not yet the component's, and
  # `ours` would take a component that is still starting for one that died (seen under load).
  for _ in $(seq 1 100); do ours "$name" || [ ! -d "/proc/$pid" ] && break; sleep 0.05; done
}
stop_one() {
  local name=$1 pid
  if ours "$name"; then
    pid=$(pid_of "$name")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do ours "$name" || break; sleep 0.1; done
    if ours "$name"; then kill -9 "$pid" 2>/dev/null || true; fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$PIDS/$name.pid"
}
stop_all() {
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_one "${COMPONENTS[$i]}"; done
}
kcurl() { curl -sS --max-time 10 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$@"; }
running() { ours kube-apiserver && kcurl -fs "$SERVER/readyz" > /dev/null 2>&1; }
wait_for() { # seconds description command...: fails early when a started component has died
  local end=$(( $(date +%s) + $1 )) what=$2 c; shift 2
  until "$@" > /dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || fail "timed out waiting for $what (logs: $LOGS)"
    for c in "${COMPONENTS[@]}"; do
      if [ -f "$PIDS/$c.pid" ] && ! ours "$c"; then fail "$c exited while waiting for $what: $(tail -n 2 "$LOGS/$c.log" 2>/dev/null | tr '\n' ' ')"; fi
    done
    sleep 0.2
  done
}
port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# ---------------------------------------------------------------------------------------- builds
have() { [ -x "$BIN/$1" ] && [ -f "$BIN/.$1-$2" ]; }
need_go() {
  command -v go > /dev/null || fail "Go is required to build the control plane once (go not found on PATH; install Go >= 1.25, e.g. /usr/local/go/bin)"
}

build_etcd() {
  have etcd "$ETCD_VERSION" && return
  need_go
  say "building etcd $ETCD_VERSION (a wrapper module: etcd's server module has replace directives)"
  local d=$CACHE/src/etcd-$ETCD_VERSION
  mkdir -p "$d"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > "$d/main.go"
  printf 'module nightjar.local/etcd\n\ngo 1.25\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > "$d/go.mod"
  (cd "$d" && go mod tidy && go build -trimpath -ldflags='-s -w' -o "$BIN/etcd.tmp" .) >&2
  mv "$BIN/etcd.tmp" "$BIN/etcd" && touch "$BIN/.etcd-$ETCD_VERSION"
}

# k8s.io/kubernetes from the proxy, with its `./staging` replaces turned into the published modules.
kubernetes_source() {
  local src=$CACHE/src/kubernetes-$K8S_VERSION dir m args=()
  if [ ! -f "$src/.prepared" ]; then
    say "preparing k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"
    dir=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir" ] || fail "go mod download k8s.io/kubernetes@$K8S_VERSION failed"
    rm -rf "$src.tmp" && cp -r "$dir" "$src.tmp" && chmod -R u+w "$src.tmp"
    rm -f "$src.tmp/go.work" "$src.tmp/go.work.sum"
    for m in $(grep -oE '^\s+k8s\.io/[a-z0-9-]+ => \./staging/' "$src.tmp/go.mod" | awk '{print $1}'); do
      args+=("-dropreplace=$m" "-require=$m@v0.${K8S_VERSION#v1.}")
    done
    [ ${#args[@]} -gt 0 ] || fail "no staging replace directives in k8s.io/kubernetes@$K8S_VERSION go.mod"
    (cd "$src.tmp" && go mod edit "${args[@]}")
    touch "$src.tmp/.prepared" && mv "$src.tmp" "$src"
  fi
  echo "$src"
}

build_kubernetes() {
  local c src minor ldflags='-s -w' p missing=()
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do have "$c" "$K8S_VERSION" || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] && return
  need_go
  src=$(kubernetes_source)
  minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for c in "${missing[@]}"; do
    say "building $c $K8S_VERSION (minutes on a cold Go cache)"
    (cd "$src" && go build -mod=mod -trimpath -ldflags="$ldflags" -o "$BIN/$c.tmp" "./cmd/$c") >&2
    mv "$BIN/$c.tmp" "$BIN/$c" && touch "$BIN/.$c-$K8S_VERSION"
  done
}

build_kwok() {
  have kwok "$KWOK_VERSION" && return
  need_go
  say "building kwok $KWOK_VERSION"
  GOBIN=$BIN go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  touch "$BIN/.kwok-$KWOK_VERSION"
}

# kwok's own stages (from its module): nodes become Ready and keep their lease; a scheduled pod gets
# Running and an address; a deleted pod is finalized. Nothing finishes a pod: that is the runtime's
# (or the operator stand-in's) part, written through the API as a kubelet would. A pod labelled
# nightjar.io/runtime=local belongs to the local container runtime, which reports its status itself.
# kwok's chaos stage makes a node labelled node-not-ready.stage.kwok.x-k8s.io=true report
# Ready=False (a kubelet that lost its runtime); node-initialize, which would make it Ready again at
# once, waits until the label is gone.
RUNTIME_LABEL=nightjar.io/runtime
NOT_READY_LABEL=node-not-ready.stage.kwok.x-k8s.io
kwok_stages() {
  local out=$BIN/kwok-stages-$KWOK_VERSION-r3.yaml s f
  if [ ! -s "$out" ]; then
    s=$GOMODCACHE/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
    [ -d "$s" ] || (need_go && cd "$CACHE" && GOFLAGS=-mod=mod go mod download "sigs.k8s.io/kwok@$KWOK_VERSION" >&2)
    unless_label() { # label file: the stage applies only to objects without the label
      awk -v label="$1" '{ print } /^    matchExpressions:$/ && !done { print "    - key: \x27.metadata.labels[\"" label "\"]\x27"; print "      operator: \x27DoesNotExist\x27"; done = 1 }' "$2"
    }
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml node/chaos/node-not-ready.yaml \
      pod/fast/pod-ready.yaml pod/fast/pod-delete.yaml; do
      [ -f "$s/$f" ] || fail "kwok stage $f not found in $s"
      echo '---'
      case "$f" in
        pod/fast/pod-ready.yaml) unless_label "$RUNTIME_LABEL" "$s/$f" ;;
        node/fast/node-initialize.yaml) unless_label "$NOT_READY_LABEL" "$s/$f" ;;
        *) cat "$s/$f" ;;
      esac
    done > "$out.tmp"
    [ "$(grep -c 'DoesNotExist' "$out.tmp")" -ge 2 ] || fail "could not add the label conditions to kwok's stages"
    mv "$out.tmp" "$out"
  fi
  echo "$out"
}

# The SparkApplication CRD, derived from the operator's published API models (PyPI).
spark_crd() {
  local venv=$CACHE/crd-venv out=$STATE/crds/sparkapplications.sparkoperator.k8s.io.json
  if [ ! -f "$venv/.stamp-$KUBEFLOW_SPARK_API" ]; then
    say "installing $KUBEFLOW_SPARK_API (the operator's API models) into $venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$KUBEFLOW_SPARK_API" >&2
    touch "$venv/.stamp-$KUBEFLOW_SPARK_API"
  fi
  mkdir -p "$STATE/crds"
  "$venv/bin/python" "$ROOT/scripts/k8s/spark-crd.py" > "$out.tmp" && mv "$out.tmp" "$out"
  echo "$out"
}

build() {
  mkdir -p "$BIN" "$CACHE/src"
  build_etcd
  build_kubernetes
  build_kwok
  kwok_stages > /dev/null
  say "binaries ready in $BIN"
}

# ---------------------------------------------------------------------------------------- start
pki() {
  [ -f "$PKI/.done" ] && return
  say "creating the cluster CA, serving and client certificates"
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj /CN=nightjar-local-ca
    printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' > server.ext
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n' > client.ext
    sign() {
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile "$3"
    }
    sign apiserver /CN=kube-apiserver server.ext
    sign admin /O=system:masters/CN=nightjar-admin client.ext
    sign controller-manager /CN=system:kube-controller-manager client.ext
    sign scheduler /CN=system:kube-scheduler client.ext
    openssl genrsa -out sa.key 2048 && openssl rsa -in sa.key -pubout -out sa.pub
  ) > /dev/null 2>&1 || fail "openssl could not create the certificates in $PKI"
  touch "$PKI/.done"
}

kubeconfig() { # path user cert key
  umask 077
  cat > "$1" << EOF
apiVersion: v1
kind: Config
clusters:
- name: nightjar-local
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 < "$3")
    client-key-data: $(base64 -w0 < "$4")
contexts:
- name: nightjar-local
  context: {cluster: nightjar-local, user: $2}
current-context: nightjar-local
EOF
}

apply() { # path-of-object: server-side apply by its kind's URL (stdin when the path is -)
  local url=$1 body=$2
  kcurl -f -o /dev/null -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
    "$SERVER$url?fieldManager=nightjar-k8s&force=true" --data-binary "@$body"
}

install_crds() {
  local crd name
  crd=$(spark_crd)
  for name in sparkapplications.sparkoperator.k8s.io; do
    apply "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" "$crd" || fail "installing the CRD $name was refused (see $crd)"
    established() { kcurl -fs "$SERVER/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$1" | grep -A1 '"type": "Established"' | grep -q '"status": "True"'; }
    wait_for 60 "CRD $name established" established "$name"
  done
  say "SparkApplication CRD installed (server-side apply)"
}

create_nodes() {
  local n name zone rack
  for n in "${NODES[@]}"; do
    read -r name zone rack <<< "$n"
    apply "/api/v1/nodes/$name" - << EOF || fail "creating node $name failed"
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations: {node.alpha.kubernetes.io/ttl: "0", kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: $name, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok, $ZONE_LABEL: $zone, $RACK_LABEL: $rack}
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110"}
  capacity: {cpu: "16", memory: 64Gi, pods: "110"}
EOF
  done
  release_leases
}

# A restarted kwok would wait out the old leases (40 s) before it takes the nodes again.
release_leases() {
  local n name
  for n in "${NODES[@]}"; do
    read -r name _ <<< "$n"
    kcurl -s -o /dev/null -X DELETE "$SERVER/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$name" || true
  done
}

nodes_ready() {
  local n name
  for n in "${NODES[@]}"; do
    read -r name _ <<< "$n"
    kcurl -fs "$SERVER/api/v1/nodes/$name" | grep -A1 '"type": "Ready"' | grep -q '"status": "True"' || return 1
  done
}

start_etcd() {
  launch etcd "$BIN/etcd" --name nightjar-local --data-dir "$STATE/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "nightjar-local=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level warn
  wait_for 30 etcd curl -sf "http://127.0.0.1:$ETCD_PORT/health"
}

# Pods tolerate a NotReady or unreachable node for 20 s instead of 300 s (the admission plugin's
# default): a lost node's pods are evicted within a night's pace, as the fault tests expect.
start_apiserver() {
  launch kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC --allow-privileged=false --cert-dir="$STATE/apiserver-certs" \
    --default-not-ready-toleration-seconds=20 --default-unreachable-toleration-seconds=20
  wait_for 120 'kube-apiserver /readyz' kcurl -fs "$SERVER/readyz"
}

start_controllers() { start_controller_manager; start_scheduler; }
start_controller_manager() {
  launch kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" --use-service-account-credentials=true \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"
}
start_scheduler() {
  launch kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false
}

start_kwok() {
  launch kwok "$BIN/kwok" --kubeconfig="$KUBECONFIG_OUT" --config="$(kwok_stages)" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --manage-nodes-with-label-selector= --cidr=10.0.0.1/24 --node-ip=10.0.0.1 \
    --node-lease-duration-seconds=40 --server-address="127.0.0.1:$KWOK_PORT"
}

up() {
  mkdir -p "$CACHE"
  exec 9> "$CACHE/up.lock"
  flock 9 # a second `up` waits for the first, then finds it running
  if running; then say "already running"; echo "$KUBECONFIG_OUT"; return; fi
  stop_all
  trap 'stop_all' EXIT # a start that fails half-way leaves nothing running
  build
  command -v openssl > /dev/null || fail "openssl is required to create the cluster's certificates"
  command -v curl > /dev/null || fail "curl is required"
  local p
  for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$API_PORT" "$KWOK_PORT"; do
    port_free "$p" || fail "127.0.0.1:$p is in use by another program (set NIGHTJAR_K8S_API_PORT / NIGHTJAR_K8S_ETCD_PORT / NIGHTJAR_K8S_KWOK_PORT)"
  done
  mkdir -p "$LOGS" "$PIDS"
  printf 'CACHE=%q\nAPI_PORT=%q\nETCD_PORT=%q\nKWOK_PORT=%q\n' "$CACHE" "$API_PORT" "$ETCD_PORT" "$KWOK_PORT" > "$STATE/plane.env"
  pki
  kubeconfig "$KUBECONFIG_OUT" nightjar-admin "$PKI/admin.crt" "$PKI/admin.key"
  kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager "$PKI/controller-manager.crt" "$PKI/controller-manager.key"
  kubeconfig "$STATE/scheduler.kubeconfig" scheduler "$PKI/scheduler.crt" "$PKI/scheduler.key"
  rm -rf "$STATE/etcd-data"
  start_etcd
  say "etcd ready"
  start_apiserver
  say "kube-apiserver ready"
  start_controllers
  install_crds
  create_nodes
  start_kwok
  wait_for 60 'kwok nodes Ready' nodes_ready
  wait_for 60 'the default ServiceAccount (kube-controller-manager)' kcurl -fs "$SERVER/api/v1/namespaces/default/serviceaccounts/default"
  trap - EXIT
  say "control plane ready: ${#NODES[@]} kwok nodes in zone-a/zone-b, racks rack-a1..rack-b2; logs in $LOGS"
  echo "$KUBECONFIG_OUT"
}

# ---------------------------------------------------------------------------------------- one component
# For the fault tests: one component of a running plane stopped, started or restarted, the rest
# left as they are. Stopping etcd under a running API server is what the etcd fault is; stopping
# the API server is safe while etcd runs (it hangs on SIGTERM only when etcd is already gone).
component() {
  local action=$1 name=${2:-} c known=0
  for c in "${COMPONENTS[@]}"; do [ "$c" = "$name" ] && known=1; done
  [ "$known" = 1 ] || fail "unknown component '${name}': one of ${COMPONENTS[*]}"
  [ -f "$PKI/.done" ] && [ -d "$PIDS" ] || fail "no plane in $STATE (bash scripts/k8s.sh up first)"
  if [ "$action" = stop ] || [ "$action" = restart ]; then
    ours "$name" || [ "$action" = restart ] || say "$name was not running"
    stop_one "$name"
  fi
  [ "$action" = stop ] && return
  if ours "$name"; then say "$name already running (pid $(pid_of "$name"))"; return; fi
  case "$name" in
    etcd) start_etcd ;;
    kube-apiserver) start_apiserver ;;
    kube-controller-manager | kube-scheduler)
      if [ "$name" = kube-controller-manager ]; then start_controller_manager; else start_scheduler; fi
      # Serving its health port is not offered (--secure-port=0): alive after a moment is what counts.
      sleep 1
      ours "$name" || fail "$name exited at start: $(tail -n 2 "$LOGS/$name.log" 2>/dev/null | tr '\n' ' ')" ;;
    kwok)
      # Just after an API server or etcd restart /readyz may still say no for a few seconds.
      ours kube-apiserver || fail "kwok needs the API server: start kube-apiserver first"
      wait_for 60 'the API server to be ready (/readyz)' running
      release_leases
      start_kwok
      wait_for 60 'kwok nodes Ready' nodes_ready ;;
  esac
  say "started $name (pid $(pid_of "$name"))"
}

case "${1:-}" in
  up) up ;;
  stop | start | restart) component "$1" "${2:-}" ;;
  down)
    # The local container runtime first (its pods' processes die with it), then the plane.
    if [ -f "$ROOT/local-cluster/runtime/run.sh" ]; then bash "$ROOT/local-cluster/runtime/run.sh" stop || true; fi
    if [ -d "$STATE" ]; then stop_all; fi
    exit 0 ;;
  build) mkdir -p "$CACHE" && exec 9> "$CACHE/up.lock" && flock 9 && build && echo "$BIN" ;;
  status) if running; then say "running"; echo "$KUBECONFIG_OUT"; else say "not running"; exit 3; fi ;;
  *) echo "usage: bash scripts/k8s.sh up|down|build|status, or stop|start|restart COMPONENT" >&2; exit 2 ;;
esac
