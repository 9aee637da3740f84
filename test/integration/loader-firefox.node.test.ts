// The loader's cookies in Firefox (Gecko): Debian's firefox-esr driven by puppeteer-core over WebDriver BiDi
// (test/support/firefox.ts), over the https local run. The test bodies are test/support/loader-https-suite.ts.
import { FirefoxDriver } from "../support/firefox";
import { loaderOverHttps } from "../support/loader-https-suite";

loaderOverHttps({ name: "Firefox", start: () => FirefoxDriver.start(), protection: { itp: false, etp: true } });
