//! LLM (gen_ai) names, semantic conventions v1.44 (development). The
//! conventions crate marks its gen_ai constants deprecated (they moved to a
//! separate registry), so they are spelled here.

/// `chat`, `text_completion`, ...
pub const GEN_AI_OPERATION_NAME: &str = "gen_ai.operation.name";
/// `anthropic`, `openai`, ...
pub const GEN_AI_PROVIDER_NAME: &str = "gen_ai.provider.name";
/// The model the request asked for.
pub const GEN_AI_REQUEST_MODEL: &str = "gen_ai.request.model";
/// The model that answered.
pub const GEN_AI_RESPONSE_MODEL: &str = "gen_ai.response.model";
/// The provider's id of the completion (`msg_...`). Span only.
pub const GEN_AI_RESPONSE_ID: &str = "gen_ai.response.id";
/// Why generation stopped, one per choice (`end_turn`, `max_tokens`). Span only.
pub const GEN_AI_RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
/// Seconds from issuing a streaming request to its first output chunk. Span only.
pub const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
/// `max_tokens` of the request. Span only.
pub const GEN_AI_REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
/// `temperature` of the request. Span only.
pub const GEN_AI_REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
/// `top_p` of the request. Span only.
pub const GEN_AI_REQUEST_TOP_P: &str = "gen_ai.request.top_p";
/// `top_k` of the request. Span only.
pub const GEN_AI_REQUEST_TOP_K: &str = "gen_ai.request.top_k";
/// `stop_sequences` of the request. Span only.
pub const GEN_AI_REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
/// `true` when the request streams its answer. Span only.
pub const GEN_AI_REQUEST_STREAM: &str = "gen_ai.request.stream";
/// Input tokens, cached ones included (Anthropic: input + cache read +
/// cache creation). Span only.
pub const GEN_AI_USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// Output tokens. Span only.
pub const GEN_AI_USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// Input tokens served from the provider's prompt cache. Span only.
pub const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
/// Input tokens written to the provider's prompt cache. Span only.
pub const GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: &str =
    "gen_ai.usage.cache_creation.input_tokens";
/// Output tokens spent on reasoning (extended thinking), part of the
/// output tokens, when the provider reports them (Anthropic:
/// `usage.output_tokens_details.thinking_tokens`). Span only.
pub const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
/// Opt-in content: the chat history sent (JSON, capped). Span only.
pub const GEN_AI_INPUT_MESSAGES: &str = "gen_ai.input.messages";
/// Opt-in content: the model's answer (JSON, capped). Span only.
pub const GEN_AI_OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
/// Opt-in content: the system instructions (JSON, capped). Span only.
pub const GEN_AI_SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
/// `input` or `output` on `gen_ai.client.token.usage` and `wingspan.gen_ai.cost`.
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";

/// Histogram `s`: the duration of a gen_ai operation.
pub const GEN_AI_CLIENT_OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// Histogram `{token}`: tokens used, by `gen_ai.token.type`.
pub const GEN_AI_CLIENT_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
/// Histogram `s`: time to the first output chunk of a streaming call.
pub const GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK: &str =
    "gen_ai.client.operation.time_to_first_chunk";
/// Histogram `s`: time between output chunks of a streaming call, one
/// record per chunk after the first.
pub const GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK: &str =
    "gen_ai.client.operation.time_per_output_chunk";

/// The caller's low-cardinality label of what a call is for (`coach`,
/// `summary`); past the cap, `other`. Span and every gen_ai metric.
pub const WINGSPAN_GEN_AI_TASK: &str = "wingspan.gen_ai.task";
/// On input cost: `none` (uncached input), `read` (prompt-cache hits) or
/// `write` (prompt-cache creation).
pub const WINGSPAN_GEN_AI_CACHE: &str = "wingspan.gen_ai.cache";
/// Counter `{USD}`: what calls cost, by requested and answering model
/// (`gen_ai.request.model`, `gen_ai.response.model`), token type, cache
/// and task (`wingspan_gen_ai_cost_total`).
pub const WINGSPAN_GEN_AI_COST: &str = "wingspan.gen_ai.cost";
/// Counter `{call}`: calls whose cost is unknown, their model not in the
/// pricing table or no usage reported (`wingspan_gen_ai_unpriced_total`). Also a `true` span attribute.
pub const WINGSPAN_GEN_AI_UNPRICED: &str = "wingspan.gen_ai.unpriced";
/// The call's cost in USD. Span only.
pub const WINGSPAN_GEN_AI_COST_USD: &str = "wingspan.gen_ai.cost_usd";
/// The pricing-table entry a call was priced with. Span only.
pub const WINGSPAN_GEN_AI_PRICING_MODEL: &str = "wingspan.gen_ai.pricing.model";
