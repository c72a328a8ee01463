//! One LLM call: the `{operation} {model}` CLIENT span (held in a context so
//! the HTTP attempts nest under it), its metrics, cost and streaming timings.

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::{SpanKind, Tracer as _};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};

use super::bound::{CostSet, Shape};
use super::{OutputPart, Response, Shared};
use crate::instrument::{CallError, CallMetrics, ClientCall};
use crate::names;
use crate::text::prefix_bytes;

/// Where a call's duration goes: the attributes every gen_ai metric of this
/// call shares, the response model once known, and the task.
pub(crate) struct GenAiMetrics {
    shared: Arc<Shared>,
    /// operation, provider, request model, server address and port, task.
    base: Vec<KeyValue>,
    task: Option<StringValue>,
    /// The bound histograms of `base`, looked up once it is final.
    shape: Option<Arc<Shape>>,
}

impl GenAiMetrics {
    fn attributes(&self, extra: usize) -> Vec<KeyValue> {
        let mut v = Vec::with_capacity(self.base.len() + extra);
        v.extend_from_slice(&self.base);
        v
    }

    /// Looks up the bound set of `base` (none past the cap).
    fn bind(&mut self) {
        if self.shape.is_none() {
            let base = &self.base;
            self.shape = self
                .shared
                .instruments
                .shapes
                .get(base, || Shape::new(base));
        }
    }
}

impl CallMetrics for GenAiMetrics {
    fn ok(&self, seconds: f64) {
        let instruments = &self.shared.instruments;
        match &self.shape {
            Some(shape) => shape.duration(&instruments.duration).record(seconds),
            None => instruments.duration.record(seconds, &self.base),
        }
    }

    fn failed(&self, seconds: f64, error_type: &str, _status_code: Option<&str>) {
        let mut attrs = self.attributes(1);
        attrs.push(KeyValue::new(names::ERROR_TYPE, error_type.to_owned()));
        self.shared.instruments.duration.record(seconds, &attrs);
    }
}

struct ErrorType<'a>(&'a str);

impl CallError for ErrorType<'_> {
    fn error_type(&self) -> &str {
        self.0
    }
}

