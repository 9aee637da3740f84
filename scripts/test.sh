#!/usr/bin/env bash
# Every test: type check, the Workers-runtime suite (real workerd via @cloudflare/vitest-pool-workers, one project per
# Worker), then the Node-side suite (real PostgreSQL, real headless Chromium, whole local runs of both Workers).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-test-deps
[ -f .dev.vars ] || cp .dev.vars.example .dev.vars

# The env.*.d.ts files are generated (`npm run types`, secrets' names from .dev.vars.example so a local .dev.vars
# does not change them); fail when a wrangler config changed without them.
npx wrangler types env.edge.d.ts -c wrangler.jsonc --include-runtime=false --env-file .dev.vars.example --check
npx wrangler types env.control.d.ts -c wrangler.control.jsonc --include-runtime=false --env-file .dev.vars.example --check
npm run typecheck
npx vitest run
npx vitest run --config vitest.node.config.ts --passWithNoTests
