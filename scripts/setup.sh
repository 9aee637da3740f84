#!/usr/bin/env bash
# Idempotent setup for a fresh machine: npm packages (pinned by package-lock.json) and, for the test suite,
# Debian's chromium, firefox-esr and WebKitGTK's WebDriver under Xvfb (browser tests) and postgresql (control-plane SQL tests), for
# the router benchmark Debian's wrk.
# Fast when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm ci`: installs exactly what package-lock.json pins (every per-platform package of the supabase CLI is in it)
  # and never rewrites the lock, so `npm start` leaves the checkout as it was.
  npm ci --no-audit --no-fund
fi

missing=()
case "${1:-}" in
  --with-test-deps)
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    # Firefox, driven by puppeteer-core over WebDriver BiDi (test/support/firefox.ts).
    [ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
    [ -x /usr/bin/WebKitWebDriver ] || missing+=(webkit2gtk-driver)
    command -v xvfb-run >/dev/null || missing+=(xvfb)
    command -v xauth >/dev/null || missing+=(xauth)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    # pgTAP for the SQL tests under supabase/tests, and pg_prove to run them (Debian 12 ships PostgreSQL 15).
    ls /usr/share/postgresql/*/extension/pgtap.control >/dev/null 2>&1 || missing+=(postgresql-15-pgtap)
    command -v pg_prove >/dev/null || missing+=(libtap-parser-sourcehandler-pgtap-perl)
    ;;
  --with-bench-deps)
    command -v wrk >/dev/null || missing+=(wrk)
    ;;
esac
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
