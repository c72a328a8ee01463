//! A thin Anthropic Messages API adapter over the instrumented
//! [`HttpClient`]: one call sends a request, reads model, id, usage and stop
//! reason from the JSON answer or the SSE stream, retries 408/409/429/5xx/529
//! and timeouts (honouring `retry-after`, bounded), and fills the gen_ai
//! span. Not an SDK: text messages in, text out.

mod builder;
mod error;
mod handle;
mod request;
mod sse;
mod stream;
mod wire;

pub use builder::AnthropicBuilder;
pub use error::{AnthropicError, BuildError};
pub use handle::{Anthropic, API_VERSION, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_EVENT_BYTES};
pub use request::MessagesRequest;
pub use stream::{MessageStream, StreamEvent};
pub use wire::{ContentBlock, InputMessage, Message};
