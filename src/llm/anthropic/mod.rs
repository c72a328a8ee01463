//! A thin Anthropic Messages API adapter over the instrumented
//! [`HttpClient`](crate::client::HttpClient): one call sends a request, reads model, id, usage and stop
//! reason from the JSON answer or the SSE stream, retries 408/409/429/5xx/529
//! and timeouts (honouring `retry-after`, bounded), and fills the gen_ai
//! span. Not an SDK: text messages in, text out.
//!
//! ```no_run
//! # async fn f(telemetry: &wingspan::Telemetry) -> Result<(), Box<dyn std::error::Error>> {
//! use wingspan::llm::anthropic::{Anthropic, MessagesRequest, StreamEvent};
//! let claude = Anthropic::builder(telemetry).build()?; // ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
//! let request = MessagesRequest::new("claude-sonnet-4-5", 512)
//!     .system("You are terse.")
//!     .user("Summarise the week.")
//!     .temperature(0.2)
//!     .task("summary");
//! let message = claude.messages(&request).await?;
//! println!("{}", message.text());
//!
//! let mut stream = claude.stream(&request).await?;
//! while let Some(event) = stream.next().await? {
//!     if let StreamEvent::Text(delta) = event {
//!         print!("{delta}");
//!     }
//! }
//! # Ok(()) }
//! ```

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
