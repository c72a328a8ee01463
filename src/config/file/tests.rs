//! The translation, end to end through `Config::from_lookup`, and the
//! schema's own example files (tests/fixtures/otel-config).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::yaml::{self, Node};
use super::{map, translate, FileError, Vars};
use crate::config::{Compression, Config, ExporterSet, Sampler};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/otel-config/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `yaml` written to a file of its own, for `OTEL_CONFIG_FILE`.
fn file_with(test: &str, yaml: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("wingspan-{}-{test}.yaml", std::process::id()));
    std::fs::write(&path, yaml).unwrap();
    path
}

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

fn config(file: &str, env: &[(&str, &str)]) -> Result<Config, crate::config::ConfigError> {
    let mut vars = vec![("OTEL_CONFIG_FILE", file)];
    vars.extend_from_slice(env);
    Config::from_lookup(env_of(&vars))
}

fn vars_of(yaml: &str) -> BTreeMap<String, String> {
    translate(yaml, &|_| None).unwrap().values
}

fn refusal(yaml: &str) -> FileError {
    translate(yaml, &|_| None).unwrap_err()
}

const TRACES_HTTP: &str = "file_format: \"1.1\"\ntracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_http:\n            endpoint: http://collector:4318/v1/traces\n";

#[test]
fn sdk_config_example_loads_into_the_documented_values() {
    let cfg = config(&fixture("otel-sdk-config.yaml"), &[]).unwrap();
    let t = &cfg.telemetry;
    assert!(!t.sdk_disabled);
    assert_eq!(t.service_name, "unknown_service");
    assert_eq!(t.otlp.traces.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(t.otlp.metrics.endpoint, "http://localhost:4318/v1/metrics");
    assert_eq!(t.otlp.logs.endpoint, "http://localhost:4318/v1/logs");
    assert_eq!(t.sampler, Sampler::ParentBasedAlwaysOn);
    assert_eq!(t.batch.scheduled_delay, Duration::from_millis(5000));
    assert_eq!(t.batch.max_queue_size, 2048);
    assert_eq!(t.batch.max_export_batch_size, 512);
    assert_eq!(t.log_batch.scheduled_delay, Duration::from_millis(1000));
    assert_eq!(t.metric_export_interval, Duration::from_secs(60));
    assert_eq!(t.metric_export_timeout, Duration::from_secs(30));
    assert_eq!(t.traces_exporter, ExporterSet::OTLP);
    assert_eq!(t.metrics_exporter, ExporterSet::OTLP);
    assert_eq!(t.logs_exporter, ExporterSet::OTLP);
    assert_eq!(t.attribute_limits.span_value_length, None);

    let text = std::fs::read_to_string(fixture("otel-sdk-config.yaml")).unwrap();
    let vars = vars_of(&text);
    for (var, value) in [
        ("OTEL_PROPAGATORS", "tracecontext,baggage"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10000"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "cumulative",
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
            "explicit_bucket_histogram",
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "gzip"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "30000"),
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "128"),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "128"),
        ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "128"),
        ("OTEL_TRACES_SAMPLER", "parentbased_always_on"),
        ("OTEL_METRICS_EXPORTER", "otlp"),
    ] {
        assert_eq!(vars.get(var).map(String::as_str), Some(value), "{var}");
    }
    // Null keys (`ca_file:`) leave their variables unset.
    assert!(!vars.contains_key("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"));
    assert!(!vars.contains_key("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"));
}

#[test]
fn migration_example_reads_the_environment_only_through_its_references() {
    let file = fixture("otel-sdk-migration-config.yaml");
    let cfg = config(
        &file,
        &[
            ("OTEL_SERVICE_NAME", "checkout"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_BSP_SCHEDULE_DELAY", "2000"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=payments"),
            // Not referenced by the file: ignored while the file is in use.
            ("OTEL_TRACES_SAMPLER", "always_off"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://elsewhere:4318/x",
            ),
        ],
    )
    .unwrap();
    let t = &cfg.telemetry;
    assert_eq!(t.service_name, "checkout");
    assert_eq!(t.otlp.traces.endpoint, "http://collector:4318/v1/traces");
    assert_eq!(t.otlp.logs.endpoint, "http://collector:4318/v1/logs");
    assert_eq!(t.batch.scheduled_delay, Duration::from_millis(2000));
    assert_eq!(t.sampler, Sampler::ParentBasedAlwaysOn);
    assert_eq!(
        t.resource_attributes,
        vec![("team".into(), "payments".into())]
    );

    // With nothing set, the file's defaults.
    let cfg = config(&file, &[]).unwrap();
    assert_eq!(cfg.telemetry.service_name, "unknown_service");
    assert_eq!(
        cfg.telemetry.otlp.traces.endpoint,
        "http://localhost:4318/v1/traces"
    );
}

