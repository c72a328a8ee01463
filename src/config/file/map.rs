//! The top of the model: format version, resource, propagators, sampler
//! and limits. The processors, readers and exporters are in `export`.

use super::export;
use super::yaml::{Node, Obj};
use super::{FileError, Vars};
use crate::config::percent_decode;

/// The `file_format` major version wingspan reads (schema 1.0 and 1.1).
const MAJOR: &str = "1";

pub(super) fn model(root: &Node, vars: &mut Vars) -> Result<(), FileError> {
    let top = Obj::new(
        root,
        "",
        &[
            "file_format",
            "disabled",
            "log_level",
            "resource",
            "attribute_limits",
            "propagator",
            "tracer_provider",
            "meter_provider",
            "logger_provider",
            "instrumentation/development",
        ],
    )?;
    file_format(&top)?;
    vars.set("OTEL_SDK_DISABLED", top.scalar("disabled")?, "disabled");
    // The SDK's own diagnostics level; wingspan's follow RUST_LOG.
    vars.set("OTEL_LOG_LEVEL", top.scalar("log_level")?, "log_level");
    if let Some(node) = top.get("resource") {
        resource(node, vars)?;
    }
    if let Some(node) = top.get("attribute_limits") {
        limits(
            node,
            "attribute_limits",
            &[
                (
                    "attribute_value_length_limit",
                    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                ),
                ("attribute_count_limit", "OTEL_ATTRIBUTE_COUNT_LIMIT"),
            ],
            vars,
        )?;
    }
    match top.get("propagator") {
        Some(node) => propagator(node, vars)?,
        // The model's default is a noop propagator.
        None => vars.set("OTEL_PROPAGATORS", Some("none".into()), "propagator"),
    }
    export::tracer_provider(top.get("tracer_provider"), vars)?;
    export::meter_provider(top.get("meter_provider"), vars)?;
    export::logger_provider(top.get("logger_provider"), vars)?;
    if let Some(node) = top.get("instrumentation/development") {
        let path = "instrumentation/development";
        let inst = Obj::new(node, path, &["general"])?;
        if let Some(general) = inst.get("general") {
            let general = Obj::new(
                general,
                &inst.path_of("general"),
                &["stability_opt_in_list"],
            )?;
            vars.set(
                "OTEL_SEMCONV_STABILITY_OPT_IN",
                general.scalar("stability_opt_in_list")?,
                &general.path_of("stability_opt_in_list"),
            );
        }
    }
    export::agree_on_protocol(vars);
    Ok(())
}

/// `file_format` is required; a major version other than 1 may mean
/// anything, so it is refused rather than guessed at.
fn file_format(top: &Obj<'_>) -> Result<(), FileError> {
    let expected = format!("a file_format of major version {MAJOR} (\"1.0\", \"1.1\")");
    let Some(version) = top.scalar("file_format")? else {
        return Err(FileError::new("file_format", &expected));
    };
    let major = version.split(['.', '-']).next().unwrap_or("");
    if major != MAJOR {
        return Err(FileError::new(
            "file_format",
            &format!("{expected}, not {version:?}"),
        ));
    }
    Ok(())
}

/// `resource.attributes` and `.attributes_list` (the former wins for a
/// name in both): `service.name` becomes `OTEL_SERVICE_NAME`, the rest
/// `OTEL_RESOURCE_ATTRIBUTES`, whose values are strings.
fn resource(node: &Node, vars: &mut Vars) -> Result<(), FileError> {
    let res = Obj::new(node, "resource", &["attributes", "attributes_list"])?;
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut put = |k: String, v: String| match attrs.iter_mut().find(|(key, _)| *key == k) {
        Some(slot) => slot.1 = v,
        None => attrs.push((k, v)),
    };
    let list_path = res.path_of("attributes_list");
    if let Some(list) = res.scalar("attributes_list")? {
        for (k, v) in pairs(&list, &list_path)? {
            put(k, v);
        }
    }
    if let Some(node) = res.get("attributes") {
        let path = res.path_of("attributes");
        let Node::Seq(items) = node else {
            return Err(FileError::new(
                &path,
                "a list of {name, value, type} entries",
            ));
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let entry = Obj::new(item, &item_path, &["name", "value", "type"])?;
            let Some(name) = entry.scalar("name")?.filter(|n| !n.contains([',', '='])) else {
                return Err(FileError::new(
                    &entry.path_of("name"),
                    "an attribute name without ',' or '='",
                ));
            };
            if let Some(kind) = entry.scalar("type")? {
                if !["string", "bool", "int", "double"].contains(&kind.as_str()) {
                    return Err(FileError::new(
                        &entry.path_of("type"),
                        "string, bool, int or double (resource attributes are passed as \
                         OTEL_RESOURCE_ATTRIBUTES strings; arrays are not supported)",
                    ));
                }
            }
            // A null value drops the entry, as for headers.
            if let Some(value) = entry.scalar("value").map_err(|_| {
                FileError::new(
                    &entry.path_of("value"),
                    "a single value (arrays are not supported)",
                )
            })? {
                put(name, value);
            }
        }
    }
    let mut rest = Vec::new();
    for (k, v) in attrs {
        if k == "service.name" {
            vars.set("OTEL_SERVICE_NAME", Some(v), "resource");
        } else {
            rest.push((k, v));
        }
    }
    if !rest.is_empty() {
        vars.set(
            "OTEL_RESOURCE_ATTRIBUTES",
            Some(encode_pairs(&rest)),
            "resource",
        );
    }
    Ok(())
}

