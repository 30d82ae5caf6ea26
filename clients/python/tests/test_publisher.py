"""Publisher and BackgroundPublisher against a real gateway: what is stored, in which order, in how many calls."""
from __future__ import annotations

import unittest
import uuid

from agent_progress_gateway import NETWORK_ERROR, BackgroundPublisher, GatewayError, Publisher, Retry, TextMessage, events
from agent_progress_gateway.resp import Redis, publish_durable

from . import support
from .support import CountingPublisher


class PublisherTest(unittest.TestCase):
    def setUp(self):
        self.session_id = support.start_session()

    def test_publish_returns_the_stored_event_and_the_variant_methods_publish_the_variant(self):
        publisher = support.publisher(self.session_id)
        stored = publisher.publish(events.progress(40, "Searching"))
        self.assertEqual(
            {k: stored[k] for k in ("seq", "type", "sessionId", "requestId", "agent")},
            {"seq": 2, "type": "PROGRESS", "sessionId": self.session_id, "requestId": "r1", "agent": "py"},
        )
        by_method = publisher.bind(agent="other", request_id=None).tool_call_started("t1", "search", {"q": "x"})
        self.assertEqual((by_method["seq"], by_method["agent"], by_method["requestId"]), (3, "other", None))
        self.assertEqual(
            [support.compact(event) for event in support.history(self.session_id)],
            [
                {"type": "PROGRESS", "requestId": "r1", "agent": "py", "percent": 40, "message": "Searching"},
                {"type": "TOOL_CALL_STARTED", "agent": "other", "toolCallId": "t1", "toolName": "search", "args": {"q": "x"}},
            ],
        )

    def test_the_same_idempotency_key_answers_the_original_event_and_stores_nothing_more(self):
        publisher = support.publisher(self.session_id)
        key = f"job-7.step-{uuid.uuid4()}"
        first = publisher.publish(events.step_started("search"), idempotency_key=key)
        again = publisher.publish(events.step_started("search"), idempotency_key=key)
        self.assertEqual(again, first)
        self.assertEqual(len(support.history(self.session_id)), 1)
        with self.assertRaises(GatewayError) as refused:
            publisher.publish(events.step_started("another step"), idempotency_key=key)
        self.assertEqual(refused.exception.code, "IDEMPOTENCY_KEY_REUSED")
        self.assertEqual(len(support.history(self.session_id)), 1)

    def test_publish_many_sends_batches_of_max_batch_with_consecutive_seqs(self):
        publisher = support.publisher(self.session_id, cls=CountingPublisher, max_batch=3)
        burst = [events.progress(percent, f"step {percent}") for percent in range(0, 70, 10)]
        stored = publisher.publish_many(burst)
        self.assertEqual(publisher.tries, ["publishAgentEvents"] * 3)  # 3 + 3 + 1
        self.assertEqual([event["seq"] for event in stored], list(range(2, 9)))
        self.assertEqual([event["percent"] for event in support.history(self.session_id)], list(range(0, 70, 10)))

    def test_refusals_raise_their_code_at_once_without_retrying(self):
        publisher = support.publisher(self.session_id, cls=CountingPublisher)
        with self.assertRaises(GatewayError) as invalid:
            publisher.progress(101)
        self.assertEqual(invalid.exception.code, "BAD_USER_INPUT")
        with self.assertRaises(GatewayError) as missing:
            Publisher(support.gateway_url(), "s-no-such-session", user_id=support.USER).progress(1)
        self.assertEqual(missing.exception.code, "SESSION_NOT_FOUND")
        self.assertEqual(publisher.tries, ["publishAgentEvent"])
        self.assertEqual(support.history(self.session_id), [])

    def test_a_refused_batch_reports_what_earlier_batches_stored(self):
        publisher = support.publisher(self.session_id, max_batch=2)
        with self.assertRaises(GatewayError) as refused:
            publisher.publish_many([events.progress(1), events.progress(2), events.progress(3), events.progress(300)])
        self.assertEqual(refused.exception.code, "BAD_USER_INPUT")
        self.assertEqual([event["seq"] for event in refused.exception.published], [2, 3])
        self.assertEqual([event["percent"] for event in support.history(self.session_id)], [1, 2])  # the batch is atomic

    def test_an_unreachable_gateway_is_retried_then_reported_as_network_error(self):
        publisher = CountingPublisher("http://127.0.0.1:9/graphql", self.session_id, retry=Retry(attempts=3, initial_delay=0.01))
        with self.assertRaises(GatewayError) as unreachable:
            publisher.progress(5)
        self.assertEqual(unreachable.exception.code, NETWORK_ERROR)
        self.assertEqual(len(publisher.tries), 3)

    def test_a_text_message_longer_than_a_delta_may_be_is_split(self):
        publisher = support.publisher(self.session_id)
        with TextMessage(publisher, message_id="m1") as message:
            message.write("a" * 40_000)
        types = [(event["type"], len(event.get("delta") or "")) for event in support.history(self.session_id)]
        self.assertEqual(types, [("TEXT_MESSAGE_STARTED", 0), ("TEXT_MESSAGE_DELTA", 32_768), ("TEXT_MESSAGE_DELTA", 7_232), ("TEXT_MESSAGE_FINISHED", 0)])

    def test_durable_redis_publishing_takes_an_idempotency_key_too(self):
        key = f"durable-{uuid.uuid4()}"
        with Redis.from_url(support.redis_url()) as redis:
            first = publish_durable(redis, support.USER, self.session_id, events.progress(70), request_id="r1", idempotency_key=key)
            again = publish_durable(redis, support.USER, self.session_id, events.progress(70), request_id="r1", idempotency_key=key)
        self.assertEqual(again, first)
        self.assertEqual([support.compact(event) for event in support.history(self.session_id)], [{"type": "PROGRESS", "requestId": "r1", "percent": 70}])


