#!/usr/bin/env bash
# Performs the Dockerfile's steps where there is no Docker engine, in the scratch directory DIR:
#   build stage    a copy of the repo's installed tree stands in for the stage's `npm ci` (same lock file), then
#                  `npm run build` and `npm prune --omit=dev`
#   runtime stage  the pruned node_modules, dist/ and the files the Dockerfile copies
#   checks         as a non-root user when run as root: the app graph loads with production dependencies only,
#                  the native modules load, `start` without a token prints its one line, and the HEALTHCHECK
#                  command passes against a healthy ops server and fails against an unhealthy one.
# test/docker/ runs this script and checks it against the Dockerfile, so keep the two in step.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: scripts/docker-build-check.sh DIR   (DIR: a scratch directory, emptied first)" >&2
  exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
BUILD=$DIR/build
APP=$DIR/app

# What the runtime stage copies besides dist/ and package*.json (test/docker compares this with the Dockerfile).
RUNTIME_DIRS=(bin commands templates)
HEALTHCHECK_CMD=(node dist/src/ops/healthcheck.js)
START_CMD=(node --max-semi-space-size=8 --liftoff-only --expose-gc dist/src/cli/index.js start)
MISSING_TOKEN='comfycord: DISCORD_TOKEN is not set — create a bot at https://discord.com/developers/applications and run DISCORD_TOKEN=... npm start'

step() { printf '==> %s\n' "$*"; }
fail() {
  printf 'docker-build-check: %s\n' "$*" >&2
  exit 1
}

rm -rf "$BUILD" "$APP"
mkdir -p "$BUILD" "$APP"

step "build stage: npm run build"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$ROOT/tsconfig.json" "$ROOT/tsconfig.build.json" "$BUILD/"
cp -R "$ROOT/src" "$BUILD/src"
cp -a "$ROOT/node_modules" "$BUILD/node_modules"
(cd "$BUILD" && npm run build --silent) || fail "npm run build failed (the image's build stage would fail too)"
(cd "$BUILD" && npm prune --omit=dev --no-audit --no-fund --loglevel=error) || fail "npm prune --omit=dev failed"

step "runtime stage: pruned node_modules and dist/"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$APP/"
cp -a "$BUILD/node_modules" "$APP/node_modules"
cp -R "$BUILD/dist" "$APP/dist"
for dir in "${RUNTIME_DIRS[@]}"; do cp -R "$ROOT/$dir" "$APP/$dir"; done
for dev in typescript vitest tsx; do
  [[ ! -e "$APP/node_modules/$dev" ]] || fail "dev dependency $dev is in the production tree"
done

# The image runs as USER node; here, when root, the checks run as nobody so a root-only assumption shows up.
AS_USER=()
if [[ $(id -u) -eq 0 ]] && id nobody >/dev/null 2>&1; then
  chmod -R a+rX "$DIR"
  AS_USER=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
# Like a container: a clean environment, nothing inherited from this shell but PATH, plus the runtime stage's ENV.
in_app() { (cd "$APP" && env -i PATH="$PATH" HOME=/tmp NODE_ENV=production MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 "$@" ${AS_USER[@]+"${AS_USER[@]}"} "${CMD[@]}"); }

step "runtime: the app's modules and native dependencies load with production dependencies only"
CMD=(node --input-type=module -e "
  await import('./dist/src/main.js');
  const { default: Database } = await import('better-sqlite3');
  new Database(':memory:').prepare('select 1').get();
  const { default: sharp } = await import('sharp');
  await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer();
")
in_app || fail "loading dist/src/main.js, better-sqlite3 or sharp failed in the production tree"

step "runtime: ${START_CMD[*]} without DISCORD_TOKEN"
CMD=("${START_CMD[@]}")
set +e
output=$(in_app 2>&1)
code=$?
set -e
[[ $code -eq 2 ]] || fail "start without a token exited $code, expected 2; output: $output"
[[ $output == "$MISSING_TOKEN" ]] || fail "start without a token printed: $output"

# Runs HEALTHCHECK_CMD against an ops server started from the production tree whose one backend is $1 (up|down);
# sets $code to the health check's exit code. The server stops when its stdin closes, so no kill is needed.
probe() {
  local state=$1 port
  CMD=(node --input-type=module -e "
    const { startOpsServer } = await import('./dist/src/ops/server.js');
    const { createMetrics } = await import('./dist/src/ops/metrics.js');
    const server = await startOpsServer({ port: 0, host: '127.0.0.1', metrics: createMetrics(),
      health: () => ({ discord: 'connected', backends: { 'comfy-1': '$state' } }) });
    console.log(server.port);
    process.stdin.resume();
    process.stdin.on('end', () => server.close());
  ")
  coproc OPS { in_app; }
  local pid=$OPS_PID in=${OPS[1]}
  read -r -t 30 port <&"${OPS[0]}" || fail "the ops server did not start"
  CMD=("${HEALTHCHECK_CMD[@]}")
  set +e
  in_app COMFYCORD_HTTP_PORT="$port"
  code=$?
  set -e
  exec {in}>&-
  wait "$pid" || fail "the ops server did not stop cleanly"
}

step "runtime: HEALTHCHECK ${HEALTHCHECK_CMD[*]} against a healthy ops server"
probe up
[[ $code -eq 0 ]] || fail "the health check exited $code against a healthy server"

step "runtime: HEALTHCHECK against an unhealthy ops server"
probe down
[[ $code -eq 1 ]] || fail "the health check exited $code against an unhealthy server, expected 1"

step "ok: the image's steps pass"
