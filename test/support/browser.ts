// Headless Debian Chromium for the Node-side tests (the loader's real-browser test, dashboard screenshots).
// playwright-core drives the system browser: no browser download, the same binary CI installs with apt.
import { type Browser, chromium } from "playwright-core";

const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags that keep a test browser quiet and reproducible: no GPU, no background traffic, no first-run UI. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Chromium with a fresh profile: playwright passes its own new temporary `--user-data-dir` on every
 * launch and removes it on `close()`, so no cookie or cache survives from one test run to the next.
 * Each `browser.newContext()` is a further isolated cookie jar.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
