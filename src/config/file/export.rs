//! The three providers: their processors and readers, and the exporters
//! under them, as the per-signal `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_*`
//! variables. A provider the file leaves out exports nothing, as the
//! model's noop default says.

use super::map::{encode_pairs, limits, pairs, sampler};
use super::yaml::{Node, Obj};
use super::{FileError, Vars};

/// What differs between the signals' variables.
struct Signal {
    /// `OTEL_TRACES_EXPORTER`...
    exporter_var: &'static str,
    /// `TRACES` in `OTEL_EXPORTER_OTLP_TRACES_*`.
    otlp: &'static str,
    /// `OTEL_BSP` / `OTEL_BLRP`.
    batch: &'static str,
}

const TRACES: Signal = Signal {
    exporter_var: "OTEL_TRACES_EXPORTER",
    otlp: "TRACES",
    batch: "OTEL_BSP",
};
const LOGS: Signal = Signal {
    exporter_var: "OTEL_LOGS_EXPORTER",
    otlp: "LOGS",
    batch: "OTEL_BLRP",
};
const METRICS: Signal = Signal {
    exporter_var: "OTEL_METRICS_EXPORTER",
    otlp: "METRICS",
    batch: "",
};

pub(super) fn tracer_provider(node: Option<&Node>, vars: &mut Vars) -> Result<(), FileError> {
    let path = "tracer_provider";
    let Some(node) = node else {
        vars.set(TRACES.exporter_var, Some("none".into()), path);
        return Ok(());
    };
    let tp = Obj::new(node, path, &["processors", "limits", "sampler"])?;
    processors(
        tp.get("processors"),
        &tp.path_of("processors"),
        &TRACES,
        vars,
    )?;
    if let Some(node) = tp.get("limits") {
        limits(
            node,
            &tp.path_of("limits"),
            &[
                (
                    "attribute_value_length_limit",
                    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                ),
                ("attribute_count_limit", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"),
                ("event_count_limit", "OTEL_SPAN_EVENT_COUNT_LIMIT"),
                ("link_count_limit", "OTEL_SPAN_LINK_COUNT_LIMIT"),
                (
                    "event_attribute_count_limit",
                    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
                ),
                (
                    "link_attribute_count_limit",
                    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
                ),
            ],
            vars,
        )?;
    }
    if let Some(node) = tp.get("sampler") {
        sampler(node, &tp.path_of("sampler"), vars)?;
    }
    Ok(())
}

pub(super) fn logger_provider(node: Option<&Node>, vars: &mut Vars) -> Result<(), FileError> {
    let path = "logger_provider";
    let Some(node) = node else {
        vars.set(LOGS.exporter_var, Some("none".into()), path);
        return Ok(());
    };
    let lp = Obj::new(node, path, &["processors", "limits"])?;
    processors(lp.get("processors"), &lp.path_of("processors"), &LOGS, vars)?;
    if let Some(node) = lp.get("limits") {
        limits(
            node,
            &lp.path_of("limits"),
            &[
                (
                    "attribute_value_length_limit",
                    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                ),
                (
                    "attribute_count_limit",
                    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
                ),
            ],
            vars,
        )?;
    }
    Ok(())
}

/// A span or log record processor list: wingspan runs one batch processor
/// per signal, so one `batch` entry at most.
fn processors(
    node: Option<&Node>,
    path: &str,
    signal: &Signal,
    vars: &mut Vars,
) -> Result<(), FileError> {
    let items = match node {
        None | Some(Node::Null) => &[][..],
        Some(Node::Seq(items)) => items.as_slice(),
        Some(_) => return Err(FileError::new(path, "a list of processors")),
    };
    let Some(first) = items.first() else {
        vars.set(signal.exporter_var, Some("none".into()), path);
        return Ok(());
    };
    if items.len() > 1 {
        return Err(FileError::new(
            &format!("{path}[1]"),
            "a single processor: wingspan exports each signal through one batch processor",
        ));
    }
    let item = Obj::new(first, &format!("{path}[0]"), &["batch"])?;
    let batch = Obj::new(
        item.get("batch").unwrap_or(&Node::Null),
        &item.path_of("batch"),
        &[
            "schedule_delay",
            "export_timeout",
            "max_queue_size",
            "max_export_batch_size",
            "exporter",
        ],
    )?;
    for (key, suffix) in [
        ("schedule_delay", "SCHEDULE_DELAY"),
        ("export_timeout", "EXPORT_TIMEOUT"),
        ("max_queue_size", "MAX_QUEUE_SIZE"),
        ("max_export_batch_size", "MAX_EXPORT_BATCH_SIZE"),
    ] {
        let var = format!("{}_{suffix}", signal.batch);
        vars.set(&var, batch.scalar(key)?, &batch.path_of(key));
    }
    push_exporter(
        batch.get("exporter"),
        &batch.path_of("exporter"),
        signal,
        vars,
    )
}

pub(super) fn meter_provider(node: Option<&Node>, vars: &mut Vars) -> Result<(), FileError> {
    let path = "meter_provider";
    let Some(node) = node else {
        vars.set(METRICS.exporter_var, Some("none".into()), path);
        return Ok(());
    };
    let mp = Obj::new(node, path, &["readers", "exemplar_filter"])?;
    if let Some(filter) = mp.scalar("exemplar_filter")? {
        if filter != "trace_based" {
            return Err(FileError::new(
                &mp.path_of("exemplar_filter"),
                "trace_based (the SDK's filter, which wingspan does not change)",
            ));
        }
    }
    let readers_path = mp.path_of("readers");
    let items = match mp.get("readers") {
        None | Some(Node::Null) => &[][..],
        Some(Node::Seq(items)) => items.as_slice(),
        Some(_) => return Err(FileError::new(&readers_path, "a list of readers")),
    };
    let (mut push, mut pull) = (None::<String>, false);
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{readers_path}[{i}]");
        let reader = Obj::new(item, &item_path, &["periodic", "pull"])?;
        let (kind, inner) = reader.only()?;
        let inner_path = reader.path_of(kind);
        let taken = if kind == "periodic" {
            push.is_some()
        } else {
            pull
        };
        if taken {
            return Err(FileError::new(
                &item_path,
                "at most one periodic reader and one pull reader",
            ));
        }
        if kind == "periodic" {
            let periodic = Obj::new(inner, &inner_path, &["interval", "timeout", "exporter"])?;
            vars.set(
                "OTEL_METRIC_EXPORT_INTERVAL",
                periodic.scalar("interval")?,
                &periodic.path_of("interval"),
            );
            vars.set(
                "OTEL_METRIC_EXPORT_TIMEOUT",
                periodic.scalar("timeout")?,
                &periodic.path_of("timeout"),
            );
            push = Some(exporter_name(
                periodic.get("exporter"),
                &periodic.path_of("exporter"),
            )?);
            push_exporter(
                periodic.get("exporter"),
                &periodic.path_of("exporter"),
                &METRICS,
                vars,
            )?;
        } else {
            pull = true;
            prometheus(inner, &inner_path, vars)?;
        }
    }
    let exporters: Vec<String> = push
        .into_iter()
        .chain(pull.then(|| "prometheus".to_owned()))
        .collect();
    let value = if exporters.is_empty() {
        "none".to_owned()
    } else {
        exporters.join(",")
    };
    vars.set(METRICS.exporter_var, Some(value), &readers_path);
    Ok(())
}

