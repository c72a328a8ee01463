//! Attributes shared by several signals.

pub use opentelemetry_semantic_conventions::attribute::{
    CODE_FILE_PATH, CODE_FUNCTION_NAME, CODE_LINE_NUMBER, ERROR_TYPE, EXCEPTION_MESSAGE,
    SERVER_ADDRESS, SERVER_PORT,
};

/// `error.type` of a call whose future was dropped before it finished.
pub const ERROR_CANCELED: &str = "canceled";
/// `error.type` of a call that hit its time bound.
pub const ERROR_TIMEOUT: &str = "timeout";
/// `error.type` of items a collector rejected in a partial success, which
/// gave no reason the conventions could use.
pub const ERROR_REJECTED: &str = "rejected";
/// `error.type` when no better class is known (the conventions' fallback).
pub const ERROR_OTHER: &str = "_OTHER";

/// The value standing for every name past a cap: `wingspan.cache.name`,
/// `wingspan.gen_ai.task`, and the rows of the in-process view.
pub const OTHER: &str = "other";
