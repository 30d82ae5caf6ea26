"""A minimal Redis client over a socket (RESP2, standard library only): enough for a worker to take jobs from the
request queue, and for an agent to publish durably without the gateway in the path.

    with Redis.from_url("redis://127.0.0.1:6379") as redis:
        job = redis.blpop("queue:agent-requests", timeout=5)              # ("queue:agent-requests", "<job json>") or None
        seq, ts = publish_durable(redis, "alice", "s1", events.progress(50), request_id="r1", idempotency_key="r1.step-3")

`publish_durable` calls the gateway's Redis Function, which validates the event with the mutation's rules, appends
it to the session's history and publishes it to subscribers, atomically:
`FCALL apg_publish 2 stream:user_{user}:session_{session} session:{session} <event json> [idempotency key]`.
"""
from __future__ import annotations

import json
import re
import socket
import ssl
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

from .events import VARIANTS, AgentEventInput

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


class RedisError(Exception):
    """An error reply. From the gateway's function, `code` is its first word: BAD_USER_INPUT, PAYLOAD_TOO_LARGE,
    SESSION_NOT_FOUND, IDEMPOTENCY_KEY_REUSED …"""

    def __init__(self, reply: str):
        super().__init__(reply)
        self.code, _, self.detail = reply.partition(" ")


class Redis:
    """One connection to Redis. Not thread-safe: one per thread."""

    def __init__(self, sock: socket.socket, timeout: Optional[float]):
        self._sock = sock
        self._timeout = timeout
        self._replies = sock.makefile("rb")

    @classmethod
    def from_url(cls, url: str, timeout: Optional[float] = 10.0) -> "Redis":
        """Connects to `redis://[[user]:password@]host[:port][/db]` (or `rediss://` for TLS)."""
        parsed = urlparse(url)
        if parsed.scheme not in ("redis", "rediss"):
            raise ValueError("the Redis URL must start with redis:// or rediss://")
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
        sock: socket.socket = socket.create_connection((host, port), timeout=timeout)
        if parsed.scheme == "rediss":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        redis = cls(sock, timeout)
        try:
            if parsed.password is not None:
                redis.call("AUTH", *([unquote(parsed.username)] if parsed.username else []), unquote(parsed.password))
            if parsed.path.strip("/"):
                redis.call("SELECT", parsed.path.strip("/"))
        except BaseException:
            redis.close()
            raise
        return redis

    def call(self, *args: Any) -> Any:
        """Sends one command and returns its reply; an error reply raises `RedisError`."""
        self._sock.sendall(_encode([str(arg) if not isinstance(arg, (bytes, str)) else arg for arg in args]))
        return _read(self._replies)

    def blpop(self, key: str, timeout: float) -> Optional[Tuple[str, str]]:
        """Waits up to `timeout` seconds (0: forever) for an element of the list `key`; None when none came."""
        # The socket must outwait the command itself.
        self._sock.settimeout(None if timeout == 0 or self._timeout is None else timeout + self._timeout)
        try:
            reply = self.call("BLPOP", key, repr(float(timeout)))
        finally:
            self._sock.settimeout(self._timeout)
        return (reply[0], reply[1]) if reply else None

    def close(self) -> None:
        try:
            self._replies.close()
        finally:
            self._sock.close()

    def __enter__(self) -> "Redis":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _encode(args: List[Any]) -> bytes:
    """A command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _read(replies: Any) -> Any:
    line = replies.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("Redis closed the connection")
    kind, text = line[:1], line[1:-2].decode()
    if kind == b"-":
        raise RedisError(text)
    if kind == b"+":
        return text
    if kind == b":":
        return int(text)
    if kind == b"$":
        return None if int(text) < 0 else replies.read(int(text) + 2)[:-2].decode()
    if kind == b"*":
        return None if int(text) < 0 else [_read(replies) for _ in range(int(text))]
    raise ConnectionError(f"unexpected reply from Redis: {line!r}")


def to_raw(event: AgentEventInput, request_id: Optional[str] = None, agent: Optional[str] = None) -> Dict[str, Any]:
    """`{"progress": {"percent": 40}}` → `{"type": "PROGRESS", "percent": 40}`, the raw format of the Redis path."""
    if len(event) != 1:
        raise ValueError("an event names exactly one variant")
    ((input_field, fields),) = event.items()
    if input_field not in VARIANTS:
        raise ValueError(f"no variant {input_field!r}")
    raw: Dict[str, Any] = {"type": VARIANTS[input_field].event_type}
    if request_id is not None:
        raw["requestId"] = request_id
    if agent is not None:
        raw["agent"] = agent
    raw.update({name: value for name, value in fields.items() if value is not None})
    return raw


def publish_durable(
    redis: Redis,
    user_id: str,
    session_id: str,
    event: AgentEventInput,
    *,
    request_id: Optional[str] = None,
    agent: Optional[str] = None,
    idempotency_key: Optional[str] = None,
) -> Tuple[int, int]:
    """Appends `event` (e.g. `events.progress(50)`) to the history of `session_id`, owned by `user_id`.

    Returns (seq, timestamp in ms). With `idempotency_key`, a repeat within the gateway's idempotency window answers
    the original (seq, timestamp) without storing the event again. Raises `RedisError` when the gateway's function
    refuses it (`error.code`).
    """
    for name, value in (("user_id", user_id), ("session_id", session_id)):
        if not SAFE_ID.fullmatch(value):
            raise ValueError(f"{name} must be 1-128 letters, digits, - or _")
    payload = json.dumps(to_raw(event, request_id, agent), separators=(",", ":"), allow_nan=False)
    keys = [f"stream:user_{user_id}:session_{session_id}", f"session:{session_id}"]
    extra = [idempotency_key] if idempotency_key is not None else []
    seq, ts = redis.call("FCALL", "apg_publish", "2", *keys, payload, *extra)[:2]
    return seq, ts