/// `pull.exporter.prometheus/development` (`prometheus` in the release
/// candidates): where the pull endpoint listens.
fn prometheus(node: &Node, path: &str, vars: &mut Vars) -> Result<(), FileError> {
    let pull = Obj::new(node, path, &["exporter"])?;
    let exporter = Obj::new(
        pull.get("exporter").unwrap_or(&Node::Null),
        &pull.path_of("exporter"),
        &["prometheus/development", "prometheus"],
    )?;
    let (key, inner) = exporter.only()?;
    let prom = Obj::new(inner, &exporter.path_of(key), &["host", "port"])?;
    vars.set(
        "OTEL_EXPORTER_PROMETHEUS_HOST",
        prom.scalar("host")?,
        &prom.path_of("host"),
    );
    vars.set(
        "OTEL_EXPORTER_PROMETHEUS_PORT",
        prom.scalar("port")?,
        &prom.path_of("port"),
    );
    Ok(())
}

/// The exporter's `OTEL_*_EXPORTER` value.
fn exporter_name(node: Option<&Node>, path: &str) -> Result<String, FileError> {
    let obj = Obj::new(
        node.unwrap_or(&Node::Null),
        path,
        &["otlp_http", "otlp_grpc", "console"],
    )?;
    let (key, _) = obj.only()?;
    Ok(if key == "console" { "console" } else { "otlp" }.to_owned())
}

