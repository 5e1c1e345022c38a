// Sends an error and user feedback on it from the real @sentry/node.
//
// The DSN comes from SENTRY_DSN. The Rust test that runs this script
// asserts what the server made of it; this script only sends.
const Sentry = require("@sentry/node");

async function main() {
  Sentry.init({ dsn: process.env.SENTRY_DSN, release: "items@2.0.0", environment: "test" });
  const eventId = Sentry.captureException(new TypeError("node checkout hangs"));
  Sentry.captureFeedback({
    message: "The checkout button does nothing",
    name: "Jane Doe",
    email: "jane@example.com",
    associatedEventId: eventId,
  });
  await Sentry.flush(10000);
  console.log(eventId);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
