"""Sends a Java exception as the Java SDK would, through the real Python
sentry-sdk: the exception's class and message and its frames (class,
method, line; innermost first, as Java prints them) come on standard input
from the obfuscated program; the ProGuard mapping's UUID is the first
argument.

The DSN comes from SENTRY_DSN. The Rust test that runs this script asserts
what the server made of it; this script only sends.
"""
import os
import sys

import sentry_sdk


def main():
    uuid = sys.argv[1]
    lines = sys.stdin.read().splitlines()
    class_name, message = lines[0].split("\t", 1)
    module, _, ty = class_name.rpartition(".")
    frames = []
    for line in reversed(lines[1:]):
        frame_class, method, number = line.split("\t")
        frames.append(
            {
                "module": frame_class,
                "function": method,
                "lineno": int(number),
                "filename": "SourceFile",
                "in_app": frame_class.startswith("com.example."),
            }
        )
    sentry_sdk.init(dsn=os.environ["SENTRY_DSN"])
    sentry_sdk.capture_event(
        {
            "platform": "java",
            "exception": {
                "values": [
                    {"type": ty, "module": module, "value": message, "stacktrace": {"frames": frames}}
                ]
            },
            "debug_meta": {"images": [{"type": "proguard", "uuid": uuid}]},
        }
    )
    sentry_sdk.flush()


if __name__ == "__main__":
    main()
