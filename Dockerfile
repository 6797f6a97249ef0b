# The runbook worker (and the `migrate` CLI) for production: docs/production.md.
# UNTESTED: no Docker engine was available where this was written; it was checked with a Dockerfile linter only.
#
#   docker build -t cosmos-runbook-worker .
#   docker run --rm -e TEMPORAL_ADDRESS=... -e COSMOS_ENDPOINT=... -v "$PWD/migrations:/app/migrations:ro" \
#     cosmos-runbook-worker
#
# Debian (glibc), not Alpine: the Temporal worker's native core bridge ships glibc builds.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (tsx included: the worker runs TypeScript directly, migration modules too).
RUN npm ci --omit=dev --no-audit --no-fund \
  && node -e "require('esbuild').transformSync('let a: number = 1', { loader: 'ts' }); require('@swc/core').transformSync('let a = 1', {})" \
  && npm cache clean --force

FROM node:20-bookworm-slim
# COSMOS_RUNBOOK_STACK_ENV=off: a production worker never reads a local stack's stack.env, whatever is mounted
# (docs/architecture.md §9).
ENV NODE_ENV=production \
    COSMOS_RUNBOOK_STACK_ENV=off \
    MIGRATIONS_DIR=/app/migrations \
    TEMPORAL_TASK_QUEUE=cosmos-runbook
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json tsconfig.json ./
COPY --chown=root:root common ./common
COPY --chown=root:root workflows ./workflows
COPY --chown=root:root activities ./activities
COPY --chown=root:root worker ./worker
COPY --chown=root:root client ./client
# Your migration modules: mount them here (read-only), or build an image FROM this one that copies them in.
RUN mkdir -p /app/migrations
# The code is root's and read-only to the worker; it runs as the unprivileged `node` user.
USER node
# One process (no tsx wrapper), so SIGTERM reaches the worker, which drains its activities before it exits.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "worker/main.ts"]
