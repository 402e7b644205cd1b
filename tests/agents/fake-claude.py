#!/usr/bin/env python3
"""A fake `claude --output-format stream-json`: MODE (env) picks what the run looks like."""
import json, os, sys, time

mode = os.environ.get("MODE", "ok")
sys.stdin.read()
def out(obj):
    print(json.dumps(obj), flush=True)

out({"type": "system", "subtype": "init", "model": "claude-test"})
out({"type": "assistant", "message": {"model": "claude-test", "content": [{"type": "tool_use", "name": "Bash", "input": {"command": "curl -H 'Authorization: Bearer abcdefghijklmnop' http://x 401"}}]}})
if mode == "ok":
    out({"type": "result", "is_error": False, "result": "all done", "usage": {"input_tokens": 1200, "output_tokens": 345, "cache_read_input_tokens": 50, "cache_creation_input_tokens": 7}, "total_cost_usd": 0.0123, "duration_ms": 900, "num_turns": 3})
    sys.exit(0)
if mode == "429":
    out({"type": "result", "is_error": True, "api_error_status": 429, "result": "API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}}"})
    sys.exit(1)
if mode == "529":
    out({"type": "result", "is_error": True, "api_error_status": None, "result": "API Error: 529 Overloaded"})
    sys.exit(1)
if mode == "five_hour":
    reset = int(os.environ["RESET_AT"])
    out({"type": "rate_limit_event", "rate_limit_info": {"status": "rejected", "rateLimitType": "five_hour", "resetsAt": reset}})
    out({"type": "result", "is_error": True, "api_error_status": 429, "result": "Claude AI usage limit reached"})
    sys.exit(1)
if mode == "401":
    out({"type": "result", "is_error": True, "api_error_status": 401, "result": "Invalid API key sk-ant-api03-secretsecretsecret"})
    sys.exit(1)
if mode == "oauth_stderr":
    print("OAuth token has expired. Please run /login", file=sys.stderr)
    sys.exit(1)
if mode == "retry_flood":
    # 30 bursts of 50 retries, each ended by an answer: far more retry lines than events.
    for burst in range(30):
        for attempt in range(1, 51):
            out({"type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": 50, "retry_delay_ms": 10, "error_status": 429, "error": "rate_limit"})
        out({"type": "assistant", "message": {"model": "claude-test", "content": []}})
    out({"type": "result", "is_error": False, "result": "done", "usage": {"input_tokens": 10, "output_tokens": 5}, "total_cost_usd": 0.001})
    sys.exit(0)
if mode == "garbage":
    sys.stdout.buffer.write(b"\x00\xff\xfe{{{ not json\n")
    sys.stdout.write('{"type":"result","usage":{"input_tokens":NaN}}\n')
    sys.stdout.write('{"type": "result", "usage": [1, 2\n')
    sys.stdout.write('{"type":"result","x":"' + "z" * (3 * 1024 * 1024) + '"}\n')
    sys.stdout.write('{"type":"result","is_error":false,"usage":{"input_tokens":-4,"output_tokens":1e308},"total_cost_usd":"free"}\n')
    sys.stdout.write('{"type":"result","is_error":false,"usage":{"input_tok')
    sys.stdout.flush()
    sys.exit(0)
sys.exit(2)
