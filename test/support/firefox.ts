// Firefox for the Node-side tests: Debian's `firefox-esr`, headless, driven by puppeteer-core over WebDriver BiDi
// (the W3C protocol Firefox speaks natively; no browser download, no Xvfb). Each session is a BiDi user context: a
// cookie jar of its own, gone when the session closes.
import puppeteer, { type Browser, type BrowserContext, type Cookie, type Page } from "puppeteer-core";
import type { BrowserDriver, BrowserSession, WebDriverCookie } from "./browser-session";

const FIREFOX_PATH = "/usr/bin/firefox-esr";

/** A cookie belongs to the page's host when its domain is the host, or (a leading dot) a parent of it. */
function visibleTo(cookie: Cookie, host: string): boolean {
  const domain = cookie.domain.replace(/^\./, "");
  return host === domain || host.endsWith(`.${domain}`);
}

function toWebDriver(cookie: Cookie): WebDriverCookie {
  return {
    name: cookie.name,
    value: cookie.value,
    path: cookie.path,
    domain: cookie.domain,
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    ...(cookie.session ? {} : { expiry: Math.floor(cookie.expires) }),
    // "Default" (no attribute given) has no W3C form: the cookie then has no sameSite, as WebDriver reports it.
    ...(cookie.sameSite && cookie.sameSite !== "Default" ? { sameSite: cookie.sameSite } : {}),
  };
}

class FirefoxSession implements BrowserSession {
  constructor(
    private readonly context: BrowserContext,
    private readonly page: Page,
  ) {}

  private host(): string {
    return new URL(this.page.url()).hostname;
  }

  navigate(url: string): Promise<unknown> {
    return this.page.goto(url);
  }

  execute<T>(script: string): Promise<T> {
    return this.page.evaluate(`(() => { ${script} })()`) as Promise<T>;
  }

  async cookie(name: string): Promise<WebDriverCookie | undefined> {
    const found = (await this.context.cookies()).find((c) => c.name === name && visibleTo(c, this.host()));
    return found && toWebDriver(found);
  }

  addCookie(cookie: WebDriverCookie): Promise<unknown> {
    return this.context.setCookie({
      name: cookie.name,
      value: cookie.value,
      domain: cookie.domain ?? this.host(),
      path: cookie.path ?? "/",
      secure: cookie.secure,
      httpOnly: cookie.httpOnly,
      sameSite: cookie.sameSite,
      expires: cookie.expiry,
    });
  }

  async deleteCookie(name: string): Promise<unknown> {
    const matching = (await this.context.cookies()).filter((c) => c.name === name && visibleTo(c, this.host()));
    return this.context.deleteCookie(...matching);
  }

  close(): Promise<unknown> {
    return this.context.close();
  }
}

export class FirefoxDriver implements BrowserDriver {
  private constructor(private readonly browser: Browser) {}

  /** Headless Firefox over BiDi; `acceptInsecureCerts` for wrangler dev's self-signed https certificate. */
  static async start(): Promise<FirefoxDriver> {
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: FIREFOX_PATH,
      protocol: "webDriverBiDi",
      headless: true,
      acceptInsecureCerts: true,
    });
    return new FirefoxDriver(browser);
  }

  async session(): Promise<BrowserSession> {
    const context = await this.browser.createBrowserContext();
    return new FirefoxSession(context, await context.newPage());
  }

  async stop(): Promise<void> {
    await this.browser.close();
  }
}
