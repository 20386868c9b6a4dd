# syntax=docker/dockerfile:1
# The Nightjar worker (and the codec-server / triggers commands): Node.js only. In Kubernetes the
# Spark jobs run in the Spark image (spark.Dockerfile), so this image carries neither Java nor Python.
#
#   docker build -f deploy/docker/worker.Dockerfile -t registry.example/nightjar-worker:0.1.0 .

# ---- build: compile TypeScript, bundle the workflows, keep production dependencies only ----
# The same exact tag in both stages (checkov and hadolint read FROM lines without ARG substitution).
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# `npm install` honours the lock file; `npm ci` rejects locks that omit other platforms' optional
# binaries (the lock records only those the registry served), see scripts/bootstrap.sh.
RUN npm install --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts/bundle-workflows.js ./scripts/bundle-workflows.js
COPY src ./src
COPY demo ./demo
RUN npx tsc -p tsconfig.build.json \
 && npm run build:bundle \
 && test -s dist/workflow-bundle.js \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: the compiled CLI, the prebuilt workflow bundle and production node_modules ----
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NIGHTJAR_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    NIGHTJAR_DATA_DIR=/var/lib/nightjar
WORKDIR /app
# Files stay owned by root and read-only for the runtime user; the only writable places are the
# volumes below (an emptyDir or the shared data PVC in Kubernetes).
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
RUN mkdir -p /var/lib/nightjar \
 && chown 10001:10001 /var/lib/nightjar
VOLUME ["/tmp", "/var/lib/nightjar"]
USER 10001:10001
# The worker drains on SIGTERM (NIGHTJAR_SHUTDOWN_GRACE_SECONDS) before exiting.
STOPSIGNAL SIGTERM
# Kubernetes probes /livez and /readyz on NIGHTJAR_HEALTH_ADDRESS; no Docker health check.
HEALTHCHECK NONE
ENTRYPOINT ["node", "bin/nightjar.js"]
CMD ["worker"]
