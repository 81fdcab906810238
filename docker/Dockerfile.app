# The SBC's images, built from the repository root (see docker/README.md):
#   docker build -f docker/Dockerfile.app --build-arg APP=sbc-inbound -t sbc-inbound .   (also sbc-registrar, sbc-options)
#   docker build -f docker/Dockerfile.app --target sip-engine -t sbc-sip-engine .
# BASE is the official Node image production pulls; scripts/images.sh passes a locally built one.
ARG BASE=node:20-bookworm-slim

# Build: the workspace's dependencies (fetched from the lockfile alone, so that layer is reused
# until pnpm-lock.yaml changes), the build of the apps and the engine, then one directory per
# image with only its production dependencies and dist/ (pnpm deploy --prod).
FROM ${BASE} AS build
# Marks every layer of these builds (scripts/images.sh prunes stale ones by it).
LABEL io.sbc.images=1
# A CA bundle for the build's downloads behind a TLS-inspecting proxy (scripts/images.sh mounts the
# host's NODE_EXTRA_CA_CERTS here); it stays out of the runtime images.
ARG NODE_EXTRA_CA_CERTS=
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_INTEGRITY_KEYS=0 CI=1 \
    TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 PNPM_HOME=/pnpm
ENV PATH=/pnpm:$PATH
WORKDIR /src
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY patches ./patches
RUN corepack enable --install-directory /usr/local/bin pnpm && pnpm --version && pnpm fetch
COPY . .
# turbo's cache (a cache mount, kept between builds) rebuilds only the packages that changed.
RUN --mount=type=cache,id=sbc-turbo-cache,target=/src/.turbo/cache \
    pnpm install --offline --frozen-lockfile --reporter=append-only \
 && pnpm exec turbo run build --output-logs=errors-only \
      --filter=@sbc/sbc-inbound --filter=@sbc/sbc-registrar --filter=@sbc/sbc-options --filter=@sbc/sip-engine
RUN pids=; for app in sbc-inbound sbc-registrar sbc-options sip-engine; do \
      ( pnpm --filter="@sbc/${app}" deploy --prod --legacy "/out/${app}" >/dev/null \
        && cd "/out/${app}" && rm -rf src test bench tsconfig*.json vitest.config.ts \
        && find . \( -name "*.map" -o -name "*.d.ts" -o -name "*.tsbuildinfo" \) -delete ) & pids="$pids $!"; \
    done; \
    for pid in $pids; do wait "$pid" || exit 1; done

# What every image shares: production mode, the unprivileged `node` user (uid 1000) and a
# HEALTHCHECK on GET /livez at HTTP_PORT. node is PID 1 (no shell, no entrypoint script), so
# `docker stop`'s SIGTERM reaches it: the apps drain, the engine closes its listeners.
FROM ${BASE} AS runtime
LABEL io.sbc.images=1
ENV NODE_ENV=production
WORKDIR /app
ENTRYPOINT []
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${(process.env.HTTP_PORT || '3000').split(':').pop()}/livez`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
USER node

# Our SIP engine (drachtio-server's flags and DRACHTIO_* variables; see packages/sip-engine).
# Apps connect on 9022; /livez and /metrics on DRACHTIO_PROMETHEUS_SCRAPE_PORT ([HOST:]PORT, 9090).
FROM runtime AS sip-engine
COPY --from=build --chown=root:root /out/sip-engine /app
ENV DRACHTIO_PROMETHEUS_SCRAPE_PORT=9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.DRACHTIO_PROMETHEUS_SCRAPE_PORT.split(':').pop()}/livez`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
EXPOSE 5060/udp 5060/tcp 9022/tcp 9090/tcp
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["--contact", "sip:*:5060;transport=udp,tcp", "--port", "9022"]

# One app (APP: sbc-inbound, sbc-registrar or sbc-options), configured by the environment only
# (see the app's README); HTTP_PORT (3000) serves /livez, /readyz and /metrics.
FROM runtime AS app
ARG APP=sbc-inbound
COPY --from=build --chown=root:root /out/${APP} /app
LABEL org.opencontainers.image.title="${APP}"
EXPOSE 3000/tcp
CMD ["node", "dist/index.js"]