/// `propagator.composite` (one-key entries) then `.composite_list`, with
/// duplicates dropped.
fn propagator(node: &Node, vars: &mut Vars) -> Result<(), FileError> {
    let prop = Obj::new(node, "propagator", &["composite", "composite_list"])?;
    let mut names: Vec<String> = Vec::new();
    if let Some(node) = prop.get("composite") {
        let path = prop.path_of("composite");
        let Node::Seq(items) = node else {
            return Err(FileError::new(
                &path,
                "a list of propagators (- tracecontext:)",
            ));
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let entry = Obj::new(
                item,
                &item_path,
                &[
                    "tracecontext",
                    "baggage",
                    "b3",
                    "b3multi",
                    "jaeger",
                    "ottrace",
                    "xray",
                ],
            )?;
            let (name, options) = entry.only()?;
            if !matches!(options, Node::Null) && options != &Node::Map(Vec::new()) {
                return Err(FileError::new(&entry.path_of(name), "no options"));
            }
            names.push(name.to_owned());
        }
    }
    if let Some(list) = prop.scalar("composite_list")? {
        names.extend(
            list.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        );
    }
    let mut unique: Vec<String> = Vec::new();
    for n in names {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    let value = if unique.is_empty() {
        "none".to_owned()
    } else {
        unique.join(",")
    };
    vars.set("OTEL_PROPAGATORS", Some(value), "propagator");
    Ok(())
}

/// A limits object whose keys map one to one onto variables.
pub(super) fn limits(
    node: &Node,
    path: &str,
    keys: &[(&str, &str)],
    vars: &mut Vars,
) -> Result<(), FileError> {
    let allowed: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    let obj = Obj::new(node, path, &allowed)?;
    for (key, var) in keys {
        vars.set(var, obj.scalar(key)?, &obj.path_of(key));
    }
    Ok(())
}

/// `tracer_provider.sampler`: the shapes `OTEL_TRACES_SAMPLER` can say.
pub(super) fn sampler(node: &Node, path: &str, vars: &mut Vars) -> Result<(), FileError> {
    const KINDS: &[&str] = &[
        "always_on",
        "always_off",
        "trace_id_ratio_based",
        "parent_based",
    ];
    let obj = Obj::new(node, path, KINDS)?;
    let (kind, inner) = obj.only()?;
    let inner_path = obj.path_of(kind);
    let (name, ratio) = match kind {
        "parent_based" => {
            let pb = Obj::new(
                inner,
                &inner_path,
                &[
                    "root",
                    "remote_parent_sampled",
                    "remote_parent_not_sampled",
                    "local_parent_sampled",
                    "local_parent_not_sampled",
                ],
            )?;
            // Only the defaults: OTEL_TRACES_SAMPLER cannot say otherwise.
            for (key, default) in [
                ("remote_parent_sampled", "always_on"),
                ("remote_parent_not_sampled", "always_off"),
                ("local_parent_sampled", "always_on"),
                ("local_parent_not_sampled", "always_off"),
            ] {
                if let Some(node) = pb.get(key) {
                    let p = pb.path_of(key);
                    let (k, v) = Obj::new(node, &p, KINDS)?.only()?;
                    if k != default || !empty(v) {
                        return Err(FileError::new(
                            &p,
                            &format!("{default} (the only {key} sampler wingspan supports)"),
                        ));
                    }
                }
            }
            let (root, ratio) = match pb.get("root") {
                None => ("always_on", None),
                Some(node) => simple_sampler(node, &pb.path_of("root"))?,
            };
            (format!("parentbased_{root}"), ratio)
        }
        _ => {
            let (name, ratio) = simple_sampler(node, path)?;
            (name.to_owned(), ratio)
        }
    };
    vars.set("OTEL_TRACES_SAMPLER", Some(name), path);
    vars.set("OTEL_TRACES_SAMPLER_ARG", ratio, path);
    Ok(())
}

/// A non-parent-based sampler: its `OTEL_TRACES_SAMPLER` suffix and ratio.
fn simple_sampler(node: &Node, path: &str) -> Result<(&'static str, Option<String>), FileError> {
    let obj = Obj::new(
        node,
        path,
        &["always_on", "always_off", "trace_id_ratio_based"],
    )?;
    let (kind, inner) = obj.only()?;
    let inner_path = obj.path_of(kind);
    Ok(match kind {
        "always_on" | "always_off" => {
            Obj::new(inner, &inner_path, &[])?;
            (
                if kind == "always_on" {
                    "always_on"
                } else {
                    "always_off"
                },
                None,
            )
        }
        _ => {
            let ratio = Obj::new(inner, &inner_path, &["ratio"])?;
            // The schema's default ratio is 1.0.
            let value = ratio.scalar("ratio")?.unwrap_or_else(|| "1".to_owned());
            ("traceidratio", Some(value))
        }
    })
}

fn empty(node: &Node) -> bool {
    matches!(node, Node::Null) || node == &Node::Map(Vec::new())
}

/// `k=v,k=v` as in `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_EXPORTER_OTLP_HEADERS`,
/// values percent-decoded. Errors never show the text: it may hold secrets.
pub(super) fn pairs(text: &str, path: &str) -> Result<Vec<(String, String)>, FileError> {
    let bad = || {
        FileError::new(
            path,
            "comma-separated key=value pairs with valid percent-encoding",
        )
    };
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = item.split_once('=').ok_or_else(bad)?;
        let k = k.trim();
        if k.is_empty() {
            return Err(bad());
        }
        out.push((k.to_owned(), percent_decode(v.trim()).map_err(|_| bad())?));
    }
    Ok(out)
}

/// Pairs written back in the variables' format: values percent-encoded
/// wherever they could be misread (`,`, `%`, spaces, non-ASCII).
pub(super) fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_graphic() && b != b',' && b != b'%' {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}
