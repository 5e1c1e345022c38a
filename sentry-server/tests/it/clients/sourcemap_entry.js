// The entry of the bundle the source map test builds: it reports the
// fixture's error (fixtures/sourcemaps/src) with @sentry/node, whose
// release and distribution come from the environment.
import * as Sentry from "@sentry/node";
import { runCheckout } from "./checkout.js";

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  release: process.env.SENTRY_RELEASE || undefined,
  dist: process.env.SENTRY_DIST || undefined,
});

try {
  runCheckout([{ name: "apple", price: 3 }, { name: "pear", price: -1 }]);
} catch (error) {
  Sentry.captureException(error);
}
Sentry.flush(10000).then((sent) => process.exit(sent ? 0 : 1));
