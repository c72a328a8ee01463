//! Integration tests.

mod db;
mod http;
mod support;
mod telemetry;
