# One image for every rrfleet entry point; runs as the numeric user and group 10001:10001.
#   node packages/watcher/dist/main.js   (rrfleet-watcher)
#   node packages/applier/dist/main.js   (rrfleet-applier)
#   node packages/rrctl/bin/rrctl.js     (rrctl)
#
# Build:  docker build -t rrfleet:local .             (BuildKit; the default base is pulled)
# Where no registry can be reached, scripts/build-images.sh builds a Debian + Node base locally
# and passes it as BASE_IMAGE (plus the host's CA bundle as the secret `ca`, for npm behind a
# TLS-intercepting proxy: the secret is mounted for `npm ci` only and never stored in a layer).
# No `# syntax=` line on purpose: the Docker daemon's built-in frontend needs no image pull.
ARG BASE_IMAGE=node:24-bookworm-slim

# --- the package manifests alone: the dependency layers below change only when they change ---
FROM ${BASE_IMAGE} AS manifests
WORKDIR /src
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
COPY packages/applier/package.json packages/applier/
COPY packages/fleet-service/package.json packages/fleet-service/
COPY packages/fleet-state/package.json packages/fleet-state/
COPY packages/kube/package.json packages/kube/
COPY packages/rrctl/package.json packages/rrctl/
COPY packages/status-page/package.json packages/status-page/
COPY packages/telemetry/package.json packages/telemetry/
COPY packages/topology-core/package.json packages/topology-core/
COPY packages/watcher/package.json packages/watcher/
# The lockfile names the e2e workspace; its manifest lets `npm ci` check the lock, nothing more.
COPY e2e/package.json e2e/

# --- compile the TypeScript (dev dependencies live only in this stage) ---
FROM manifests AS build
# --ignore-scripts: the `node` devDependency's install script would download a second Node; the
# base image's Node is the one that runs. Its dangling bin link is removed so `node` is that one.
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
 && npm ci --ignore-scripts \
 && rm -rf node_modules/node node_modules/.bin/node
COPY tsconfig.json turbo.json ./
COPY packages/ packages/
ENV TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
RUN npx turbo run build --filter=@rrfleet/watcher --filter=@rrfleet/applier --filter=@rrfleet/rrctl \
 && mkdir -p /out/packages \
 && for dir in packages/*/; do \
      mkdir -p "/out/$dir" && cp "$dir/package.json" "/out/$dir" && cp -R "$dir/dist" "/out/$dir"; \
    done \
 && cp -R packages/rrctl/bin /out/packages/rrctl/ \
 && cp -R packages/status-page/public /out/packages/status-page/ \
 && find /out -name '*.map' -delete -o -name '*.d.ts' -delete

# --- production dependencies of the three entry points only (no e2e, no dev dependencies) ---
FROM manifests AS deps
RUN --mount=type=secret,id=ca --mount=type=cache,target=/root/.npm \
    if [ -s /run/secrets/ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca; fi \
 && npm ci --ignore-scripts --omit=dev \
      --workspace=@rrfleet/watcher --workspace=@rrfleet/applier --workspace=@rrfleet/rrctl \
 && rm -rf e2e package-lock.json

# --- runtime ---
FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="rrfleet" \
      org.opencontainers.image.description="Designs and keeps Calico BGP route-reflector topologies for Kubernetes clusters and fleets: rrfleet-watcher, rrfleet-applier and rrctl." \
      org.opencontainers.image.source="https://github.com/rrfleet/rrfleet" \
      org.opencontainers.image.url="https://github.com/rrfleet/rrfleet" \
      org.opencontainers.image.documentation="https://github.com/rrfleet/rrfleet#readme" \
      org.opencontainers.image.vendor="rrfleet" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENV NODE_ENV=production
WORKDIR /app
# package.json files and node_modules (packages/*/node_modules holds versions npm did not hoist).
COPY --from=deps /src/ ./
COPY --from=build /out/packages ./packages
USER 10001:10001
# Overridden per service; the default shows rrctl's help.
ENTRYPOINT ["node"]
CMD ["packages/rrctl/bin/rrctl.js", "--help"]
