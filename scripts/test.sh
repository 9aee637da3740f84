#!/usr/bin/env bash
# Every test: type check, the Workers-runtime suite (real workerd via @cloudflare/vitest-pool-workers), then the
# Node-side suite (real PostgreSQL, real headless Chromium, whole local runs of the Worker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-deps
[ -f .dev.vars ] || cp .dev.vars.example .dev.vars

# worker-configuration.d.ts is generated (`npm run types`); fail when wrangler.jsonc changed without it.
npx wrangler types --check
npx tsc -p .
npx vitest run
npx vitest run --config vitest.node.config.ts --passWithNoTests
