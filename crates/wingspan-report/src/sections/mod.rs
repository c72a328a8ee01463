//! One module per report section: its queries and what it makes of them.

pub mod alerts;
pub mod cache;
pub mod latency;
pub mod llm;
pub mod pipeline;
pub mod pool;
pub mod statements;
pub mod traffic;
