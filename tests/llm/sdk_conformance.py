"""The official Anthropic Python SDK (`anthropic`, pinned in scripts/sdk-venv.sh)
against wingspan's fake Messages API. Run by tests/llm/sdk.rs, which starts one
fake per scenario and passes their base URLs as JSON in argv[1]; exits non-zero
(with the failing check on stderr) unless the SDK parses every answer.
"""

import json
import sys

import anthropic

MODEL = "claude-sonnet-4-5"
TEXT = "Hello from the fake Messages API."
MESSAGES = [{"role": "user", "content": "Say hello."}]
EVENT_TYPES = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
}
# The class the SDK raises for each status, and the error type the body must name.
STATUSES = {
    "400": (anthropic.BadRequestError, "invalid_request_error"),
    "401": (anthropic.AuthenticationError, "authentication_error"),
    "402": (anthropic.PaymentRequiredError, "billing_error"),
    "403": (anthropic.PermissionDeniedError, "permission_error"),
    "404": (anthropic.NotFoundError, "not_found_error"),
    "409": (anthropic.ConflictError, "conflict_error"),
    "413": (anthropic.RequestTooLargeError, "request_too_large"),
    "429": (anthropic.RateLimitError, "rate_limit_error"),
    "500": (anthropic.InternalServerError, "api_error"),
    "504": (anthropic.GatewayTimeoutError, "timeout_error"),
    "529": (anthropic.OverloadedError, "overloaded_error"),
}


def client(url, retries=0):
    return anthropic.Anthropic(base_url=url, api_key="sk-test", max_retries=retries, timeout=20)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def create(c, **kw):
    return c.messages.create(model=MODEL, max_tokens=256, messages=MESSAGES, **kw)


def plain(url):
    m = create(client(url))
    check(m.content[0].type == "text" and m.content[0].text == TEXT, f"plain text: {m}")
    check(m.usage.input_tokens == 25 and m.usage.output_tokens == 10, f"plain usage: {m.usage}")
    check(m.stop_reason == "end_turn", f"plain stop: {m.stop_reason}")
    check((m._request_id or "").startswith("req_"), f"plain request id: {m._request_id}")


def streamed(url):
    c = client(url)
    with c.messages.stream(model=MODEL, max_tokens=256, messages=MESSAGES) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    check(text == TEXT, f"streamed text: {text!r}")
    check(final.usage.output_tokens == 10, f"streamed usage: {final.usage}")
    events = list(create(c, stream=True))
    kinds = {e.type for e in events}
    check(kinds == EVENT_TYPES, f"event types: {kinds}")
    check(events[0].type == "message_start" and events[-1].type == "message_stop", "event order")


def rich(url):
    """thinking + text + tool_use, cumulative usage, server-tool usage, thinking tokens."""
    c = client(url)
    with c.messages.stream(model=MODEL, max_tokens=256, messages=MESSAGES) as s:
        from_stream = s.get_final_message()
    for m in (create(c), from_stream):
        kinds = [b.type for b in m.content]
        check(kinds == ["thinking", "text", "tool_use"], f"blocks: {kinds}")
        check(m.content[0].thinking == "Paris is in France." and m.content[0].signature, f"thinking: {m.content[0]}")
        check(m.content[2].input == {"location": "Paris"} and m.content[2].name == "get_weather", f"tool: {m.content[2]}")
        check(m.stop_reason == "tool_use", f"stop: {m.stop_reason}")
        check(m.usage.input_tokens == 25 and m.usage.output_tokens == 10, f"usage: {m.usage}")
        check(m.usage.server_tool_use.web_search_requests == 1, f"server tool use: {m.usage}")
        check(m.usage.output_tokens_details.thinking_tokens == 7, f"thinking tokens: {m.usage}")
    kinds = {e.type for e in create(c, stream=True)}
    check(kinds == EVENT_TYPES, f"rich event types: {kinds}")
    deltas = {e.delta.type for e in create(c, stream=True) if e.type == "content_block_delta"}
    check(deltas == {"thinking_delta", "signature_delta", "text_delta", "input_json_delta"}, f"deltas: {deltas}")


def no_final_blank_line(url):
    with client(url).messages.stream(model=MODEL, max_tokens=256, messages=MESSAGES) as s:
        final = s.get_final_message()
    check(final.content[0].text == TEXT and final.stop_reason == "end_turn", f"no blank line: {final}")


def error_mid_stream(url):
    try:
        with client(url).messages.stream(model=MODEL, max_tokens=256, messages=MESSAGES) as s:
            s.get_final_message()
    except anthropic.APIStatusError as e:
        check(e.body["error"]["type"] == "overloaded_error", f"mid-stream error body: {e.body}")
        return
    raise AssertionError("the error event raised nothing")


def retried(url):
    """The SDK's own retry (429 with retry-after, or 529) gets the answer."""
    m = create(client(url, retries=2))
    check(m.content[0].text == TEXT, f"retried: {m}")


def status(code, url):
    cls, kind = STATUSES[code]
    try:
        create(client(url))
    except anthropic.APIStatusError as e:
        check(type(e) is cls, f"{code}: {type(e).__name__}, want {cls.__name__}")
        check(e.status_code == int(code), f"{code}: status {e.status_code}")
        check(e.body["error"]["type"] == kind, f"{code}: body {e.body}")
        check(e.body["request_id"] == e.request_id and e.request_id.startswith("req_"), f"{code}: request id {e.request_id}")
        return
    raise AssertionError(f"{code}: no error")


def main():
    cfg = json.loads(sys.argv[1])
    print(f"anthropic {anthropic.__version__}")
    plain(cfg["plain"])
    streamed(cfg["plain"])
    rich(cfg["rich"])
    no_final_blank_line(cfg["no_final_blank_line"])
    error_mid_stream(cfg["error_mid_stream"])
    retried(cfg["retry_429"])
    retried(cfg["retry_529"])
    for code, url in cfg["status"].items():
        status(code, url)
    print("ok")


if __name__ == "__main__":
    main()
