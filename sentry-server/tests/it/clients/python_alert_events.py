"""Sends errors from the real Python sentry-sdk for the alert tests:
`same N` sends N events of one issue, `distinct N` sends N messages that
each make an issue of their own.

The DSN comes from SENTRY_DSN. The Rust test that runs this script asserts
what the server and the alert receivers made of it; this script only sends.
"""
import os
import sys

import sentry_sdk


def fail():
    raise ValueError("python alert failure")


def word(n):
    # Letters only: digits would be parameterized into one message.
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(97 + rest) + letters
    return letters


def main():
    mode, count = sys.argv[1], int(sys.argv[2])
    sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], environment="production")
    for n in range(count):
        if mode == "same":
            try:
                fail()
            except ValueError:
                sentry_sdk.capture_exception()
        else:
            sentry_sdk.capture_message(f"python alert storm {word(n)}", level="error")
    sentry_sdk.get_client().close(timeout=10)


if __name__ == "__main__":
    main()
