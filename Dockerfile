# The runbook worker (and the `cosmos-runbook` CLI) for production: docs/production.md.
# UNTESTED as an image: no Docker engine runs where this was written. What it runs is tested: the same `npm pack`
# tarball's bin, installed into an empty folder, runs a worker and a migration (test/foundation/package.test.ts).
#
#   docker build -t cosmos-runbook-worker .
#   docker run --rm -e TEMPORAL_ADDRESS=... -e COSMOS_ENDPOINT=... -e METRICS_BIND_ADDRESS=0.0.0.0:9464 \
#     -v "$PWD/migrations:/app/migrations:ro" cosmos-runbook-worker
#
# Node 22 LTS. Debian (glibc), not Alpine: the Temporal worker's native core bridge ships glibc builds.

# 1. Build: the TypeScript sources compiled to dist/ (npm run build), then packed as users install it.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md ./
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY migrations ./migrations
COPY docs ./docs
RUN npm pack --pack-destination /tmp --silent && mv /tmp/cosmos-runbook-*.tgz /tmp/cosmos-runbook.tgz

# 2. Production dependencies only: no local stack (emulator, certificates), no compiler, no test tools. tsx stays: it
#    loads TypeScript migration modules (activities/registry.ts).
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY --from=build /tmp/cosmos-runbook.tgz /tmp/
# The tarball carries no lockfile: the project's, so the image has the versions the tests ran with.
COPY package-lock.json ./
RUN tar -xzf /tmp/cosmos-runbook.tgz --strip-components=1 -C /app \
  && npm ci --omit=dev --no-audit --no-fund \
  && rm /tmp/cosmos-runbook.tgz \
  && npm cache clean --force

FROM node:22-bookworm-slim
# COSMOS_RUNBOOK_STACK_ENV=off: a production worker never reads a local stack's stack.env, whatever is mounted
# (docs/architecture.md §9). Logs: JSON lines on stdout at info (docs/observability.md).
ENV NODE_ENV=production \
    COSMOS_RUNBOOK_STACK_ENV=off \
    MIGRATIONS_DIR=/app/migrations \
    TEMPORAL_TASK_QUEUE=cosmos-runbook
WORKDIR /app
# The code is root's and read-only to the worker; it runs as the unprivileged `node` user.
COPY --from=deps --chown=root:root /app ./
# Your migration modules: mount them over /app/migrations (read-only), or build an image FROM this one that copies
# them in (the package's examples are there otherwise).
USER node
# Prometheus metrics when METRICS_BIND_ADDRESS=0.0.0.0:9464 is set.
EXPOSE 9464
# One process, compiled JavaScript: SIGTERM reaches the worker, which drains its activities before it exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/client/bin.js"]
CMD ["worker"]
