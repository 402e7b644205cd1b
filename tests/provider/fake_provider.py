#!/usr/bin/env python3
"""A fake model provider on loopback: Anthropic Messages, OpenAI Responses and Chat Completions,
and the Gemini API, answering each generation request the way a script of answers says.

The real agent CLIs are pointed at it (ANTHROPIC_BASE_URL, a codex `model_providers` entry,
OPENAI_API_BASE for aider, GOOGLE_GEMINI_BASE_URL) so that every failure a provider can give —
rate limits, account limits, 5xx, broken and stalled streams, bad keys, silence — can be shown to
them on demand, with the bodies and headers the real services send. Standard library only.

    fake_provider.py [--port N] [--script SCRIPT] [--log FILE] [--port-file FILE]

Prints the port it bound (on 127.0.0.1) as its first line. README.md beside it lists the answers.
"""

import argparse
import gzip
import json
import os
import re
import select
import socket
import sys
import threading
import time
import zlib
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# Token counts of every successful answer: fixed, so captures do not depend on the prompt.
INPUT_TOKENS = 1200
OUTPUT_TOKENS = 56
ANSWER_TEXT = "Done."
# The longest a `hang` or `stall` answer keeps its connection open when no @SECONDS is given.
SILENCE_CAP_S = 3600

# The answers a script may name, with the delay each uses when it names none (@SECONDS).
ANSWERS = {
    "ok": None,
    "rate_limit": 1,
    "usage_limit": 5 * 3600,
    "quota": None,
    "500": None,
    "503": None,
    "529": None,
    "stream_error": None,
    "stream_cut": None,
    "401": None,
    "bad_key": None,
    "hang": SILENCE_CAP_S,
    "stall": SILENCE_CAP_S,
}
ALIASES = {"429": "rate_limit"}
ENTRY = re.compile(r"^([a-z0-9_]+?)(?:@(\d+))?(?:x(\d+))?$")


class ScriptError(ValueError):
    """A script that names an unknown answer or is badly formed."""


def parse_script(text):
    """`429x3,ok` → [("rate_limit", delay, 3), ("ok", None, 1)]."""
    entries = []
    for raw in text.replace(" ", "").split(","):
        if not raw:
            continue
        match = ENTRY.match(raw)
        name = match and ALIASES.get(match.group(1), match.group(1))
        if not match or name not in ANSWERS:
            raise ScriptError(f"unknown answer {raw!r}; known: {', '.join(ANSWERS)}")
        delay = int(match.group(2)) if match.group(2) else ANSWERS[name]
        count = int(match.group(3)) if match.group(3) else 1
        if count < 1:
            raise ScriptError(f"{raw!r}: a count must be at least 1")
        entries.append((name, delay, count))
    if not entries:
        raise ScriptError("empty script")
    return entries


class Script:
    """The answers still to give, in order; the last one repeats once the others are used up."""

    def __init__(self, text):
        self.lock = threading.Lock()
        self.replace(text)

    def replace(self, text):
        entries = parse_script(text)
        with self.lock:
            self.text = text
            self.entries = entries
            self.index = 0
            self.used = 0

    def next(self):
        with self.lock:
            name, delay, count = self.entries[self.index]
            self.used += 1
            if self.used >= count and self.index + 1 < len(self.entries):
                self.index += 1
                self.used = 0
            return name, delay


