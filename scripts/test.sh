#!/usr/bin/env bash
# The whole test suite: installs what it needs (bootstrap, deployment tools, PostgreSQL, Kafka,
# the local Kubernetes control plane), then lint, type check, the PySpark job tests (on a classic
# session, then on the warm driver's Spark Connect server) and every jest
# project (unit, activity, workflow, replay, kubernetes, kafka, deploy, fuzz; then integration and
# the reliability fault matrix).
# Ends with one line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
mkdir -p .cache

# The deployment tools (helm built with Go, hadolint, kubernetes-validate, checkov) install in the
# background while lint, type check, the servers and the PySpark tests run.
echo "== deployment tools (helm, hadolint, kubernetes-validate, checkov): installing in the background"
bash scripts/deploy-tools.sh > .cache/deploy-tools.out 2> .cache/deploy-tools.log &
deploy_tools=$!

# The local Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)
# builds from the Go module proxy into a cache outside the clone: minutes once, seconds after.
echo "== Kubernetes control plane: building in the background (scripts/k8s.sh build)"
bash scripts/k8s.sh build > .cache/k8s-build.out 2> .cache/k8s-build.log &
k8s_build=$!
k8s_started_here=0
kafka_started_here=0
# What this run started, it stops: the plane, and the Kafka broker (one found running — this
# checkout's from an earlier run, or another checkout's on the same port — is left as it was).
stop_started_here() {
  if [ "$k8s_started_here" = 1 ]; then bash scripts/k8s.sh down || true; fi
  if [ "$kafka_started_here" = 1 ]; then bash scripts/kafka.sh stop || true; fi
}
trap stop_started_here EXIT

echo "== lint and type check"
npx eslint .
npx tsc --noEmit

echo "== PostgreSQL (Debian server, started for the tests)"
NIGHTJAR_TEST_PG_URL=$(bash scripts/postgres.sh | tail -n1)
export NIGHTJAR_TEST_PG_URL

echo "== Chromium (Debian's, for the browser tests)"
NIGHTJAR_CHROMIUM=$(bash scripts/chromium.sh | tail -n1)
export NIGHTJAR_CHROMIUM

echo "== Kafka (KRaft broker from Maven Central jars, started for the tests)"
# `kafka.sh stop` stops only this checkout's broker, never one it reused from another checkout.
bash scripts/kafka.sh status > /dev/null 2>&1 || kafka_started_here=1
NIGHTJAR_TEST_KAFKA_BROKERS=$(bash scripts/kafka.sh start | tail -n1)
export NIGHTJAR_TEST_KAFKA_BROKERS

status=0
echo "== PySpark job tests"
.venv/bin/python -m pytest spark/tests -q -p no:cacheprovider --junitxml=.cache/pytest.xml || status=1
echo "== PySpark job tests on the warm driver (the jobs as sessions of a Spark Connect server)"
NIGHTJAR_TEST_SPARK_REMOTE=start .venv/bin/python -m pytest spark/tests/test_lines.py spark/tests/test_normalize.py spark/tests/test_transform.py \
  -q -p no:cacheprovider --junitxml=.cache/pytest-connect.xml || status=1

if wait "$deploy_tools"; then
  NIGHTJAR_DEPLOY_TOOLS=$(tail -n1 .cache/deploy-tools.out)
  export NIGHTJAR_DEPLOY_TOOLS
else
  echo "deploy-tools.sh failed:" >&2
  cat .cache/deploy-tools.log >&2
  status=1
fi

if wait "$k8s_build"; then
  bash scripts/k8s.sh status > /dev/null 2>&1 || k8s_started_here=1
  if NIGHTJAR_TEST_KUBECONFIG=$(bash scripts/k8s.sh up 2> .cache/k8s-up.log | tail -n1) && [ -n "$NIGHTJAR_TEST_KUBECONFIG" ]; then
    export NIGHTJAR_TEST_KUBECONFIG
    echo "== Kubernetes control plane up: $NIGHTJAR_TEST_KUBECONFIG"
  else
    echo "scripts/k8s.sh up failed:" >&2
    cat .cache/k8s-up.log >&2
    status=1
  fi
else
  echo "scripts/k8s.sh build failed:" >&2
  cat .cache/k8s-build.log >&2
  status=1
fi

# Two workers (jest's default is one on two cores) for the fast projects and integration: one
# worker left the cores a quarter idle while tests waited on servers and processes. The fault
# matrix stays serial: its rows restart the plane and the servers the others would be using.
echo "== jest: unit, activity, workflow, replay, kubernetes, kafka, deploy, fuzz"
npx jest --selectProjects unit activity workflow replay kubernetes kafka deploy fuzz --maxWorkers=2 --json --outputFile=.cache/jest-fast.json || status=1
echo "== schemathesis (the OpenAPI fuzzer, pinned, for the trigger API's contract test)"
NIGHTJAR_SCHEMATHESIS=$(bash scripts/api-tools.sh | tail -n1)
export NIGHTJAR_SCHEMATHESIS

# --forceExit on the projects that start servers and processes: a failed test can leave a timer or
# a socket of its world open, and the run must still end (and report) rather than wait for the CI limit.
echo "== jest: integration (real dev server, Spark, PostgreSQL, PGlite, worker processes)"
# PGlite loads its WASM build with import(), which jest allows only with VM modules; the other
# projects run without them, since that flag makes jest refuse the ES-module-only Kubernetes client.
NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects integration --maxWorkers=2 --forceExit --json --outputFile=.cache/jest-integration.json || status=1
echo "== jest: reliability (the fault matrix: worker processes, the dev server, PostgreSQL, the local Kubernetes plane)"
# Its rows for the plane's own faults restart the plane's components: only a plane this run
# started (not one found running, which others may be using); otherwise they are skipped, saying why.
NIGHTJAR_TEST_PLANE_RESTARTS=$k8s_started_here npx jest --selectProjects reliability --runInBand --forceExit --json --outputFile=.cache/jest-reliability.json || status=1
echo "== jest: browser (the night report pages, the Temporal UI's update dialog, in Chromium)"
npx jest --selectProjects browser --runInBand --forceExit --json --outputFile=.cache/jest-browser.json || status=1

node scripts/test-summary.js .cache/pytest.xml .cache/pytest-connect.xml .cache/jest-fast.json .cache/jest-integration.json .cache/jest-reliability.json .cache/jest-browser.json || status=1
exit $status
