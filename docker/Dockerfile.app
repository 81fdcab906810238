# One image per app: docker build -f docker/Dockerfile.app --build-arg APP=sbc-inbound -t sbc-inbound .
# Builds the workspace, then keeps only the app and its production dependencies (pnpm deploy).
FROM node:20-bookworm-slim AS build
ARG APP
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_INTEGRITY_KEYS=0
RUN corepack enable
WORKDIR /src
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm exec turbo run build --filter="@sbc/${APP}..." \
 && pnpm deploy --filter="@sbc/${APP}" --prod --legacy /out

FROM node:20-bookworm-slim
ARG APP
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out .
USER node
# Configured only by the environment (see the app's README); HTTP_PORT serves /livez, /readyz, /metrics.
CMD ["node", "dist/index.js"]
