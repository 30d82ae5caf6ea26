"""An example agent worker: takes the jobs `submitRequest` queues and reports each run through the gateway.

    REDIS_URL=redis://127.0.0.1:6379 GATEWAY_URL=http://127.0.0.1:4000/graphql \\
        python3 -m agent_progress_gateway.worker_example            # from clients/python

It pops a job from the Redis list REQUEST_QUEUE_KEY (default `queue:agent-requests`; the gateway's setting),
`{"requestId", "sessionId", "userId", "input", "submittedAt", "publishToken", "publishTokenExpiresAt"}`, and
publishes the run with the job's own `publishToken`: a token for that one session, so the worker needs no
credential of its own. The run is RunStarted, then the work's events, then RunFinished (or RunFailed).

`work()` stands in for your agents; with Google ADK, give the runner the progress plugin instead:

    runner = Runner(agent=root_agent, app_name="trips", session_service=..., plugins=[AdkProgress(progress).plugin()])

The job leaves the queue when it is popped: a worker that dies mid-job loses it. For at-least-once processing,
move jobs to a processing list (BLMOVE) and remove them when done.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from typing import Any, Dict, Optional

from .publisher import BackgroundPublisher, GatewayError, Publisher, TextMessage
from .resp import Redis

log = logging.getLogger("agent_progress_gateway.worker")


def work(job: Dict[str, Any], progress: BackgroundPublisher, pace: float) -> Dict[str, Any]:
    """A pretend agent: plans, searches, streams its answer. `pace` seconds stand for each piece of real work."""
    request = job.get("input")
    prompt = request.get("prompt") if isinstance(request, dict) and isinstance(request.get("prompt"), str) else json.dumps(request)

    started = time.monotonic()
    progress.step_started("plan")
    progress.progress(10, "Planning")
    time.sleep(pace)
    progress.step_finished("plan", _ms_since(started))

    started = time.monotonic()
    progress.step_started("research")
    progress.tool_call_started("search-1", "web_search", {"q": prompt})
    time.sleep(pace)
    progress.tool_call_finished("search-1", "web_search", {"hits": 3}, duration_ms=_ms_since(started))
    progress.step_finished("research", _ms_since(started))

    progress.progress(60, "Writing the answer")
    answer = f"Here is a plan for: {prompt}"
    with TextMessage(progress, role="assistant") as message:
        words = answer.split(" ")
        for chunk in [words[0], *(f" {word}" for word in words[1:])]:
            message.write(chunk)  # as a model streams: many small deltas, merged while a publish is in flight
    progress.progress(100, "Done")
    return {"answer": answer}


def handle(job: Dict[str, Any], gateway_url: str, agent: str, pace: float) -> bool:
    """Works one job and reports it; True when its RunFinished (or RunFailed) was published."""
    for field in ("sessionId", "requestId", "publishToken"):
        if not isinstance(job.get(field), str):
            log.error("job without %s: dropped", field)
            return False
    publisher = Publisher(gateway_url, job["sessionId"], token=job["publishToken"], request_id=job["requestId"], agent=agent)
    started = time.monotonic()
    log.info("job started: session %s, request %s", job["sessionId"], job["requestId"])
    with BackgroundPublisher(publisher) as progress:
        progress.run_started("Working on the request")
        try:
            result = work(job, progress, pace)
            last = progress.run_finished(result, duration_ms=_ms_since(started))
        except Exception as error:  # the agents failed: say so, so the UI stops waiting
            log.exception("job failed")
            last = progress.run_failed(f"The agent failed: {type(error).__name__}", code="WORKER_ERROR", retryable=True)
        try:
            last.result(timeout=publisher.retry.deadline + 10)
        except GatewayError as error:
            log.error("job's end not published: %s", error)
            return False
    log.info("job finished: session %s, request %s (%d events not published)", job["sessionId"], job["requestId"], progress.failed)
    return True


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 3)


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description="Example agent worker for the Agent Progress Gateway.")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"), help="default: $REDIS_URL")
    parser.add_argument("--gateway", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:4000/graphql"), help="default: $GATEWAY_URL")
    parser.add_argument("--queue", default=os.environ.get("REQUEST_QUEUE_KEY", "queue:agent-requests"), help="default: $REQUEST_QUEUE_KEY")
    parser.add_argument("--agent", default="python-worker", help="the agent name on the events")
    parser.add_argument("--pace", type=float, default=0.5, help="seconds each pretend step takes (default 0.5)")
    parser.add_argument("--once", action="store_true", help="exit after one job")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stdout)

    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True  # a job under way finishes first; a wait for the next one ends within a second
        log.info("stopping (signal %d)", signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    log.info("waiting for jobs on %s", args.queue)
    redis: Optional[Redis] = None
    ok = True
    while not stopping:
        try:
            redis = redis or Redis.from_url(args.redis)
            popped = redis.blpop(args.queue, timeout=1)
        except (OSError, ConnectionError) as error:  # Redis restarting: reconnect
            log.warning("redis unavailable (%s), retrying in 1 s", error)
            if redis:
                redis.close()
            redis = None
            time.sleep(1)
            continue
        if popped is None:
            continue
        try:
            job = json.loads(popped[1])
        except ValueError:
            log.error("a job that is not JSON: dropped")
            continue
        ok = handle(job, args.gateway, args.agent, args.pace) and ok
        if args.once:
            break
    if redis:
        redis.close()
    log.info("stopped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