class BackgroundPublisherTest(unittest.TestCase):
    def setUp(self):
        self.session_id = support.start_session()
        self.publisher = support.publisher(self.session_id, cls=CountingPublisher)
        self.failures = []
        self.background = BackgroundPublisher(self.publisher, on_error=lambda error, event: self.failures.append((error.code, event)))

    def tearDown(self):
        self.assertTrue(self.background.close(10))

    def held_burst(self, first, burst):
        """Sends `first`, and queues `burst` while the call for `first` is held: the burst then goes out together."""
        self.publisher.hold()
        futures = [self.background.publish(first)]
        self.assertTrue(self.publisher.holding.wait(10))
        futures += [self.background.publish(event) for event in burst]
        self.publisher.release()
        self.assertTrue(self.background.flush(10))
        return futures

    def test_a_burst_goes_out_in_order_in_one_call_and_each_future_holds_its_event(self):
        futures = self.held_burst(events.progress(0), [events.progress(p) for p in range(1, 30)])
        self.assertEqual(self.publisher.tries, ["publishAgentEvent", "publishAgentEvents"])
        self.assertEqual([future.result()["seq"] for future in futures], list(range(2, 32)))
        self.assertEqual([event["percent"] for event in support.history(self.session_id)], list(range(30)))

    def test_rapid_text_deltas_of_one_message_are_merged(self):
        words = [f"word{n} " for n in range(50)]
        futures = self.held_burst(
            events.text_message_started("m1", "assistant"),
            [events.text_message_delta("m1", word) for word in words] + [events.text_message_finished("m1")],
        )
        stored = [(event["type"], event.get("delta")) for event in support.history(self.session_id)]
        self.assertEqual(stored, [("TEXT_MESSAGE_STARTED", None), ("TEXT_MESSAGE_DELTA", "".join(words)), ("TEXT_MESSAGE_FINISHED", None)])
        self.assertEqual({future.result()["seq"] for future in futures[1:-1]}, {3})

    def test_deltas_are_merged_only_within_one_message_and_up_to_the_delta_limit(self):
        big = "b" * 20_000
        self.held_burst(
            events.progress(1),
            [events.text_message_delta("m1", "x"), events.text_message_delta("m2", "y"), events.text_message_delta("m2", "z"),
             events.text_message_delta("m3", big), events.text_message_delta("m3", big)],
        )
        stored = [(event.get("messageId"), len(event.get("delta") or "")) for event in support.history(self.session_id)]
        self.assertEqual(stored, [(None, 0), ("m1", 1), ("m2", 2), ("m3", 20_000), ("m3", 20_000)])

    def test_an_event_for_another_agent_starts_a_new_call_and_order_is_kept(self):
        self.publisher.hold()
        self.background.publish(events.progress(1))
        self.assertTrue(self.publisher.holding.wait(10))
        self.background.publish(events.progress(2))
        self.background.publish(events.progress(3), agent="other")
        self.background.publish(events.progress(4))
        self.publisher.release()
        self.assertTrue(self.background.flush(10))
        self.assertEqual(self.publisher.tries, ["publishAgentEvent"] * 4)
        stored = [(event["percent"], event["agent"]) for event in support.history(self.session_id)]
        self.assertEqual(stored, [(1, "py"), (2, "py"), (3, "other"), (4, "py")])

    def test_an_invalid_event_in_a_burst_fails_alone_and_the_rest_is_stored(self):
        futures = self.held_burst(events.progress(1), [events.progress(2), events.progress(250), events.progress(3)])
        self.assertEqual([event["percent"] for event in support.history(self.session_id)], [1, 2, 3])
        with self.assertRaises(GatewayError) as refused:
            futures[2].result()
        self.assertEqual(refused.exception.code, "BAD_USER_INPUT")
        self.assertEqual(self.failures, [("BAD_USER_INPUT", events.progress(250))])
        self.assertEqual(self.background.failed, 1)
        # The batch was refused as a whole, then sent one by one to find the culprit.
        self.assertEqual(self.publisher.tries, ["publishAgentEvent", "publishAgentEvents"] + ["publishAgentEvent"] * 3)

    def test_after_close_an_event_fails_at_once(self):
        self.assertTrue(self.background.close(10))
        with self.assertRaises(GatewayError) as refused:
            self.background.progress(1).result(1)
        self.assertEqual(refused.exception.code, "NOT_SENT")


if __name__ == "__main__":
    unittest.main()
