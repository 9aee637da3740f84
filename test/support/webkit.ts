// WebKit (the Safari engine) for the Node-side tests: Debian's WebKitGTK WebDriver (`webkit2gtk-driver`) under
// `xvfb-run`, driving its MiniBrowser, spoken to in plain W3C WebDriver over HTTP (fetch; no client library).
import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "../../scripts/platform.mjs";
import type { BrowserDriver, BrowserSession, WebDriverCookie } from "./browser-session";

const WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver";
const MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

class WebDriverError extends Error {
  constructor(
    readonly error: string,
    message: string,
  ) {
    super(`${error}: ${message}`);
  }
}

async function command(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const { value } = (await response.json()) as { value: unknown };
  if (!response.ok) {
    const { error, message } = value as { error: string; message: string };
    throw new WebDriverError(error, message);
  }
  return value;
}

/** One browser session: a fresh MiniBrowser with its own (ephemeral) cookie store. */
class WebKitSession implements BrowserSession {
  constructor(private readonly base: string) {}

  navigate(url: string): Promise<unknown> {
    return command(this.base, "POST", "/url", { url });
  }

  execute<T>(script: string): Promise<T> {
    return command(this.base, "POST", "/execute/sync", { script, args: [] }) as Promise<T>;
  }

  /** The named cookie of the current page's host, or undefined when the browser has none (W3C "no such cookie"). */
  async cookie(name: string): Promise<WebDriverCookie | undefined> {
    try {
      return (await command(this.base, "GET", `/cookie/${encodeURIComponent(name)}`)) as WebDriverCookie;
    } catch (error) {
      if (error instanceof WebDriverError && error.error === "no such cookie") return undefined;
      throw error;
    }
  }

  /** Writes a cookie into the browser's own store, for the current page's host. */
  addCookie(cookie: WebDriverCookie): Promise<unknown> {
    return command(this.base, "POST", "/cookie", { cookie });
  }

  deleteCookie(name: string): Promise<unknown> {
    return command(this.base, "DELETE", `/cookie/${encodeURIComponent(name)}`);
  }

  close(): Promise<unknown> {
    return command(this.base, "DELETE", "");
  }
}

export class WebKitDriver implements BrowserDriver {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** Starts WebKitWebDriver on a free loopback port inside its own X server (xvfb-run), and waits until it is ready. */
  static async start(): Promise<WebKitDriver> {
    const port = await freePort();
    // Its own process group, so stop() ends xvfb-run, Xvfb and the driver together.
    const child = spawn("xvfb-run", ["-a", WEBKIT_DRIVER, `--port=${port}`, "--host=local"], { stdio: "ignore", detached: true });
    const driver = new WebKitDriver(child, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited with code ${child.exitCode}`);
      try {
        const status = (await command(driver.url, "GET", "/status")) as { ready: boolean };
        if (status.ready) return driver;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await driver.stop();
    throw new Error("WebKitWebDriver did not become ready within 30 s");
  }

  /** A new MiniBrowser session; `acceptInsecureCerts` for wrangler dev's self-signed https certificate. */
  async session(): Promise<BrowserSession> {
    const created = (await command(this.url, "POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "MiniBrowser",
          acceptInsecureCerts: true,
          "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] },
        },
      },
    })) as { sessionId: string };
    return new WebKitSession(`${this.url}/session/${created.sessionId}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    process.kill(-this.child.pid, "SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
}
