"""Sends items other than errors from the real Python sentry-sdk: an
attachment, a release health session, cron check-ins, a transaction and
a client report.

The DSN comes from SENTRY_DSN. The Rust test that runs this script asserts
what the server made of it; this script only sends.
"""
import os

import sentry_sdk
from sentry_sdk.crons import capture_checkin
from sentry_sdk.crons.consts import MonitorStatus


def drop_dropped(event, hint):
    """Drops the events marked to be dropped, which the SDK then counts in
    a client report (reason before_send)."""
    if event.get("tags", {}).get("drop") == "yes":
        return None
    return event


def failing_job():
    raise OSError("python job failed")


def main():
    sentry_sdk.init(
        dsn=os.environ["SENTRY_DSN"],
        release="items@2.0.0",
        environment="test",
        traces_sample_rate=1.0,
        before_send=drop_dropped,
    )
    sentry_sdk.start_session()
    with sentry_sdk.new_scope() as scope:
        scope.add_attachment(bytes=b"cart contents: 3 items\n", filename="state.txt", content_type="text/plain")
        try:
            failing_job()
        except OSError:
            sentry_sdk.capture_exception()
    sentry_sdk.end_session()
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("drop", "yes")
        sentry_sdk.capture_message("python dropped by before_send")
    config = {
        "schedule": {"type": "crontab", "value": "0 3 * * *"},
        "checkin_margin": 5,
        "max_runtime": 30,
        "timezone": "UTC",
    }
    check_in_id = capture_checkin(
        monitor_slug="nightly-backup", status=MonitorStatus.IN_PROGRESS, monitor_config=config
    )
    capture_checkin(
        monitor_slug="nightly-backup", check_in_id=check_in_id, status=MonitorStatus.OK, duration=1.5
    )
    with sentry_sdk.start_transaction(op="task", name="python items transaction"):
        pass
    sentry_sdk.flush(timeout=10)
    # Client reports go out on close.
    sentry_sdk.get_client().close(timeout=10)


if __name__ == "__main__":
    main()
