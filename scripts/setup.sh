#!/usr/bin/env bash
# Idempotent setup for a fresh machine: npm packages (pinned by package-lock.json) and, for the test suite,
# Debian's chromium and WebKitGTK's WebDriver under Xvfb (browser tests) and postgresql (control-plane SQL tests), for
# the router benchmark Debian's wrk.
# Fast when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

missing=()
case "${1:-}" in
  --with-test-deps)
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    [ -x /usr/bin/WebKitWebDriver ] || missing+=(webkit2gtk-driver)
    command -v xvfb-run >/dev/null || missing+=(xvfb)
    command -v xauth >/dev/null || missing+=(xauth)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
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
