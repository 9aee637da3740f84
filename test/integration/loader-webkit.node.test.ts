// The loader's cookies in WebKit, the Safari engine: Debian's WebKitGTK MiniBrowser through its W3C WebDriver under
// Xvfb (test/support/webkit.ts), over the https local run. The test bodies are test/support/loader-https-suite.ts.
import { loaderOverHttps } from "../support/loader-https-suite";
import { WebKitDriver } from "../support/webkit";

loaderOverHttps({ name: "WebKit", start: () => WebKitDriver.start(), protection: { itp: true, etp: false } });
