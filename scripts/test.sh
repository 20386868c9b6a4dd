#!/usr/bin/env bash
# The whole test suite: installs what it needs (bootstrap, PostgreSQL), then lint, type check,
# the PySpark job tests and every jest project (unit, activity, workflow, replay, integration).
# Ends with one line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
mkdir -p .cache

echo "== lint and type check"
npx eslint .
npx tsc --noEmit

echo "== PostgreSQL (Debian server, started for the tests)"
NIGHTJAR_TEST_PG_URL=$(bash scripts/postgres.sh | tail -n1)
export NIGHTJAR_TEST_PG_URL

echo "== Kafka (KRaft broker from Maven Central jars, started for the tests)"
NIGHTJAR_TEST_KAFKA_BROKERS=$(bash scripts/kafka.sh start | tail -n1)
export NIGHTJAR_TEST_KAFKA_BROKERS

echo "== deployment tools (helm, hadolint, kubernetes-validate, checkov)"
NIGHTJAR_DEPLOY_TOOLS=$(bash scripts/deploy-tools.sh | tail -n1)
export NIGHTJAR_DEPLOY_TOOLS

status=0
echo "== PySpark job tests"
.venv/bin/python -m pytest spark/tests -q -p no:cacheprovider --junitxml=.cache/pytest.xml || status=1

echo "== jest: unit, activity, workflow, replay, kubernetes, kafka, deploy, fuzz"
npx jest --selectProjects unit activity workflow replay kubernetes kafka deploy fuzz --json --outputFile=.cache/jest-fast.json || status=1
echo "== jest: integration (real dev server, Spark, PostgreSQL, PGlite)"
# PGlite loads its WASM build with import(), which jest allows only with VM modules; the other
# projects run without them, since that flag makes jest refuse the ES-module-only Kubernetes client.
NODE_OPTIONS=--experimental-vm-modules npx jest --selectProjects integration reliability --runInBand --json --outputFile=.cache/jest-integration.json || status=1

node scripts/test-summary.js .cache/pytest.xml .cache/jest-fast.json .cache/jest-integration.json || status=1
exit $status
