"""Python client for agents reporting progress to the Agent Progress Gateway (standard library only, Python >= 3.10).

    from agent_progress_gateway import Publisher, events

    publisher = Publisher("http://localhost:4000/graphql", job["sessionId"], token=job["publishToken"],
                          request_id=job["requestId"], agent="planner")
    publisher.run_started("Planning the trip")
    publisher.publish_many([events.step_started("search"), events.progress(10, "Searching flights")])
    publisher.run_finished({"answer": "..."})

- `events`: one function per event variant an agent may publish (generated from schema/schema.graphql).
- `Publisher`: the `publishAgentEvent` / `publishAgentEvents` mutations, with retries that never store an event twice.
- `BackgroundPublisher`: the same from a background thread, batching bursts and merging text deltas.
- `adk.AdkProgress`: Google ADK callbacks and plugin.
- `resp`: a tiny Redis client: the job queue, and durable publishing straight into Redis.
"""
import logging

from . import events
from .events import VARIANTS, AgentEventInput
from .publisher import (
    NETWORK_ERROR,
    RETRYABLE_CODES,
    AgentEvent,
    BackgroundPublisher,
    GatewayError,
    Publisher,
    Retry,
    TextMessage,
    new_idempotency_key,
)

# A library logs, the application decides where to: without its own logging set-up, nothing is printed.
logging.getLogger("agent_progress_gateway").addHandler(logging.NullHandler())

__all__ = [
    "NETWORK_ERROR",
    "RETRYABLE_CODES",
    "VARIANTS",
    "AgentEvent",
    "AgentEventInput",
    "BackgroundPublisher",
    "GatewayError",
    "Publisher",
    "Retry",
    "TextMessage",
    "events",
    "new_idempotency_key",
]