#[test]
fn getting_started_example_is_refused_at_resource_detection() {
    let err = config(&fixture("otel-getting-started.yaml"), &[]).unwrap_err();
    assert_eq!(err.variable, "OTEL_CONFIG_FILE");
    assert!(
        err.value.ends_with("at resource.detection/development"),
        "{err}"
    );
    assert!(
        err.expected.contains("attributes, attributes_list"),
        "{err}"
    );
}

/// Removes the node at `path` (`a.b[1].c`) from `root`.
fn remove(root: &mut Node, path: &str) {
    let mut node = root;
    let mut parts: Vec<(String, Option<usize>)> = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((key, index)) => {
                parts.push((key.to_owned(), None));
                parts.push((String::new(), index.trim_end_matches(']').parse().ok()));
            }
            None => parts.push((part.to_owned(), None)),
        }
    }
    let last = parts.pop().unwrap();
    for (key, index) in parts {
        node = match (node, index) {
            (Node::Seq(items), Some(i)) => &mut items[i],
            (Node::Map(entries), None) => {
                &mut entries.iter_mut().find(|(k, _)| *k == key).unwrap().1
            }
            (other, _) => panic!("{path}: {other:?}"),
        };
    }
    match (node, last.1) {
        (Node::Seq(items), Some(i)) => {
            items.remove(i);
        }
        (Node::Map(entries), None) => entries.retain(|(k, _)| *k != last.0),
        (other, _) => panic!("{path}: {other:?}"),
    }
}

#[test]
fn kitchen_sink_example_is_refused_part_by_part() {
    let text = std::fs::read_to_string(fixture("kitchen-sink.yaml")).unwrap();
    let mut root = yaml::load(&text, &|_| None).unwrap();
    let mut refused = Vec::new();
    loop {
        match map::model(&root, &mut Vars::default()) {
            Ok(()) => break,
            Err(e) => {
                assert!(!e.expected.is_empty());
                remove(&mut root, &e.path);
                refused.push(e.path);
            }
        }
        assert!(refused.len() < 100, "{refused:?}");
    }
    // What wingspan cannot honour, in the order it is refused (a path
    // repeats when removing one entry brings the next to its place).
    refused.dedup();
    assert_eq!(
        refused,
        [
            "distribution",
            "resource.detection/development",
            "resource.schema_url",
            "resource.attributes[5].type",
            "resource.attributes[5].value",
            "resource.attributes[6].type",
            "resource.attributes[6].value",
            "resource.attributes[7].type",
            "resource.attributes[7].value",
            "resource.attributes[8].type",
            "resource.attributes[8].value",
            "tracer_provider.tracer_configurator/development",
            "tracer_provider.processors[1]",
            "tracer_provider.sampler.parent_based.remote_parent_not_sampled.probability/development",
            "tracer_provider.sampler.parent_based.remote_parent_not_sampled",
            "tracer_provider.sampler.parent_based.local_parent_sampled.composite/development",
            "tracer_provider.sampler.parent_based.local_parent_sampled",
            "meter_provider.views",
            "meter_provider.meter_configurator/development",
            "meter_provider.readers[0].pull.producers",
            "meter_provider.readers[0].pull.cardinality_limits",
            "meter_provider.readers[0].pull.exporter.prometheus/development.without_scope_info",
            "meter_provider.readers[0].pull.exporter.prometheus/development.without_target_info",
            "meter_provider.readers[0].pull.exporter.prometheus/development.with_resource_constant_labels",
            "meter_provider.readers[0].pull.exporter.prometheus/development.translation_strategy",
            "meter_provider.readers[1].periodic.producers",
            "meter_provider.readers[1].periodic.cardinality_limits",
            "meter_provider.readers[2]",
            "logger_provider.logger_configurator/development",
            "logger_provider.processors[1]",
            "instrumentation/development.cpp",
            "instrumentation/development.dotnet",
            "instrumentation/development.erlang",
            "instrumentation/development.go",
            "instrumentation/development.java",
            "instrumentation/development.js",
            "instrumentation/development.php",
            "instrumentation/development.python",
            "instrumentation/development.ruby",
            "instrumentation/development.rust",
            "instrumentation/development.swift",
            "instrumentation/development.general.peer",
            "instrumentation/development.general.http",
        ]
    );
    // What is left (one batch processor per signal, a periodic OTLP reader
    // beside a Prometheus pull reader, the scalar resource attributes) loads.
    let mut vars = Vars::default();
    map::model(&root, &mut vars).unwrap();
    assert_eq!(vars.get("OTEL_METRICS_EXPORTER"), Some("otlp,prometheus"));
    assert_eq!(vars.get("OTEL_EXPORTER_PROMETHEUS_PORT"), Some("9464"));
    assert_eq!(
        vars.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
        Some("api-key=1234")
    );
}

