// The webmail tests in one process, so that they share one Roundcube set-up (common.mjs):
// the Roundcube plugin (roundcube.suite.mjs), the browser extension (extension.suite.mjs) and
// Roundcube sending over SMTP through Postfix with mistype-smtpd (smtp.suite.mjs).
// Select with MISTYPE_WEBMAIL=roundcube|extension|smtp (default: all).
import { after } from "node:test";
import { stopRoundcube } from "./common.mjs";
import { roundcubeSuite } from "./roundcube.suite.mjs";

const only = process.env.MISTYPE_WEBMAIL || "all";
if (only === "all" || only === "roundcube") roundcubeSuite();
if (only === "all" || only === "extension") (await import("./extension.suite.mjs")).extensionSuite();
if (only === "all" || only === "smtp") (await import("./smtp.suite.mjs")).smtpSuite();

after(stopRoundcube);
