//! Integration tests.

mod cache;
mod db;
mod http;
mod support;
mod telemetry;
