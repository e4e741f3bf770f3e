# One recipe, one image per app: `docker build --build-arg APP=gateway -t um-gateway .`
# (APP: gateway, users-service, auth-service or mail-service). Stages:
#   prune  – `turbo prune --docker`: the app and the workspace packages it needs, nothing else
#   build  – every dependency (TypeScript, turbo), compile the app and its packages
#   deps   – production dependencies only (`npm ci --omit=dev`) of the pruned workspace
#   final  – Node, those dependencies, the compiled output and migrations; non-root; `node dist/main.js`
# The same Node.js line as the pinned runtime (package.json `node`, .nvmrc): its newest release, for the
# security fixes. The apps refuse to start on an older Node.js (packages/platform/src/node-version.ts).
ARG NODE_IMAGE=node:26-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

FROM base AS prune
ARG APP
WORKDIR /repo
COPY . .
RUN test -n "$APP" || { echo "build with --build-arg APP=gateway|users-service|auth-service|mail-service" >&2; exit 1; }
# The same turbo the repository pins (package.json devDependencies).
RUN npm install --global turbo@2.11.9 && turbo prune "@um/${APP}" --docker --out-dir /pruned

FROM base AS build
ARG APP
WORKDIR /repo
# Manifests and lockfile first: the install layer stays cached until a dependency changes.
COPY --from=prune /pruned/json/ ./
RUN npm ci
COPY --from=prune /pruned/full/ ./
# `turbo prune` copies workspaces, not root files beyond package.json: the shared compiler settings.
COPY --from=prune /repo/tsconfig.base.json ./
RUN npx turbo run build --filter="@um/${APP}" --output-logs=errors-only
# What the app runs from: each package's manifest, compiled output and migrations (testkit is for tests).
RUN mkdir -p /runtime && for dir in apps/* packages/*; do \
      [ "$dir" = packages/testkit ] && continue; \
      mkdir -p "/runtime/$dir" && cp -r "$dir/package.json" "$dir/dist" "/runtime/$dir/"; \
      if [ -d "$dir/migrations" ]; then cp -r "$dir/migrations" "/runtime/$dir/"; fi; \
    done

FROM base AS deps
WORKDIR /app
COPY --from=prune /pruned/json/ ./
# turbo prune keeps @um/testkit when the app lists it as a devDependency, and npm installs a
# workspace's own dependencies (vitest, testcontainers) even with --omit=dev: drop the workspace.
RUN rm -rf packages/testkit && npm ci --omit=dev && npm cache clean --force

FROM ${NODE_IMAGE} AS final
ARG APP
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/ ./
COPY --from=build /runtime/ ./
WORKDIR /app/apps/${APP}
# The image's `node` user (uid 1000), by number so a runtime can verify it is not root. The files
# stay root's: the app cannot change its own code.
USER 1000:1000
CMD ["node", "dist/main.js"]
