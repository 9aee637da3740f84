// What the engine-independent browser tests need from a browser: one W3C-WebDriver-shaped session per test, with its
// own cookie jar. WebKit (test/support/webkit.ts, plain WebDriver over HTTP) and Firefox (test/support/firefox.ts,
// puppeteer-core over WebDriver BiDi) each provide it, so the test bodies are written once
// (test/support/loader-https-suite.ts).

/** A cookie as W3C WebDriver reads and writes it (`expiry` in seconds since the epoch). */
export interface WebDriverCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  secure?: boolean;
  httpOnly?: boolean;
  expiry?: number;
  sameSite?: "Lax" | "Strict" | "None";
}

/** One browser session with a cookie store of its own. */
export interface BrowserSession {
  navigate(url: string): Promise<unknown>;
  /** Runs `script` as a function body in the page and returns what it returns. */
  execute<T>(script: string): Promise<T>;
  /** The named cookie the current page's host sees, or undefined when the browser has none. */
  cookie(name: string): Promise<WebDriverCookie | undefined>;
  /** Writes a cookie into the browser's own store (for the current page's host when it names no domain). */
  addCookie(cookie: WebDriverCookie): Promise<unknown>;
  deleteCookie(name: string): Promise<unknown>;
  close(): Promise<unknown>;
}

/** A running browser that hands out fresh sessions. */
export interface BrowserDriver {
  session(): Promise<BrowserSession>;
  stop(): Promise<void>;
}
