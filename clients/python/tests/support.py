"""Talking to the test gateway (development mode: identity by `x-user-id`) and reading a session's history back."""
from __future__ import annotations

import json
import os
import re
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from agent_progress_gateway import Publisher

REPO = Path(__file__).resolve().parents[3]
USER = "alice"

# The selection every client of the gateway uses, from client/operations.graphql: not a second copy of the variants.
_FRAGMENT = re.search(r"fragment AgentEventFields on AgentEvent \{.*?\n\}", (REPO / "client" / "operations.graphql").read_text(), re.S)
AGENT_EVENTS = (
    "query ($sessionId: ID!, $first: Int) { agentEvents(sessionId: $sessionId, first: $first) { ...AgentEventFields } }\n"
    + _FRAGMENT.group(0)  # type: ignore[union-attr]
)
START_SESSION = "mutation ($sessionId: ID) { startSession(sessionId: $sessionId) { id } }"


def gateway_url() -> str:
    url = os.environ.get("APG_GATEWAY_URL")
    if not url:
        raise RuntimeError("APG_GATEWAY_URL is not set: run these tests through test/integration/python-client.test.ts")
    return url


def redis_url() -> str:
    url = os.environ.get("APG_REDIS_URL")
    if not url:
        raise RuntimeError("APG_REDIS_URL is not set: run these tests through test/integration/python-client.test.ts")
    return url


def graphql(query: str, variables: Dict[str, Any], user: str = USER) -> Dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        gateway_url(), data=body, method="POST", headers={"content-type": "application/json", "x-user-id": user}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    if answer.get("errors"):
        raise AssertionError(f"the gateway refused {query[:40]}…: {answer['errors']}")
    return answer["data"]


def start_session() -> str:
    session_id = f"s-{uuid.uuid4()}"
    graphql(START_SESSION, {"sessionId": session_id})
    return session_id


def history(session_id: str) -> List[Dict[str, Any]]:
    """The session's events after SESSION_STARTED, as the gateway stored them."""
    events = graphql(AGENT_EVENTS, {"sessionId": session_id, "first": 1000})["agentEvents"]
    assert events[0]["type"] == "SESSION_STARTED", events[0]
    return events[1:]


def compact(event: Dict[str, Any]) -> Dict[str, Any]:
    """An event without what differs per run (id, timestamp, session) and without absent (null) fields."""
    skip = {"id", "timestamp", "sessionId", "ephemeral", "seq"}
    return {name: value for name, value in event.items() if name not in skip and value is not None}


class CountingPublisher(Publisher):
    """A real Publisher that counts its HTTP tries and, with `hold()`, keeps its next try waiting until `release()`.

    Holding the first call of a BackgroundPublisher makes a burst pile up behind it deterministically.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tries: List[str] = []
        self._gate: Optional[threading.Event] = None
        self.holding = threading.Event()

    def hold(self) -> None:
        self._gate = threading.Event()

    def release(self) -> None:
        gate, self._gate = self._gate, None
        if gate:
            gate.set()

    def _try(self, body: bytes, field: str) -> Any:
        self.tries.append(field)
        gate = self._gate
        if gate is not None:
            self.holding.set()
            gate.wait(10)
        return super()._try(body, field)


def publisher(session_id: str, cls: Callable[..., Publisher] = Publisher, **kwargs: Any) -> Any:
    options: Dict[str, Any] = {"user_id": USER, "request_id": "r1", "agent": "py"}
    options.update(kwargs)
    return cls(gateway_url(), session_id, **options)