class RequestLog:
    """One JSON object a line per request, flushed at once so a test can read it mid-run."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.seq = 0
        self.file = open(path, "a", encoding="utf-8") if path else None

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def write(self, record):
        line = json.dumps(record, sort_keys=True)
        with self.lock:
            if self.file:
                self.file.write(line + "\n")
                self.file.flush()
        print(line, file=sys.stderr, flush=True)


def now():
    return time.time()


def rfc3339(epoch):
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# What each API says. Each builder returns (status, headers, body) or, for a stream, the list of
# SSE frames; `ctx` carries the request (model, seq, auth kind) and the answer's delay.
# ---------------------------------------------------------------------------------------------


class Ctx:
    def __init__(self, seq, model, oauth, delay, text_answer=ANSWER_TEXT):
        self.seq = seq
        self.text_answer = text_answer
        self.model = model or "fake-model"
        self.oauth = oauth
        self.delay = delay
        self.request_id = f"req_fake{seq:06d}"
        self.reset_at = None


def sse(event, data):
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n"


class Anthropic:
    name = "anthropic"

    @staticmethod
    def usage(output_tokens):
        return {
            "input_tokens": INPUT_TOKENS,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output_tokens,
            "service_tier": "standard",
        }

    @classmethod
    def message(cls, ctx, content, stop_reason, output_tokens):
        return {
            "id": f"msg_fake{ctx.seq:06d}",
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": cls.usage(output_tokens),
        }

    @classmethod
    def headers(cls, ctx, exhausted=False, retry_after=None):
        """The rate-limit family the real API sends: unified for subscription (OAuth) callers,
        the per-minute request and token buckets for API keys."""
        h = {"request-id": ctx.request_id, "anthropic-organization-id": "fake-org-0000"}
        reset = rfc3339(now() + (retry_after or 1))
        if ctx.oauth:
            h.update(cls.unified(rejected=False, reset_at=int(now()) + 4 * 3600))
        else:
            for bucket, limit in (("requests", 50), ("tokens", 38000), ("input-tokens", 30000),
                                  ("output-tokens", 8000)):
                remaining = 0 if exhausted and bucket != "output-tokens" else limit - 1
                h[f"anthropic-ratelimit-{bucket}-limit"] = str(limit)
                h[f"anthropic-ratelimit-{bucket}-remaining"] = str(remaining)
                h[f"anthropic-ratelimit-{bucket}-reset"] = reset
        if retry_after is not None:
            h["retry-after"] = str(retry_after)
        return h

    @staticmethod
    def unified(rejected, reset_at):
        week = int(now()) + 4 * 86400
        return {
            "anthropic-ratelimit-unified-status": "rejected" if rejected else "allowed",
            "anthropic-ratelimit-unified-reset": str(reset_at),
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
            "anthropic-ratelimit-unified-5h-status": "rejected" if rejected else "allowed",
            "anthropic-ratelimit-unified-5h-reset": str(reset_at),
            "anthropic-ratelimit-unified-5h-utilization": "1.0" if rejected else "0.12",
            "anthropic-ratelimit-unified-7d-status": "allowed",
            "anthropic-ratelimit-unified-7d-reset": str(week),
            "anthropic-ratelimit-unified-7d-utilization": "0.59",
            "anthropic-ratelimit-unified-fallback-percentage": "0.5",
            "anthropic-ratelimit-unified-overage-status": "rejected",
            "anthropic-ratelimit-unified-overage-disabled-reason": "out_of_credits",
        }

    @staticmethod
    def error_body(ctx, kind, message):
        return {"type": "error", "error": {"type": kind, "message": message},
                "request_id": ctx.request_id}

    @classmethod
    def ok(cls, ctx):
        content = [{"type": "text", "text": ANSWER_TEXT}]
        return 200, cls.headers(ctx), cls.message(ctx, content, "end_turn", OUTPUT_TOKENS)

    @classmethod
    def stream_head(cls, ctx):
        return [
            sse("message_start", {"type": "message_start",
                                  "message": cls.message(ctx, [], None, 1)}),
            sse("content_block_start", {"type": "content_block_start", "index": 0,
                                        "content_block": {"type": "text", "text": ""}}),
            sse("ping", {"type": "ping"}),
            sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": ANSWER_TEXT}}),
        ]

    @classmethod
    def stream_tail(cls, ctx):
        return [
            sse("content_block_stop", {"type": "content_block_stop", "index": 0}),
            sse("message_delta", {"type": "message_delta",
                                  "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                  "usage": {"output_tokens": OUTPUT_TOKENS}}),
            sse("message_stop", {"type": "message_stop"}),
        ]

    @classmethod
    def stream_error(cls, ctx):
        # After a 200 the API reports a failure in-band, as an `error` event.
        return [sse("error", {"type": "error", "error": {"type": "overloaded_error",
                                                          "message": "Overloaded"}})]

    @classmethod
    def failure(cls, name, ctx):
        delay = ctx.delay
        if name == "rate_limit":
            ctx.reset_at = int(now()) + delay
            h = cls.headers(ctx, exhausted=True, retry_after=delay)
            h["x-should-retry"] = "true"
            return 429, h, cls.error_body(ctx, "rate_limit_error", (
                "This request would exceed the rate limit for your organization (fake-org-0000) "
                "of 30,000 input tokens per minute. For details, refer to: "
                "https://docs.claude.com/en/api/rate-limits. You can see the response headers "
                "for current usage. Please reduce the prompt length or the maximum tokens "
                "requested, or try again later."))
        if name == "usage_limit":
            ctx.reset_at = int(now()) + delay
            h = {"request-id": ctx.request_id, "retry-after": str(delay)}
            h.update(cls.unified(rejected=True, reset_at=ctx.reset_at))
            return 429, h, cls.error_body(ctx, "rate_limit_error", (
                "This request would exceed your account's rate limit. Please try again later."))
        if name == "quota":
            return 400, cls.headers(ctx), cls.error_body(ctx, "invalid_request_error", (
                "Your credit balance is too low to access the Anthropic API. Please go to "
                "Plans & Billing to upgrade or purchase credits."))
        if name in ("500", "503"):
            h = cls.headers(ctx)
            h["x-should-retry"] = "true"
            text = "Internal server error" if name == "500" else "Service unavailable"
            return int(name), h, cls.error_body(ctx, "api_error", text)
        if name == "529":
            h = cls.headers(ctx)
            h["x-should-retry"] = "true"
            return 529, h, cls.error_body(ctx, "overloaded_error", "Overloaded")
        if name in ("401", "bad_key"):
            h = {"request-id": ctx.request_id, "x-should-retry": "false"}
            message = "Invalid bearer token" if ctx.oauth else "invalid x-api-key"
            return 401, h, cls.error_body(ctx, "authentication_error", message)
        raise AssertionError(name)


class OpenAIResponses:
    name = "openai"

    @staticmethod
    def headers(ctx, remaining_requests=4999, remaining_tokens=1999000, reset="6ms"):
        return {
            "x-request-id": ctx.request_id,
            "openai-processing-ms": "120",
            "openai-version": "2020-10-01",
            "x-ratelimit-limit-requests": "5000",
            "x-ratelimit-remaining-requests": str(remaining_requests),
            "x-ratelimit-reset-requests": reset,
            "x-ratelimit-limit-tokens": "2000000",
            "x-ratelimit-remaining-tokens": str(remaining_tokens),
            "x-ratelimit-reset-tokens": reset,
        }

    @staticmethod
    def error_body(message, kind, code, param=None):
        return {"error": {"message": message, "type": kind, "param": param, "code": code}}

    @staticmethod
    def usage():
        return {
            "input_tokens": INPUT_TOKENS,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": OUTPUT_TOKENS,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
        }

    @classmethod
    def response(cls, ctx, status, output, usage=None, error=None):
        return {
            "id": f"resp_fake{ctx.seq:06d}",
            "object": "response",
            "created_at": int(now()),
            "status": status,
            "error": error,
            "incomplete_details": None,
            "model": ctx.model,
            "output": output,
            "usage": usage,
        }

    @staticmethod
    def message_item(ctx, text, status):
        content = [{"type": "output_text", "text": text, "annotations": []}] if text else []
        return {"id": f"msg_fake{ctx.seq:06d}", "type": "message", "status": status,
                "role": "assistant", "content": content}

    @classmethod
    def ok(cls, ctx):
        item = cls.message_item(ctx, ANSWER_TEXT, "completed")
        return 200, cls.headers(ctx), cls.response(ctx, "completed", [item], cls.usage())

    @classmethod
    def stream_head(cls, ctx):
        seq = iter(range(100))
        item = cls.message_item(ctx, "", "in_progress")
        part = {"type": "output_text", "text": "", "annotations": []}
        frames = [
            ("response.created", {"response": cls.response(ctx, "in_progress", [])}),
            ("response.in_progress", {"response": cls.response(ctx, "in_progress", [])}),
            ("response.output_item.added", {"output_index": 0, "item": item}),
            ("response.content_part.added", {"item_id": item["id"], "output_index": 0,
                                             "content_index": 0, "part": part}),
            ("response.output_text.delta", {"item_id": item["id"], "output_index": 0,
                                            "content_index": 0, "delta": ANSWER_TEXT}),
        ]
        return [sse(kind, dict(type=kind, sequence_number=next(seq), **data))
                for kind, data in frames]

    @classmethod
    def stream_tail(cls, ctx):
        item = cls.message_item(ctx, ANSWER_TEXT, "completed")
        part = item["content"][0]
        frames = [
            ("response.output_text.done", {"item_id": item["id"], "output_index": 0,
                                           "content_index": 0, "text": ANSWER_TEXT}),
            ("response.content_part.done", {"item_id": item["id"], "output_index": 0,
                                            "content_index": 0, "part": part}),
            ("response.output_item.done", {"output_index": 0, "item": item}),
            ("response.completed", {"response": cls.response(ctx, "completed", [item],
                                                             cls.usage())}),
        ]
        return [sse(kind, dict(type=kind, sequence_number=5 + i, **data))
                for i, (kind, data) in enumerate(frames)]

    @classmethod
    def stream_error(cls, ctx):
        error = {"code": "server_error", "message": (
            "An error occurred while processing your request. You can retry your request, or "
            "contact us through our help center at help.openai.com if the error persists. "
            f"Please include the request ID {ctx.request_id} in your message.")}
        failed = cls.response(ctx, "failed", [], error=error)
        return [sse("response.failed", {"type": "response.failed", "sequence_number": 5,
                                         "response": failed})]

    @classmethod
    def failure(cls, name, ctx):
        delay = ctx.delay
        if name == "rate_limit":
            ctx.reset_at = int(now()) + delay
            h = cls.headers(ctx, 0, 0, f"{delay}s")
            h["retry-after"] = str(delay)
            return 429, h, cls.error_body((
                f"Rate limit reached for {ctx.model} in organization org-fake0000 on tokens per "
                f"min (TPM): Limit 2000000, Used 2000000, Requested {INPUT_TOKENS}. Please try "
                f"again in {delay}s. Visit https://platform.openai.com/account/rate-limits to "
                "learn more."), "tokens", "rate_limit_exceeded")
        if name == "usage_limit":
            # What the ChatGPT-plan backend says when a plan window is used up; codex reads
            # `resets_at` from the body and the window from its x-codex-* headers.
            ctx.reset_at = int(now()) + delay
            h = cls.headers(ctx)
            h.update({
                "x-codex-primary-used-percent": "100", "x-codex-primary-window-minutes": "300",
                "x-codex-primary-reset-at": str(ctx.reset_at),
                "x-codex-secondary-used-percent": "41", "x-codex-secondary-window-minutes":
                    "10080", "x-codex-secondary-reset-at": str(int(now()) + 4 * 86400),
            })
            return 429, h, {"error": {"type": "usage_limit_reached",
                                      "message": "The usage limit has been reached",
                                      "plan_type": "plus", "resets_at": ctx.reset_at,
                                      "resets_in_seconds": delay}}
        if name == "quota":
            return 429, cls.headers(ctx), cls.error_body((
                "You exceeded your current quota, please check your plan and billing details. "
                "For more information on this error, read the docs: "
                "https://platform.openai.com/docs/guides/error-codes/api-errors."),
                "insufficient_quota", "insufficient_quota")
        if name in ("500", "503", "529"):
            message = {
                "500": "The server had an error while processing your request. Sorry about that!",
                "503": "The server is overloaded or not ready yet.",
                "529": "The server is overloaded or not ready yet.",
            }[name]
            return int(name), cls.headers(ctx), cls.error_body(message, "server_error", None)
        if name in ("401", "bad_key"):
            return 401, {"x-request-id": ctx.request_id}, cls.error_body((
                "Incorrect API key provided: sk-fake-***********0000. You can find your API key "
                "at https://platform.openai.com/account/api-keys."),
                "invalid_request_error", "invalid_api_key")
        raise AssertionError(name)


class OpenAIChat(OpenAIResponses):
    """Chat Completions (aider, through litellm); errors are the same as the Responses API's."""

    name = "openai-chat"

    @staticmethod
    def chat_usage():
        return {"prompt_tokens": INPUT_TOKENS, "completion_tokens": OUTPUT_TOKENS,
                "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
                "prompt_tokens_details": {"cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0}}

    @classmethod
    def completion(cls, ctx, obj, choice, usage):
        return {"id": f"chatcmpl-fake{ctx.seq:06d}", "object": obj, "created": int(now()),
                "model": ctx.model, "system_fingerprint": "fp_fake", "choices": [choice],
                "usage": usage}

    @classmethod
    def ok(cls, ctx):
        choice = {"index": 0, "message": {"role": "assistant", "content": ANSWER_TEXT,
                                          "refusal": None},
                  "logprobs": None, "finish_reason": "stop"}
        return 200, cls.headers(ctx), cls.completion(ctx, "chat.completion", choice,
                                                     cls.chat_usage())

    @classmethod
    def chunk(cls, ctx, delta, finish, usage=None):
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse(None, cls.completion(ctx, "chat.completion.chunk", choice, usage))

    @classmethod
    def stream_head(cls, ctx):
        return [cls.chunk(ctx, {"role": "assistant", "content": ""}, None),
                cls.chunk(ctx, {"content": ANSWER_TEXT}, None)]

    @classmethod
    def stream_tail(cls, ctx):
        done = cls.chunk(ctx, {}, "stop")
        usage = sse(None, {"id": f"chatcmpl-fake{ctx.seq:06d}", "object":
                           "chat.completion.chunk", "created": int(now()), "model": ctx.model,
                           "choices": [], "usage": cls.chat_usage()})
        return [done, usage, "data: [DONE]\n\n"]

    @classmethod
    def stream_error(cls, ctx):
        return [sse(None, cls.error_body("The server had an error while processing your "
                                         "request. Sorry about that!", "server_error", None))]


class Gemini:
    name = "gemini"

    @staticmethod
    def usage():
        return {"promptTokenCount": INPUT_TOKENS, "candidatesTokenCount": OUTPUT_TOKENS,
                "totalTokenCount": INPUT_TOKENS + OUTPUT_TOKENS,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": INPUT_TOKENS}]}

    @classmethod
    def chunk(cls, ctx, text, finish, usage):
        candidate = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        body = {"candidates": [candidate], "modelVersion": ctx.model,
                "responseId": f"fake{ctx.seq:06d}"}
        if usage:
            body["usageMetadata"] = usage
        return body

    @staticmethod
    def headers(ctx):
        return {"x-goog-request-id": ctx.request_id, "server": "scaffolding on HTTPServer2"}

    @classmethod
    def ok(cls, ctx):
        return 200, cls.headers(ctx), cls.chunk(ctx, ctx.text_answer, "STOP", cls.usage())

    @staticmethod
    def frame(body):
        return f"data: {json.dumps(body, separators=(',', ':'))}\r\n\r\n"

    @classmethod
    def stream_head(cls, ctx):
        return [cls.frame(cls.chunk(ctx, ctx.text_answer, None, None))]

    @classmethod
    def stream_tail(cls, ctx):
        return [cls.frame(cls.chunk(ctx, "", "STOP", cls.usage()))]

    @classmethod
    def internal(cls):
        return cls.status_body(500, "INTERNAL", (
            "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting"), [])

    @classmethod
    def stream_error(cls, ctx):
        return [cls.frame(cls.internal())]

    @staticmethod
    def status_body(code, status, message, details):
        body = {"code": code, "message": message, "status": status}
        if details:
            body["details"] = details
        return {"error": body}

    @classmethod
    def quota_body(cls, ctx, per, limit, delay):
        quota_id = f"GenerateRequestsPer{per}PerProjectPerModel-FreeTier"
        metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
        message = (
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, head to: "
            "https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, "
            "head to: https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: "
            f"{metric}, limit: {limit}, model: {ctx.model}\nPlease retry in {delay}s.")
        details = [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                {"quotaMetric": metric, "quotaId": quota_id,
                 "quotaDimensions": {"location": "global", "model": ctx.model},
                 "quotaValue": str(limit)}]},
            {"@type": "type.googleapis.com/google.rpc.Help", "links": [
                {"description": "Learn more about Gemini API quotas",
                 "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{delay}s"},
        ]
        return cls.status_body(429, "RESOURCE_EXHAUSTED", message, details)

    @classmethod
    def failure(cls, name, ctx):
        h = cls.headers(ctx)
        if name == "rate_limit":
            ctx.reset_at = int(now()) + ctx.delay
            return 429, h, cls.quota_body(ctx, "Minute", 10, ctx.delay)
        if name in ("usage_limit", "quota"):
            delay = ctx.delay if ctx.delay is not None else 5 * 3600
            ctx.reset_at = int(now()) + delay
            return 429, h, cls.quota_body(ctx, "Day", 250, delay)
        if name == "500":
            return 500, h, cls.internal()
        if name in ("503", "529"):
            return int(name), h, cls.status_body(int(name), "UNAVAILABLE", (
                "The model is overloaded. Please try again later."), [])
        if name == "401":
            return 401, h, cls.status_body(401, "UNAUTHENTICATED", (
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project."), [])
        if name == "bad_key":
            message = "API key not valid. Please pass a valid API key."
            return 400, h, cls.status_body(400, "INVALID_ARGUMENT", message, [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                 "domain": "googleapis.com",
                 "metadata": {"service": "generativelanguage.googleapis.com"}},
                {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                 "message": message}])
        raise AssertionError(name)


def json_schema_answer(schema):
    """A value that fits a response schema: the CLIs ask for JSON on their side requests (gemini's
    model router and next-speaker check) and fall over on plain text."""
    kind = (schema.get("type") or "").lower()
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: json_schema_answer(sub) for key, sub in props.items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return ANSWER_TEXT


def gemini_text_answer(body):
    config = body.get("generationConfig") or body.get("config") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if config.get("responseMimeType") == "application/json" and isinstance(schema, dict):
        return json.dumps(json_schema_answer(schema))
    return ANSWER_TEXT


# ---------------------------------------------------------------------------------------------
# Routing and the HTTP side.
# ---------------------------------------------------------------------------------------------

GEMINI_PATH = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+):([A-Za-z]+)$")


def route(method, path):
    """(api, action) for a request: action is `generate`, `count`, `models` or None."""
    if method == "POST" and re.fullmatch(r"(/v1)?/messages", path):
        return Anthropic, "generate"
    if method == "POST" and re.fullmatch(r"(/v1)?/messages/count_tokens", path):
        return Anthropic, "count"
    if method == "POST" and re.fullmatch(r"(/v1)?/responses", path):
        return OpenAIResponses, "generate"
    if method == "POST" and re.fullmatch(r"(/v1)?/chat/completions", path):
        return OpenAIChat, "generate"
    if method == "GET" and re.fullmatch(r"(/v1)?/models", path):
        return OpenAIResponses, "models"
    match = GEMINI_PATH.match(path)
    if method == "POST" and match:
        action = match.group(3)
        if action in ("generateContent", "streamGenerateContent"):
            return Gemini, "generate"
        if action == "countTokens":
            return Gemini, "count"
    return None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-provider/1"
    sys_version = ""

    def log_message(self, format, *args):  # noqa: A002 - the base class names it so
        pass  # every request is logged as JSON instead

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            data = self.rfile.read(int(self.headers.get("content-length") or 0))
        encoding = self.headers.get("content-encoding", "").lower()
        try:
            if encoding == "gzip":
                data = gzip.decompress(data)
            elif encoding == "deflate":
                data = zlib.decompress(data)
        except (OSError, zlib.error):
            pass
        return data

    def dispatch(self, method):
        url = urlsplit(self.path)
        raw = self.read_body() if method in ("POST", "PUT") else b""
        if url.path.startswith("/_fake/"):
            return self.control(method, url.path, raw)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        api, action = route(method, url.path)
        seq = self.server.log.next_seq()
        if api is None and url.path == "/api/hello":
            # claude's connectivity check before its first request
            self.server.log.write({"seq": seq, "time": round(now(), 3), "method": method,
                                   "path": url.path, "api": "anthropic", "action": "hello",
                                   "status": 200, "answer": "ok"})
            return self.send_json(200, {}, {"message": "hello"})
        record = {"seq": seq, "time": round(now(), 3), "method": method, "path": url.path,
                  "api": api.name if api else None, "action": action}
        if api is None:
            record.update(status=404, answer="not_found")
            self.server.log.write(record)
            return self.send_json(404, {}, {"error": {"message": f"no route for {url.path}",
                                                      "type": "not_found_error"}})
        model = body.get("model")
        gemini = GEMINI_PATH.match(url.path)
        if gemini:
            model = gemini.group(2)
        oauth = self.headers.get("authorization", "").lower().startswith("bearer ") and \
            not self.headers.get("x-api-key")
        if action != "generate":
            record.update(model=model, status=200, answer="ok")
            self.server.log.write(record)
            return self.side_request(api, action, model)
        name, delay = self.server.script.next()
        text = gemini_text_answer(body) if api is Gemini else ANSWER_TEXT
        ctx = Ctx(seq, model, oauth and api is Anthropic, delay, text)
        stream = self.wants_stream(api, url, body)
        record.update(model=model, stream=stream, answer=name)
        if api is Anthropic:
            record["oauth"] = oauth
        self.answer(api, ctx, name, stream, record)

    @staticmethod
    def wants_stream(api, url, body):
        if api is Gemini:
            return url.path.endswith(":streamGenerateContent")
        if api is OpenAIResponses and not body:
            return True  # codex always streams; a body it compressed cannot be read here
        return bool(body.get("stream"))

    def side_request(self, api, action, model):
        if action == "count":
            body = ({"totalTokens": INPUT_TOKENS} if api is Gemini
                    else {"input_tokens": INPUT_TOKENS})
            return self.send_json(200, {}, body)
        models = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                  for m in ("gpt-5.1-codex", "gpt-5", "gpt-4o")]
        return self.send_json(200, {}, {"object": "list", "data": models})

    def answer(self, api, ctx, name, stream, record):
        log = self.server.log
        if name == "stream_error" and not stream:
            # A plain request has no stream to break: it gets the server error the stream would
            # have carried, as a status (claude falls back to a plain request after a broken
            # stream).
            name = "529" if api is Anthropic else "500"
        if name == "hang":
            record.update(status=None)
            log.write(record)
            return self.silence(ctx.delay)
        if name in ("ok", "stream_error", "stream_cut", "stall"):
            record.update(status=200)
            log.write(record)
            if not stream:
                if name == "ok":
                    return self.send_json(*api.ok(ctx))
                return self.broken_plain(api, ctx, name)
            return self.send_stream(api, ctx, name)
        status, headers, body = api.failure(name, ctx)
        record.update(status=status, reset_at=ctx.reset_at)
        log.write(record)
        return self.send_json(status, headers, body)

    # -- writing -------------------------------------------------------------------------------

    def send_json(self, status, headers, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def start_chunked(self, content_type, headers):
        self.send_response(200)
        self.send_header("content-type", content_type)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def chunk(self, text):
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def send_stream(self, api, ctx, name):
        status, headers, _ = api.ok(ctx)
        content_type = "text/event-stream" + ("; charset=utf-8" if api is not Gemini else "")
        self.start_chunked(content_type, headers)
        for frame in api.stream_head(ctx):
            self.chunk(frame)
        if name == "ok":
            for frame in api.stream_tail(ctx):
                self.chunk(frame)
        elif name == "stream_error":
            for frame in api.stream_error(ctx):
                self.chunk(frame)
        elif name == "stream_cut":
            return self.drop()
        elif name == "stall":
            return self.silence(ctx.delay)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def broken_plain(self, api, ctx, name):
        """A plain (non-streamed) answer that breaks after the headers: half a body, then the
        connection drops (stream_cut) or goes quiet (stall)."""
        _, headers, body = api.ok(ctx)
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        if name == "stall":
            return self.silence(ctx.delay)
        return self.drop()

    def silence(self, seconds):
        """Say nothing for `seconds`, or until the client hangs up or the server stops."""
        deadline = now() + (seconds or SILENCE_CAP_S)
        while now() < deadline and not self.server.stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.2)
            if readable:
                try:
                    if not self.connection.recv(65536):
                        break
                except OSError:
                    break
        self.drop()

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the control endpoint ------------------------------------------------------------------

    def control(self, method, path, raw):
        server = self.server
        if path == "/_fake/health":
            return self.send_text(200, "ok\n")
        if path == "/_fake/script" and method in ("POST", "PUT"):
            try:
                server.script.replace(raw.decode().strip())
            except (ScriptError, UnicodeDecodeError) as err:
                return self.send_text(400, f"{err}\n")
            return self.send_text(200, f"{server.script.text}\n")
        if path == "/_fake/script":
            return self.send_text(200, f"{server.script.text}\n")
        if path == "/_fake/stop" and method == "POST":
            self.send_text(200, "stopping\n")
            server.stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()
            return None
        return self.send_text(404, "unknown control path\n")

    def send_text(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, script, log):
        super().__init__(("127.0.0.1", port), Handler)
        self.script = script
        self.log = log
        self.stopping = threading.Event()

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer is part of the game, not a server fault.
        kind = sys.exc_info()[0]
        if kind and issubclass(kind, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("FAKE_PROVIDER_PORT", 0)),
                        help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--script", default=os.environ.get("FAKE_PROVIDER_SCRIPT", "ok"),
                        help="answers in order, e.g. '429x3,ok' (the last one repeats)")
    parser.add_argument("--log", default=os.environ.get("FAKE_PROVIDER_LOG"),
                        help="append one JSON line per request to this file")
    parser.add_argument("--port-file", help="also write the port to this file once bound")
    args = parser.parse_args(argv)
    try:
        script = Script(args.script)
    except ScriptError as err:
        parser.error(str(err))
    server = Server(args.port, script, RequestLog(args.log))
    port = server.server_address[1]
    print(port, flush=True)
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