#[test]
fn samplers_map_to_the_sampler_variables() {
    let with = |sampler: &str| {
        translate(&format!("{TRACES_HTTP}  sampler:\n{sampler}"), &|_| None).map(|v| {
            (
                v.get("OTEL_TRACES_SAMPLER").map(str::to_owned),
                v.get("OTEL_TRACES_SAMPLER_ARG").map(str::to_owned),
            )
        })
    };
    let some = |s: &str, arg: Option<&str>| Ok((Some(s.to_owned()), arg.map(str::to_owned)));
    assert_eq!(with("    always_off:\n"), some("always_off", None));
    assert_eq!(
        with("    trace_id_ratio_based:\n      ratio: 0.25\n"),
        some("traceidratio", Some("0.25"))
    );
    assert_eq!(
        with("    parent_based:\n      root:\n        trace_id_ratio_based:\n          ratio: 0.5\n      remote_parent_sampled:\n        always_on:\n"),
        some("parentbased_traceidratio", Some("0.5"))
    );
    assert_eq!(
        with("    parent_based:\n"),
        some("parentbased_always_on", None)
    );
    let err = with("    parent_based:\n      remote_parent_not_sampled:\n        always_on:\n")
        .unwrap_err();
    assert_eq!(
        err.path,
        "tracer_provider.sampler.parent_based.remote_parent_not_sampled"
    );
    assert!(err.expected.contains("always_off"), "{err:?}");
    let err = with("    always_on:\n    always_off:\n").unwrap_err();
    assert_eq!(err.path, "tracer_provider.sampler");
}

