//! Integration tests.

mod cache;
mod db;
mod http;
mod prometheus;
mod support;
mod telemetry;
