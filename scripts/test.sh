#!/usr/bin/env bash
# Every test: type check, the Workers-runtime suite (real workerd via @cloudflare/vitest-pool-workers, one project per
# Worker), then the Node-side suite (real PostgreSQL, real headless Chromium, whole local runs of both Workers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-deps
[ -f .dev.vars ] || cp .dev.vars.example .dev.vars

# The env.*.d.ts files are generated (`npm run types`, secrets' names from .dev.vars.example so a developer's own
# .dev.vars does not change them); fail when a wrangler config changed without them. (`wrangler types --check`
# ignores --env-file, so the check regenerates beside the file and compares.)
check_types() {
  local fresh=".types-check-$1"
  npx wrangler types "$fresh" -c "$2" --include-runtime=false --env-file .dev.vars.example >/dev/null
  if ! diff <(tail -n +3 "$fresh") <(tail -n +3 "$1") >/dev/null; then
    rm -f "$fresh"; echo "$1 is out of date: run npm run types" >&2; return 1
  fi
  rm -f "$fresh"
}
check_types env.edge.d.ts wrangler.jsonc
check_types env.control.d.ts wrangler.control.jsonc
npm run typecheck
# Biome (lint and format, no warnings) and knip (no unused files, exports or dependencies).
npm run lint
npx vitest run
npx vitest run --config vitest.node.config.ts --passWithNoTests
