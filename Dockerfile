# Orders lifecycle service: one image, two processes.
#   API (default):  node dist/api/server.js        port 3000 (/healthz, /readyz)
#   worker:         node dist/worker.js            health port 3001 (/healthz, /readyz)
# Build:  docker build -t orders-lifecycle .
#
# Stages: toolchain (Node + python3/make/g++ for better-sqlite3) -> build (all deps, tsc,
# workflow bundle) and prod-deps (npm ci --omit=dev, native modules compiled here) -> runtime
# (slim Node, no compilers, non-root).

# Node 26, the Active LTS (the same exact version as scripts/test-node26.sh, which runs the suite on it).
ARG NODE_IMAGE=node:26.10.0-bookworm-slim
# better-sqlite3: package.json pins 12.x for Node 20 (13.x needs Node >= 22); 12.x aborted at random
# on Node 24 in Statement::~Statement (RemoveEnvironmentCleanupHook), so this image swaps in 13.x
# (N-API, prebuilt inside the package): same API, no compiler needed, and it passes the suite on 26.
ARG BETTER_SQLITE3_NODE26=13.2.0

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_AUDIT=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_LOGLEVEL=warn

FROM base AS toolchain
# Debian's bookworm packages move only with security fixes; pinning their exact versions would
# break the build at every point release, so they are left to the (pinned) base image's suite.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

FROM toolchain AS build
ARG BETTER_SQLITE3_NODE26
COPY package.json package-lock.json ./
# the lockfile links node-nats-streaming (a dev dependency, for the course's tests) to this folder
COPY packages ./packages
RUN npm ci && npm install --no-save "better-sqlite3@${BETTER_SQLITE3_NODE26}"
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle-workflows.ts ./scripts/bundle-workflows.ts
COPY src ./src
# tsc -> dist/, then the prebuilt Temporal workflow bundles -> dist/workflow-bundle.js (traced) and .untraced.js
RUN npm run build && test -f dist/workflow-bundle.js && test -f dist/workflow-bundle.untraced.js && test -f dist/worker.js && test -f dist/api/server.js

FROM toolchain AS prod-deps
ARG BETTER_SQLITE3_NODE26
COPY package.json package-lock.json ./
COPY packages ./packages
RUN npm ci --omit=dev && npm install --no-save --omit=dev "better-sqlite3@${BETTER_SQLITE3_NODE26}" && npm cache clean --force

FROM base AS runtime
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    PORT=3000 \
    WORKER_HEALTH_PORT=3001 \
    DATA_DIR=/app/.data
# Code and dependencies stay owned by root (read-only for the process); only DATA_DIR (the SQLite
# fallback when DATABASE_URL is unset) is writable by the runtime user.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY infra/docker/healthcheck.cjs ./healthcheck.cjs
RUN mkdir -p /app/.data && chown 1000:1000 /app/.data
# uid/gid 1000 is the image's "node" user; numeric so that Kubernetes runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000 3001
# Probes /healthz on PORT (API) or WORKER_HEALTH_PORT (worker), whichever this process serves.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.cjs"]
CMD ["node", "dist/api/server.js"]
