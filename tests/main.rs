//! Integration tests.

mod db;
mod support;
mod telemetry;
