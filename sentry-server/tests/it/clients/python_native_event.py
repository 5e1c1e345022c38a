"""Sends a native crash as a crash reporter would, through the real Python
sentry-sdk: the stack's addresses and the executable's load address come
from the crashed program (see crash_report.c), as JSON on the first
argument; the executable's path, debug ID and code ID are the next three.

The DSN comes from SENTRY_DSN. The Rust test that runs this script asserts
what the server made of it; this script only sends.
"""
import json
import os
import sys

import sentry_sdk


def main():
    report = json.loads(sys.argv[1])
    code_file, debug_id, code_id = sys.argv[2], sys.argv[3], sys.argv[4]
    sentry_sdk.init(dsn=os.environ["SENTRY_DSN"])
    # Frames go outermost first; the report lists them innermost first.
    frames = [{"instruction_addr": address} for address in reversed(report["frames"])]
    sentry_sdk.capture_event(
        {
            "platform": "native",
            "level": "fatal",
            "exception": {
                "values": [
                    {
                        "type": "SIGSEGV",
                        "value": "Segfault",
                        "mechanism": {"type": "signalhandler", "handled": False},
                        "stacktrace": {"frames": frames},
                    }
                ]
            },
            "debug_meta": {
                "images": [
                    {
                        "type": "elf",
                        "code_file": code_file,
                        "debug_id": debug_id,
                        "code_id": code_id,
                        "image_addr": report["image_addr"],
                        "image_size": report["image_size"],
                        "arch": "x86_64",
                    }
                ]
            },
        }
    )
    sentry_sdk.flush()


if __name__ == "__main__":
    main()
