# comfycord: multi-stage image. scripts/docker-build-check.sh performs the same steps without a Docker engine,
# and test/docker/ checks that the two stay in step.

# Stage 1: compile TypeScript with the full dev tree.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsconfig.build.json leaves the tests out; pruning afterwards keeps the natively built modules (better-sqlite3,
# sharp) so the slim runtime stage needs neither a compiler nor a download.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Stage 2: production dependencies and the compiled code only.
FROM node:20-slim AS runtime
# The memory settings of `npm start` (package.json; test/docker keeps the two in step): glibc makes at most two
# malloc arenas (one per thread by default, each keeping its freed memory) and hands blocks of 128 KB and more
# back to the system when they are freed; V8's young generation stays small (CMD).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY commands ./commands
COPY templates ./templates
# The volumes must belong to the runtime user before VOLUME, or Docker creates them owned by root.
RUN mkdir -p /app/data && chown -R node:node /app/commands /app/templates /app/data
USER node
ENV COMFYCORD_HTTP_PORT=8080 \
    COMFYCORD_COMMANDS_DIR=/app/commands \
    COMFYCORD_TEMPLATES_DIR=/app/templates \
    COMFYCORD_DATA_DIR=/app/data
EXPOSE 8080
VOLUME ["/app/commands","/app/templates","/app/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD node dist/src/ops/healthcheck.js
STOPSIGNAL SIGTERM
CMD ["node","--max-semi-space-size=8","--liftoff-only","--expose-gc","dist/src/cli/index.js","start"]