/// An LLM call in flight, from [`Llm::start`](super::Llm::start). End it
/// with [`ok`](Self::ok) or [`fail`](Self::fail); dropped before that (the
/// caller's future was cancelled), it ends as `error.type=canceled`.
pub struct Call {
    call: ClientCall<GenAiMetrics>,
    request_model: String,
    stream: bool,
    last_chunk: Option<Instant>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("model", &self.request_model)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl Call {
    pub(crate) fn start(shared: &Arc<Shared>, parent: &Context, request: &super::Request) -> Self {
        let task = request.task.as_deref().map(|t| shared.tasks.label(t));
        let mut base = Vec::with_capacity(6);
        base.push(KeyValue::new(
            names::GEN_AI_OPERATION_NAME,
            request.operation.clone(),
        ));
        base.push(KeyValue::new(
            names::GEN_AI_PROVIDER_NAME,
            request.provider.clone(),
        ));
        base.push(KeyValue::new(
            names::GEN_AI_REQUEST_MODEL,
            request.model.clone(),
        ));
        if let Some((address, port)) = &request.server {
            base.push(KeyValue::new(names::SERVER_ADDRESS, address.clone()));
            base.push(KeyValue::new(names::SERVER_PORT, i64::from(*port)));
        }
        if let Some(task) = &task {
            base.push(KeyValue::new(names::WINGSPAN_GEN_AI_TASK, task.clone()));
        }
        let mut attributes = base.clone();
        request_attributes(request, &mut attributes);
        let builder = shared
            .tracer
            .span_builder(format!("{} {}", request.operation, request.model))
            .with_kind(SpanKind::Client)
            .with_attributes(attributes);
        let metrics = GenAiMetrics {
            shared: shared.clone(),
            base,
            task,
            shape: None,
        };
        Self {
            call: if shared.recording.is_off() {
                ClientCall::untraced(metrics)
            } else {
                ClientCall::start_in_context(&shared.tracer, builder, parent, metrics)
            },
            request_model: request.model.clone(),
            stream: request.stream,
            last_chunk: None,
        }
    }

    /// The context to run the call's own work under (an HTTP client's spans
    /// then nest under the gen_ai span):
    /// `fut.with_context(call.context())`.
    pub fn context(&self) -> Context {
        self.call.context()
    }

    /// Whether the span is sampled.
    pub fn is_recording(&self) -> bool {
        self.call.is_recording()
    }

    /// Whether content capture is on (`WINGSPAN_LLM_CAPTURE_CONTENT`) and
    /// the span records: only then is it worth building content.
    pub fn captures_content(&self) -> bool {
        self.call.metrics().shared.capture_content && self.call.is_recording()
    }

    /// The cap on each captured text, in bytes (a stream keeps no more of
    /// its output than this).
    pub(crate) fn content_max_bytes(&self) -> usize {
        self.call.metrics().shared.content_max_bytes
    }

    /// A streamed output chunk arrived: the first records
    /// `gen_ai.client.operation.time_to_first_chunk` (from the call's start)
    /// and `gen_ai.response.time_to_first_chunk`; each later one records
    /// `gen_ai.client.operation.time_per_output_chunk` (from the previous
    /// chunk). Not recorded for calls not marked as streaming.
    pub fn chunk(&mut self) {
        if !self.stream {
            return;
        }
        let now = Instant::now();
        self.call.metrics_mut().bind();
        let metrics = self.call.metrics();
        let instruments = &metrics.shared.instruments;
        match self.last_chunk {
            None => {
                let seconds = self.call.elapsed_secs();
                match &metrics.shape {
                    Some(s) => s
                        .first_chunk(&instruments.time_to_first_chunk)
                        .record(seconds),
                    None => instruments
                        .time_to_first_chunk
                        .record(seconds, &metrics.base),
                }
                self.call.set_attribute(KeyValue::new(
                    names::GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
                    seconds,
                ));
            }
            Some(last) => {
                let seconds = now.duration_since(last).as_secs_f64();
                match &metrics.shape {
                    Some(s) => s
                        .per_chunk(&instruments.time_per_output_chunk)
                        .record(seconds),
                    None => instruments
                        .time_per_output_chunk
                        .record(seconds, &metrics.base),
                }
            }
        }
        self.last_chunk = Some(now);
    }

    /// Records the response model as soon as it is known (a stream's first
    /// event), so the chunk and duration metrics carry it too.
    pub fn response_model(&mut self, model: &str) {
        let kv = KeyValue::new(names::GEN_AI_RESPONSE_MODEL, model.to_owned());
        let metrics = self.call.metrics_mut();
        metrics.shape = None;
        let base = &mut metrics.base;
        if let Some(old) = base
            .iter_mut()
            .find(|kv| kv.key.as_str() == names::GEN_AI_RESPONSE_MODEL)
        {
            *old = kv.clone();
        } else {
            base.push(kv.clone());
        }
        self.call.set_attribute(kv);
    }

    /// With content capture on: records the chat history sent as
    /// `gen_ai.input.messages` (`(role, text)` pairs, each text capped).
    /// Does nothing otherwise.
    pub fn capture_input(&mut self, messages: &[(&str, &str)]) {
        if !self.captures_content() {
            return;
        }
        let max = self.call.metrics().shared.content_max_bytes;
        let json: Vec<serde_json::Value> = messages
            .iter()
            .map(|(role, text)| {
                serde_json::json!({"role": role, "parts": [{"type": "text", "content": prefix_bytes(text, max)}]})
            })
            .collect();
        let text = serde_json::Value::Array(json).to_string();
        self.call
            .set_attribute(KeyValue::new(names::GEN_AI_INPUT_MESSAGES, text));
    }

    /// With content capture on: records `gen_ai.system_instructions`
    /// (capped). Does nothing otherwise.
    pub fn capture_system(&mut self, instructions: &str) {
        if !self.captures_content() {
            return;
        }
        let max = self.call.metrics().shared.content_max_bytes;
        let text =
            serde_json::json!([{"type": "text", "content": prefix_bytes(instructions, max)}])
                .to_string();
        self.call
            .set_attribute(KeyValue::new(names::GEN_AI_SYSTEM_INSTRUCTIONS, text));
    }

    /// With content capture on: records the answer as
    /// `gen_ai.output.messages` (capped). Does nothing otherwise.
    pub fn capture_output(&mut self, text: &str, finish_reason: Option<&str>) {
        self.capture_output_parts(&[OutputPart::Text(text)], finish_reason);
    }

    /// With content capture on: records the answer's parts (text,
    /// reasoning, tool calls) as `gen_ai.output.messages`, each text capped
    /// at the content bound; tool-call arguments are JSON when whole and
    /// within the bound, else a capped string. Does nothing otherwise.
    pub fn capture_output_parts(&mut self, parts: &[OutputPart<'_>], finish_reason: Option<&str>) {
        if !self.captures_content() {
            return;
        }
        let max = self.call.metrics().shared.content_max_bytes;
        let parts: Vec<serde_json::Value> = parts
            .iter()
            .map(|part| match *part {
                OutputPart::Text(t) => {
                    serde_json::json!({"type": "text", "content": prefix_bytes(t, max)})
                }
                OutputPart::Reasoning(t) => {
                    serde_json::json!({"type": "reasoning", "content": prefix_bytes(t, max)})
                }
                OutputPart::ToolCall {
                    id,
                    name,
                    arguments,
                } => {
                    let arguments = (arguments.len() <= max)
                        .then(|| serde_json::from_str::<serde_json::Value>(arguments).ok())
                        .flatten()
                        .unwrap_or_else(|| prefix_bytes(arguments, max).into());
                    serde_json::json!({
                        "type": "tool_call",
                        "id": prefix_bytes(id, max),
                        "name": prefix_bytes(name, max),
                        "arguments": arguments,
                    })
                }
            })
            .collect();
        let json = serde_json::json!([{
            "role": "assistant",
            "parts": parts,
            "finish_reason": finish_reason.unwrap_or(""),
        }])
        .to_string();
        self.call
            .set_attribute(KeyValue::new(names::GEN_AI_OUTPUT_MESSAGES, json));
    }

    /// Ends a successful call: response attributes, token usage, cost (or
    /// unpriced), then the duration. Returns the duration in seconds.
    pub fn ok(mut self, response: &Response) -> f64 {
        let used = self.describe(response);
        let shared = self.call.metrics().shared.clone();
        let model = std::mem::take(&mut self.request_model);
        let seconds = self.call.ok();
        record_stats(&shared, &model, seconds, false, used);
        seconds
    }

    /// Ends a failed call with `error.type` (a low-cardinality class:
    /// `timeout`, `rate_limit_error`, `529`, ...). Returns the duration.
    pub fn fail(self, error_type: &str) -> f64 {
        let shared = self.call.metrics().shared.clone();
        let seconds = self.call.fail(&ErrorType(error_type));
        record_stats(&shared, &self.request_model, seconds, true, Used::default());
        seconds
    }

    /// Ends a call that failed after part of the answer arrived (a stream
    /// cut short, an error event mid-stream): what `response` reports
    /// (model, id, the usage so far and its cost) is recorded, then the
    /// call ends with `error.type`. Returns the duration.
    pub fn fail_after(mut self, error_type: &str, response: &Response) -> f64 {
        let used = self.describe(response);
        let shared = self.call.metrics().shared.clone();
        let seconds = self.call.fail(&ErrorType(error_type));
        record_stats(&shared, &self.request_model, seconds, true, used);
        seconds
    }

    /// Response attributes, usage and cost (or unpriced) of `response`.
    fn describe(&mut self, response: &Response) -> Used {
        if let Some(model) = &response.model {
            self.response_model(model);
        }
        if let Some(id) = &response.id {
            self.call
                .set_attribute(KeyValue::new(names::GEN_AI_RESPONSE_ID, id.clone()));
        }
        if !response.finish_reasons.is_empty() {
            let reasons: Vec<StringValue> = response
                .finish_reasons
                .iter()
                .map(|r| StringValue::from(r.clone()))
                .collect();
            self.call.set_attribute(KeyValue::new(
                names::GEN_AI_RESPONSE_FINISH_REASONS,
                Value::Array(Array::String(reasons)),
            ));
        }
        if let Some(n) = response.reasoning_output_tokens {
            self.call.set_attribute(KeyValue::new(
                names::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
                i64::try_from(n).unwrap_or(i64::MAX),
            ));
        }
        self.call.metrics_mut().bind();
        let response_model = response.model.as_deref();
        match &response.usage {
            Some(usage) => {
                let cost_usd = self.record_usage(usage, response_model);
                Used {
                    input_tokens: usage.total_input_tokens(),
                    output_tokens: usage.output_tokens,
                    cost_usd,
                }
            }
            None => {
                // No usage, no cost known: unpriced, never $0.00.
                let shared = self.call.metrics().shared.clone();
                self.record_unpriced(&shared, response_model);
                Used::default()
            }
        }
    }

    /// Records the usage; returns the cost in USD (0 when unpriced).
    fn record_usage(&mut self, usage: &super::Usage, response_model: Option<&str>) -> f64 {
        let input = usage.total_input_tokens();
        for (key, n) in [
            (names::GEN_AI_USAGE_INPUT_TOKENS, input),
            (names::GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens),
            (
                names::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                usage.cache_read_input_tokens,
            ),
            (
                names::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                usage.cache_creation_input_tokens,
            ),
        ] {
            self.call
                .set_attribute(KeyValue::new(key, i64::try_from(n).unwrap_or(i64::MAX)));
        }
        let metrics = self.call.metrics();
        let shared = metrics.shared.clone();
        let tokens = &shared.instruments.tokens;
        match &metrics.shape {
            Some(s) => {
                s.tokens(tokens, true).record(input);
                s.tokens(tokens, false).record(usage.output_tokens);
            }
            None => {
                let mut attrs = metrics.attributes(1);
                attrs.push(KeyValue::new(names::GEN_AI_TOKEN_TYPE, "input"));
                tokens.record(input, &attrs);
                if let Some(last) = attrs.last_mut() {
                    *last = KeyValue::new(names::GEN_AI_TOKEN_TYPE, "output");
                }
                tokens.record(usage.output_tokens, &attrs);
            }
        }

        // Billing follows the model that answered; the request's name is the
        // fallback when the response names none (or an unknown one).
        let priced = response_model
            .and_then(|m| shared.pricing.cost(m, usage))
            .or_else(|| shared.pricing.cost(&self.request_model, usage));
        match priced {
            Some((entry, cost)) => {
                self.record_cost(&shared, usage, entry, response_model, &cost);
                cost.total()
            }
            None => {
                self.record_unpriced(&shared, response_model);
                0.0
            }
        }
    }

    /// `wingspan.gen_ai.cost` per token category, and the span's total.
    /// Labelled with the requested model (`gen_ai.request.model`) and the
    /// answering one (`gen_ai.response.model`, when the answer named it);
    /// the pricing-table entry is the span's `wingspan.gen_ai.pricing.model`.
    fn record_cost(
        &mut self,
        shared: &Shared,
        usage: &super::Usage,
        entry: &str,
        response_model: Option<&str>,
        cost: &super::Cost,
    ) {
        let entry = StringValue::from(entry.to_owned());
        let key = self.model_labels(response_model);
        let set = shared
            .instruments
            .costs
            .get(&key, || CostSet::new(&key))
            .unwrap_or_else(|| Arc::new(CostSet::new(&key)));
        for (i, tokens, usd) in [
            (0, usage.input_tokens, cost.input),
            (1, usage.cache_read_input_tokens, cost.cache_read),
            (2, usage.cache_creation_input_tokens, cost.cache_write),
            (3, usage.output_tokens, cost.output),
        ] {
            if tokens == 0 {
                continue;
            }
            if let Some(counter) = set.counter(&shared.instruments.cost, i) {
                counter.add(usd);
            }
        }
        self.call
            .set_attribute(KeyValue::new(names::WINGSPAN_GEN_AI_COST_USD, cost.total()));
        self.call
            .set_attribute(KeyValue::new(names::WINGSPAN_GEN_AI_PRICING_MODEL, entry));
    }

    /// `wingspan.gen_ai.unpriced`: the model is not in the table, or no
    /// usage was reported.
    fn record_unpriced(&mut self, shared: &Shared, response_model: Option<&str>) {
        let a = self.model_labels(response_model);
        shared.instruments.unpriced.add(1, &a);
        self.call
            .set_attribute(KeyValue::new(names::WINGSPAN_GEN_AI_UNPRICED, true));
    }
}

impl Call {
    /// The cost metrics' labels: requested model, answering model (when
    /// known), task.
    fn model_labels(&self, response_model: Option<&str>) -> Vec<KeyValue> {
        let mut key = Vec::with_capacity(3);
        key.push(KeyValue::new(
            names::GEN_AI_REQUEST_MODEL,
            self.request_model.clone(),
        ));
        if let Some(m) = response_model {
            key.push(KeyValue::new(names::GEN_AI_RESPONSE_MODEL, m.to_owned()));
        }
        if let Some(task) = &self.call.metrics().task {
            key.push(KeyValue::new(names::WINGSPAN_GEN_AI_TASK, task.clone()));
        }
        key
    }
}

/// What the in-process view keeps of a call's usage: every input token
/// (cached ones included), output tokens, and the cost.
#[derive(Clone, Copy, Default)]
struct Used {
    input_tokens: u64,
    output_tokens: u64,
    cost_usd: f64,
}

/// Feeds the in-process view's row of `model` (LLM calls are seconds long:
/// resolving the row per call costs nothing next to them).
fn record_stats(shared: &Shared, model: &str, seconds: f64, error: bool, used: Used) {
    if let Some(stats) = &shared.stats {
        let duration = std::time::Duration::try_from_secs_f64(seconds).unwrap_or_default();
        stats.model(model).record(
            duration,
            error,
            used.input_tokens,
            used.output_tokens,
            used.cost_usd,
        );
    }
}

/// The request parameters given, as span attributes.
fn request_attributes(request: &super::Request, out: &mut Vec<KeyValue>) {
    if let Some(n) = request.max_tokens {
        out.push(KeyValue::new(
            names::GEN_AI_REQUEST_MAX_TOKENS,
            i64::try_from(n).unwrap_or(i64::MAX),
        ));
    }
    let sampling = &request.sampling;
    if let Some(t) = sampling.temperature {
        out.push(KeyValue::new(names::GEN_AI_REQUEST_TEMPERATURE, t));
    }
    if let Some(p) = sampling.top_p {
        out.push(KeyValue::new(names::GEN_AI_REQUEST_TOP_P, p));
    }
    if let Some(k) = sampling.top_k {
        out.push(KeyValue::new(names::GEN_AI_REQUEST_TOP_K, k as f64));
    }
    if !sampling.stop_sequences.is_empty() {
        let stops: Vec<StringValue> = sampling
            .stop_sequences
            .iter()
            .map(|s| StringValue::from(s.clone()))
            .collect();
        out.push(KeyValue::new(
            names::GEN_AI_REQUEST_STOP_SEQUENCES,
            Value::Array(Array::String(stops)),
        ));
    }
    if request.stream {
        out.push(KeyValue::new(names::GEN_AI_REQUEST_STREAM, true));
    }
}
