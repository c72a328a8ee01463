//! Integration tests.

mod cache;
mod db;
mod health;
mod http;
mod prometheus;
mod support;
mod telemetry;
