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
import socket
import ssl
import sys
from typing import Any
from urllib.parse import unquote, urlparse

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class GatewayError(Exception):
    """An error reply from Redis. `code` is its first word: BAD_USER_INPUT, PAYLOAD_TOO_LARGE, SESSION_NOT_FOUND, …"""

    def __init__(self, reply: str):
        super().__init__(reply)
        self.code, _, self.detail = reply.partition(" ")


def _encode(*args: str) -> bytes:
    """A command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read(replies) -> Any:
    """One RESP2 reply; an error reply raises GatewayError."""
    line = replies.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("Redis closed the connection")
    kind, text = line[:1], line[1:-2].decode()
    if kind == b"-":
        raise GatewayError(text)
    if kind == b"+":
        return text
    if kind == b":":
        return int(text)
    if kind == b"$":
        return None if int(text) < 0 else replies.read(int(text) + 2)[:-2].decode()
    if kind == b"*":
        return None if int(text) < 0 else [_read(replies) for _ in range(int(text))]
    raise ConnectionError(f"unexpected reply from Redis: {line!r}")


def publish(redis_url: str, user_id: str, session_id: str, event: dict) -> tuple[int, int]:
    """Appends `event` (the raw format, e.g. {"type": "PROGRESS", "percent": 50}) to the session's history.

    Returns (seq, timestamp in ms). Raises GatewayError with the error code when the gateway refuses it.
    """
    for name, value in (("user_id", user_id), ("session_id", session_id)):
        if not SAFE_ID.fullmatch(value):
            raise ValueError(f"{name} must be 1-128 letters, digits, - or _")
    url = urlparse(redis_url)
    if url.scheme not in ("redis", "rediss"):
        raise ValueError("the Redis URL must start with redis:// or rediss://")
    payload = json.dumps(event, separators=(",", ":"), allow_nan=False)  # strict JSON: no NaN or Infinity
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    with socket.create_connection((host, port), timeout=10) as raw:
        sock = ssl.create_default_context().wrap_socket(raw, server_hostname=host) if url.scheme == "rediss" else raw
        with sock.makefile("rb") as replies:

            def call(*args: str) -> Any:
                sock.sendall(_encode(*args))
                return _read(replies)

            if url.password is not None:
                call("AUTH", *([unquote(url.username)] if url.username else []), unquote(url.password))
            if url.path.strip("/"):
                call("SELECT", url.path.strip("/"))
            stream, session = f"stream:user_{user_id}:session_{session_id}", f"session:{session_id}"
            seq, ts = call("FCALL", "apg_publish", "2", stream, session, payload)
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
