"""Sends cron check-ins from the real Python sentry-sdk, each with its
monitor's config: an `ok` run of a monitor due every minute (whose next
check-in never comes), a run left `in_progress` (which times out), and an
`error` run.

The DSN comes from SENTRY_DSN. The Rust test that runs this script asserts
what the server made of it; this script only sends.
"""
import os

import sentry_sdk
from sentry_sdk.crons import capture_checkin


def config(schedule):
    return {
        "schedule": {"type": "crontab", "value": schedule},
        "checkin_margin": 1,
        "max_runtime": 1,
        "timezone": "UTC",
    }


def main():
    sentry_sdk.init(dsn=os.environ["SENTRY_DSN"], environment="production")
    capture_checkin(monitor_slug="py-missed", status="ok", monitor_config=config("* * * * *"))
    capture_checkin(
        monitor_slug="py-timeout", status="in_progress", monitor_config=config("0 0 * * *")
    )
    capture_checkin(monitor_slug="py-error", status="error", monitor_config=config("0 0 * * *"))
    sentry_sdk.get_client().close(timeout=10)


if __name__ == "__main__":
    main()