#[test]
fn a_grpc_exporter_maps_to_the_per_signal_variables() {
    let vars = vars_of(
        "file_format: \"1.0\"\nlogger_provider:\n  processors:\n    - batch:\n        schedule_delay: 200\n        exporter:\n          otlp_grpc:\n            endpoint: https://collector:4317\n            tls:\n              ca_file: /ca.pem\n              insecure: false\n            headers:\n              - name: api-key\n                value: \"s3cr,et\"\n              - name: dropped\n                value:\n            headers_list: api-key=old,x-team=core\n            compression: gzip\n            timeout: 0\n",
    );
    for (var, value) in [
        ("OTEL_LOGS_EXPORTER", "otlp"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "200"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https://collector:4317"),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", "/ca.pem"),
        ("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "false"),
        (
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
            "x-team=core,api-key=s3cr%2Cet",
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "gzip"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0"),
        // Providers the file leaves out export nothing, as in the model.
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_PROPAGATORS", "none"),
    ] {
        assert_eq!(vars.get(var).map(String::as_str), Some(value), "{var}");
    }
}

#[test]
fn what_wingspan_cannot_honour_is_refused_by_path() {
    let second = format!("{TRACES_HTTP}    - batch:\n        exporter:\n          console:\n");
    let simple = TRACES_HTTP.replace("- batch:", "- simple:");
    let zipkin = TRACES_HTTP.replace("otlp_http:", "zipkin:");
    let views =
        "file_format: \"1.1\"\nmeter_provider:\n  readers: []\n  views:\n    - selector: {}\n";
    for (yaml, path, accepted) in [
        (
            second.as_str(),
            "tracer_provider.processors[1]",
            "one batch processor",
        ),
        (
            simple.as_str(),
            "tracer_provider.processors[0].simple",
            "batch",
        ),
        (
            zipkin.as_str(),
            "tracer_provider.processors[0].batch.exporter.zipkin",
            "otlp_http, otlp_grpc, console",
        ),
        (views, "meter_provider.views", "readers"),
        ("file_format: \"2.0\"\n", "file_format", "major version 1"),
        ("disabled: false\n", "file_format", "major version 1"),
        (
            "file_format: \"1.1\"\nresource:\n  attributes:\n    - name: a\n      value: [1, 2]\n",
            "resource.attributes[0].value",
            "arrays are not supported",
        ),
    ] {
        let err = refusal(yaml);
        assert_eq!(err.path, path, "{yaml}");
        assert!(err.expected.contains(accepted), "{yaml}: {err:?}");
    }
}

#[test]
fn resource_attributes_merge_and_stay_parseable() {
    let vars = vars_of("file_format: \"1.1\"\nresource:\n  attributes_list: service.name=list,team=a%2Cb,tier=1\n  attributes:\n    - name: service.name\n      value: checkout\n    - name: tier\n      value: 2\n      type: int\n    - name: note\n      value: \"50% off, today\"\n");
    assert_eq!(
        vars.get("OTEL_SERVICE_NAME").map(String::as_str),
        Some("checkout")
    );
    assert_eq!(
        vars.get("OTEL_RESOURCE_ATTRIBUTES").map(String::as_str),
        Some("team=a%2Cb,tier=2,note=50%25%20off%2C%20today")
    );
}

#[test]
fn propagators_merge_without_duplicates() {
    let vars = vars_of("file_format: \"1.1\"\npropagator:\n  composite:\n    - tracecontext:\n    - baggage:\n  composite_list: baggage,b3\n");
    assert_eq!(
        vars.get("OTEL_PROPAGATORS").map(String::as_str),
        Some("tracecontext,baggage,b3")
    );
}

#[test]
fn errors_from_the_files_values_name_the_file_and_key_and_hide_headers() {
    let yaml = format!("{TRACES_HTTP}        schedule_delay: 1\n");
    let file = file_with("bad-delay", &yaml);
    // Lenient: a warning naming the file and the key, and the default.
    let cfg = config(file.to_str().unwrap(), &[]).unwrap();
    assert_eq!(
        cfg.telemetry.batch.scheduled_delay,
        Duration::from_millis(5000)
    );
    let warning = &cfg.warnings[0];
    assert_eq!(warning.variable, "OTEL_CONFIG_FILE");
    assert!(warning.value.contains("schedule_delay"), "{warning}");
    // Strict: the same, as an error.
    let err = config(
        file.to_str().unwrap(),
        &[("WINGSPAN_STRICT_CONFIG", "true")],
    )
    .unwrap_err();
    assert_eq!(err.variable, "OTEL_CONFIG_FILE");
    assert!(
        err.value
            .contains("at tracer_provider.processors[0].batch.schedule_delay"),
        "{err}"
    );
    assert!(err.expected.contains("OTEL_BSP_SCHEDULE_DELAY"), "{err}");

    let yaml = TRACES_HTTP.replace(
        "endpoint: http://collector:4318/v1/traces",
        "endpoint: x\n            headers_list: \"api-key hunter2\"",
    );
    let err = refusal(&yaml);
    assert_eq!(
        err.path,
        "tracer_provider.processors[0].batch.exporter.otlp_http.headers_list"
    );
    assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
    std::fs::remove_file(file).ok();
}

#[test]
fn the_file_decides_otel_variables_and_the_rest_come_from_the_environment() {
    let yaml = format!("{TRACES_HTTP}resource:\n  attributes:\n    - name: service.name\n      value: ${{SVC:-fallback}}\n");
    let file = file_with("overlay", &yaml);
    let cfg = config(
        file.to_str().unwrap(),
        &[
            ("SVC", "from-ref"),
            ("OTEL_SERVICE_NAME", "ignored"),
            ("OTEL_BSP_SCHEDULE_DELAY", "7"),
            ("WINGSPAN_ENV", "production"),
        ],
    )
    .unwrap();
    assert_eq!(cfg.telemetry.service_name, "from-ref");
    assert_eq!(
        cfg.telemetry.otlp.traces.endpoint,
        "http://collector:4318/v1/traces"
    );
    assert_eq!(
        cfg.telemetry.batch.scheduled_delay,
        Duration::from_millis(5000)
    );
    assert_eq!(cfg.profile, crate::config::Profile::Production);
    assert_eq!(cfg.telemetry.metrics_exporter, ExporterSet::default());
    assert_eq!(cfg.telemetry.otlp.traces.compression, Compression::None);
    std::fs::remove_file(file).ok();
}

#[test]
fn an_unreadable_file_names_the_variable_and_the_path() {
    let err = config("/nonexistent/otel.yaml", &[]).unwrap_err();
    assert_eq!(err.variable, "OTEL_CONFIG_FILE");
    assert_eq!(err.value, "/nonexistent/otel.yaml");
    // Empty is unset, as for every OTEL_* variable.
    assert!(config(" ", &[]).is_ok());
}
