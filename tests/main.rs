//! Integration tests.

mod cache;
mod db;
mod faults;
mod health;
mod http;
mod llm;
mod prometheus;
mod report;
mod support;
mod telemetry;
mod wingman;
