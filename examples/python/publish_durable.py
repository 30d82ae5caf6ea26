#!/usr/bin/env python3
"""Publish one agent event durably into the Agent Progress Gateway's Redis (standard library only, Python >= 3.10).

It calls the gateway's Redis Function, which validates the event, appends it to the session's history and
publishes it to the session's subscribers in one atomic step:

    FCALL apg_publish 2 stream:user_{user}:session_{session} session:{session} '<event json>'

From the command line:

    python3 publish_durable.py --redis redis://127.0.0.1:6379 --user alice --session s1 '{"type":"PROGRESS","percent":50}'

From Python:

    from publish_durable import GatewayError, publish
    seq, ts = publish("redis://127.0.0.1:6379", "alice", "s1", {"type": "PROGRESS", "percent": 50})
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

# The RESP client is the Python agent client's (clients/python), used here straight from the repository.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))
from agent_progress_gateway.resp import Redis, RedisError as GatewayError  # noqa: E402

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")

__all__ = ["GatewayError", "publish"]


def publish(redis_url: str, user_id: str, session_id: str, event: dict) -> tuple[int, int]:
    """Appends `event` (the raw format, e.g. {"type": "PROGRESS", "percent": 50}) to the session's history.

    Returns (seq, timestamp in ms). Raises GatewayError with the error code (`.code`) when the gateway refuses it.
    """
    for name, value in (("user_id", user_id), ("session_id", session_id)):
        if not SAFE_ID.fullmatch(value):
            raise ValueError(f"{name} must be 1-128 letters, digits, - or _")
    payload = json.dumps(event, separators=(",", ":"), allow_nan=False)  # strict JSON: no NaN or Infinity
    stream, session = f"stream:user_{user_id}:session_{session_id}", f"session:{session_id}"
    with Redis.from_url(redis_url) as redis:
        seq, ts = redis.call("FCALL", "apg_publish", "2", stream, session, payload)
    return seq, ts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Publish one agent event durably (FCALL apg_publish).")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), help="default: $REDIS_URL")
    parser.add_argument("--user", required=True, help="the id of the user who owns the session")
    parser.add_argument("--session", required=True, help="the session id")
    parser.add_argument("event", help='the event as JSON, e.g. {"type":"PROGRESS","percent":50}')
    args = parser.parse_args(argv)
    try:
        seq, ts = publish(args.redis, args.user, args.session, json.loads(args.event))
    except GatewayError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 1
    except ValueError as error:  # bad JSON, NaN, unsafe id, bad URL
        print(f"invalid: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"seq": seq, "ts": ts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
