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
/// `input` or `output` on `gen_ai.client.token.usage`.
pub const GEN_AI_TOKEN_TYPE: &str = "gen_ai.token.type";
/// Histogram `s`: the duration of a gen_ai operation.
pub const GEN_AI_CLIENT_OPERATION_DURATION: &str = "gen_ai.client.operation.duration";
/// Histogram `{token}`: tokens used, by `gen_ai.token.type`.
pub const GEN_AI_CLIENT_TOKEN_USAGE: &str = "gen_ai.client.token.usage";
