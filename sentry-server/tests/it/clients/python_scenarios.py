"""Sends the end-to-end scenarios from the real Python sentry-sdk.

The DSN comes from SENTRY_DSN. The Rust test that runs this script asserts
what the server made of it; this script only sends.
"""
import os

import sentry_sdk


def chained():
    try:
        raise KeyError("inner-key")
    except KeyError as error:
        raise RuntimeError("python outer failure") from error


def same_site(n):
    raise ValueError(f"python bad value {n}")


def divide():
    return 1 / 0


def add_wrong():
    return "a" + 1


def with_context():
    raise LookupError("python with context")


def capture(function, *args):
    try:
        function(*args)
    except Exception:
        sentry_sdk.capture_exception()


def main():
    sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], release="e2e@1.0.0", environment="test")
    capture(chained)
    for n in range(2):
        capture(same_site, n)
    capture(divide)
    capture(add_wrong)
    sentry_sdk.capture_message("python message 42")
    with sentry_sdk.new_scope() as scope:
        scope.set_user({"id": "user-1", "email": "user-1@example.com"})
        scope.set_tag("feature", "checkout")
        sentry_sdk.add_breadcrumb(category="cart", message="python added item", level="info")
        capture(with_context)
    sentry_sdk.flush(timeout=10)


if __name__ == "__main__":
    main()
