"""Sends three errors from the real Python sentry-sdk to a project that
admits one per window: the SDK must back off after the server's 429 and
report what it dropped in a client report.

The DSN comes from SENTRY_DSN. The Rust test that runs this script asserts
what the server made of it; this script only sends.
"""
import os

import sentry_sdk


def fail(n):
    raise ValueError(f"python rate limited {n}")


def main():
    sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], release="limits@1.0.0")
    for n in range(3):
        try:
            fail(n)
        except ValueError:
            sentry_sdk.capture_exception()
        # One at a time, so that the SDK has read each answer before the next.
        sentry_sdk.flush(timeout=10)
    sentry_sdk.get_client().close(timeout=10)


if __name__ == "__main__":
    main()
