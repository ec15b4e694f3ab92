# One image for every rrfleet entry point:
#   node packages/watcher/dist/main.js   (rrfleet-watcher)
#   node packages/applier/dist/main.js   (rrfleet-applier)
#   node packages/rrctl/bin/rrctl.js     (rrctl)
# Build: docker build -t rrfleet .   (docker-compose.yml builds it for you)

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && npx turbo run build --filter=@rrfleet/watcher --filter=@rrfleet/applier --filter=@rrfleet/rrctl \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
USER node
# Overridden per service; the default shows rrctl's help.
ENTRYPOINT ["node"]
CMD ["packages/rrctl/bin/rrctl.js", "--help"]