/// A push exporter: `otlp_http`, `otlp_grpc` or `console`.
fn push_exporter(
    node: Option<&Node>,
    path: &str,
    signal: &Signal,
    vars: &mut Vars,
) -> Result<(), FileError> {
    let name = exporter_name(node, path)?;
    vars.set(signal.exporter_var, Some(name), path);
    let obj = Obj::new(
        node.unwrap_or(&Node::Null),
        path,
        &["otlp_http", "otlp_grpc", "console"],
    )?;
    let (key, inner) = obj.only()?;
    let path = obj.path_of(key);
    let grpc = key == "otlp_grpc";
    let mut allowed = vec![
        "endpoint",
        "tls",
        "headers",
        "headers_list",
        "compression",
        "timeout",
    ];
    if !grpc {
        allowed.push("encoding");
    }
    if signal.otlp == "METRICS" {
        allowed.extend(["temporality_preference", "default_histogram_aggregation"]);
    }
    if key == "console" {
        return Obj::new(inner, &path, &[]).map(drop);
    }
    let otlp = Obj::new(inner, &path, &allowed)?;
    let var = |suffix: &str| format!("OTEL_EXPORTER_OTLP_{}_{suffix}", signal.otlp);
    let protocol = match otlp.scalar("encoding")?.as_deref() {
        _ if grpc => "grpc",
        None | Some("protobuf") => "http/protobuf",
        Some("json") => "http/json",
        Some(_) => {
            return Err(FileError::new(
                &otlp.path_of("encoding"),
                "protobuf or json",
            ))
        }
    };
    vars.set(&var("PROTOCOL"), Some(protocol.to_owned()), &path);
    for (key, suffix) in [
        ("endpoint", "ENDPOINT"),
        ("compression", "COMPRESSION"),
        ("timeout", "TIMEOUT"),
        ("temporality_preference", "TEMPORALITY_PREFERENCE"),
        (
            "default_histogram_aggregation",
            "DEFAULT_HISTOGRAM_AGGREGATION",
        ),
    ] {
        vars.set(&var(suffix), otlp.scalar(key)?, &otlp.path_of(key));
    }
    if let Some(node) = otlp.get("tls") {
        let mut keys = vec!["ca_file", "key_file", "cert_file"];
        if grpc {
            keys.push("insecure");
        }
        let tls = Obj::new(node, &otlp.path_of("tls"), &keys)?;
        for (key, suffix) in [
            ("ca_file", "CERTIFICATE"),
            ("key_file", "CLIENT_KEY"),
            ("cert_file", "CLIENT_CERTIFICATE"),
            ("insecure", "INSECURE"),
        ] {
            vars.set(&var(suffix), tls.scalar(key)?, &tls.path_of(key));
        }
    }
    headers(&otlp, &var("HEADERS"), vars)
}

/// `headers` (name/value entries) over `headers_list`. Header values are
/// secrets: no error shows one.
fn headers(otlp: &Obj<'_>, var: &str, vars: &mut Vars) -> Result<(), FileError> {
    let list_path = otlp.path_of("headers_list");
    let mut all = match otlp.scalar("headers_list")? {
        Some(list) => pairs(&list, &list_path)?,
        None => Vec::new(),
    };
    if let Some(node) = otlp.get("headers") {
        let path = otlp.path_of("headers");
        let Node::Seq(items) = node else {
            return Err(FileError::new(&path, "a list of {name, value} entries"));
        };
        for (i, item) in items.iter().enumerate() {
            let entry = Obj::new(item, &format!("{path}[{i}]"), &["name", "value"])?;
            let name = entry
                .scalar("name")?
                .filter(|n| !n.contains([',', '=']))
                .ok_or_else(|| FileError::new(&entry.path_of("name"), "a header name"))?;
            let value = entry
                .scalar("value")
                .map_err(|_| FileError::new(&entry.path_of("value"), "a single value"))?;
            all.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
            // A null value removes the header, as the schema says.
            if let Some(value) = value {
                all.push((name, value));
            }
        }
    }
    if !all.is_empty() {
        vars.set(var, Some(encode_pairs(&all)), &otlp.path);
    }
    Ok(())
}

/// The general `OTEL_EXPORTER_OTLP_PROTOCOL` too when every exporter of the
/// file uses the same protocol, for a reader of the general variable only.
pub(super) fn agree_on_protocol(vars: &mut Vars) {
    let set: Vec<(String, String)> = ["TRACES", "METRICS", "LOGS"]
        .iter()
        .filter_map(|s| {
            let var = format!("OTEL_EXPORTER_OTLP_{s}_PROTOCOL");
            let value = vars.get(&var)?.to_owned();
            Some((value, vars.origins.get(&var).cloned().unwrap_or_default()))
        })
        .collect();
    if let Some((first, origin)) = set.first() {
        if set.iter().all(|(p, _)| p == first) {
            let (first, origin) = (first.clone(), origin.clone());
            vars.set("OTEL_EXPORTER_OTLP_PROTOCOL", Some(first), &origin);
        }
    }
}
