// Sends the end-to-end scenarios from the real @sentry/node SDK.
//
// The DSN comes from SENTRY_DSN. The Rust test that runs this script asserts
// what the server made of it; this script only sends.
const Sentry = require("@sentry/node");

function chained() {
  throw new Error("node outer failure", { cause: new TypeError("node inner cause") });
}

function sameSite(n) {
  throw new RangeError(`node bad value ${n}`);
}

function parseBroken() {
  throw new SyntaxError("node cannot parse");
}

function evalBroken() {
  throw new EvalError("node cannot eval");
}

function withContext() {
  throw new URIError("node with context");
}

function capture(fn, ...args) {
  try {
    fn(...args);
  } catch (error) {
    Sentry.captureException(error);
  }
}

async function main() {
  Sentry.init({ dsn: process.env.SENTRY_DSN, release: "e2e@1.0.0", environment: "test" });
  capture(chained);
  for (let n = 0; n < 2; n++) {
    capture(sameSite, n);
  }
  capture(parseBroken);
  capture(evalBroken);
  Sentry.captureMessage("node message 42");
  Sentry.withScope((scope) => {
    scope.setUser({ id: "user-2", email: "user-2@example.com" });
    scope.setTag("feature", "checkout");
    Sentry.addBreadcrumb({ category: "cart", message: "node added item", level: "info" });
    capture(withContext);
  });
  await Sentry.flush(10000);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
