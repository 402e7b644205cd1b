"""The fake provider over real sockets: each API gives each scripted answer with the status, body
and headers the CLIs read. Run: python3 -m unittest discover -s tests/provider"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class FakeProviderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.log = os.path.join(cls.tmp.name, "requests.jsonl")
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fake_provider.py"), "--log", cls.log],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.port = int(cls.proc.stdout.readline())

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(10)
        cls.proc.stdout.close()
        cls.tmp.cleanup()

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        conn.request(method, path, body=data, headers=headers or {})
        response = conn.getresponse()
        return response, conn

    def script(self, text):
        response, conn = self.request("POST", "/_fake/script", text)
        self.assertEqual(response.status, 200, response.read())
        conn.close()

    def call(self, path, body, headers=None):
        response, conn = self.request("POST", path, body, headers)
        data = response.read()
        conn.close()
        return response, data

    def test_anthropic_stream_ok_carries_usage_and_stop(self):
        self.script("ok")
        response, data = self.call("/v1/messages?beta=true", {"model": "m", "stream": True},
                                   {"x-api-key": "k"})
        self.assertEqual(response.status, 200)
        text = data.decode()
        self.assertIn('"output_tokens":56', text)
        self.assertTrue(text.rstrip().endswith('data: {"type":"message_stop"}'))

    def test_anthropic_rate_limit_says_when(self):
        self.script("rate_limit@7")
        response, data = self.call("/v1/messages", {"model": "m"}, {"x-api-key": "k"})
        self.assertEqual(response.status, 429)
        self.assertEqual(response.getheader("retry-after"), "7")
        self.assertEqual(response.getheader("anthropic-ratelimit-requests-remaining"), "0")
        self.assertEqual(json.loads(data)["error"]["type"], "rate_limit_error")

    def test_anthropic_five_hour_rejection_has_the_unified_reset(self):
        self.script("usage_limit@120")
        before = int(time.time())
        response, _ = self.call("/v1/messages", {"model": "m"}, {"authorization": "Bearer t"})
        self.assertEqual(response.status, 429)
        self.assertEqual(response.getheader("anthropic-ratelimit-unified-status"), "rejected")
        reset = int(response.getheader("anthropic-ratelimit-unified-reset"))
        self.assertTrue(before + 120 <= reset <= before + 122, reset)

    def test_openai_usage_limit_and_quota_bodies(self):
        self.script("usage_limit@60,quota")
        response, data = self.call("/v1/responses", {"model": "m", "stream": True})
        self.assertEqual(response.status, 429)
        error = json.loads(data)["error"]
        self.assertEqual(error["type"], "usage_limit_reached")
        self.assertIsInstance(error["resets_at"], int)
        response, data = self.call("/v1/responses", {"model": "m", "stream": True})
        self.assertEqual(json.loads(data)["error"]["code"], "insufficient_quota")

    def test_openai_stream_error_is_response_failed(self):
        self.script("stream_error")
        response, data = self.call("/v1/responses", {"model": "m", "stream": True})
        self.assertEqual(response.status, 200)
        self.assertIn("event: response.failed", data.decode())
        self.assertNotIn("response.completed", data.decode())

    def test_a_plain_request_gets_the_stream_error_as_a_status(self):
        self.script("stream_error")
        response, data = self.call("/v1/messages", {"model": "m", "stream": False})
        self.assertEqual(response.status, 529)
        self.assertEqual(json.loads(data)["error"]["type"], "overloaded_error")

    def test_gemini_rate_limit_has_retry_info(self):
        self.script("rate_limit@9")
        response, data = self.call("/v1beta/models/gemini-x:streamGenerateContent?alt=sse", {})
        self.assertEqual(response.status, 429)
        details = json.loads(data)["error"]["details"]
        retry = [d for d in details if d["@type"].endswith("google.rpc.RetryInfo")]
        self.assertEqual(retry[0]["retryDelay"], "9s")

    def test_gemini_bad_key_is_a_400(self):
        self.script("bad_key")
        response, data = self.call("/v1beta/models/gemini-x:generateContent", {})
        self.assertEqual(response.status, 400)
        self.assertEqual(json.loads(data)["error"]["details"][0]["reason"], "API_KEY_INVALID")

    def test_failures_then_success_in_order_and_side_requests_do_not_count(self):
        self.script("500x2,ok")
        statuses = []
        for _ in range(2):
            statuses.append(self.call("/v1/chat/completions", {"model": "m"})[0].status)
            self.call("/v1/messages/count_tokens", {"model": "m"})
        statuses += [self.call("/v1/chat/completions", {"model": "m"})[0].status for _ in "ab"]
        self.assertEqual(statuses, [500, 500, 200, 200])

    def test_stream_cut_ends_without_the_last_chunk(self):
        self.script("stream_cut")
        response, conn = self.request("POST", "/v1/messages", {"model": "m", "stream": True})
        with self.assertRaises(http.client.IncompleteRead):
            response.read()
        conn.close()

    def test_stall_sends_headers_then_nothing(self):
        self.script("stall@30")
        response, conn = self.request("POST", "/v1/messages", {"model": "m", "stream": True},
                                      timeout=1)
        self.assertEqual(response.status, 200)
        with self.assertRaises(TimeoutError):
            response.read()
        conn.close()

    def test_hang_sends_nothing(self):
        self.script("hang@30")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        conn.request("POST", "/v1/responses", body="{}")
        with self.assertRaises(TimeoutError):
            conn.getresponse()
        conn.close()

    def test_bad_script_is_refused_and_the_old_one_kept(self):
        self.script("ok")
        response, conn = self.request("POST", "/_fake/script", "bogus,ok")
        self.assertEqual(response.status, 400)
        conn.close()
        response, data = self.call("/v1/messages", {"model": "m"})
        self.assertEqual(response.status, 200)

    def test_every_request_is_logged_with_its_answer(self):
        self.script("503")
        self.call("/v1/messages", {"model": "logged-model"})
        with open(self.log, encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        last = [r for r in records if r.get("model") == "logged-model"][-1]
        self.assertEqual((last["answer"], last["status"], last["api"]), ("503", 503, "anthropic"))


if __name__ == "__main__":
    unittest.main()
