//! The layer table of the crate-root docs, enforced: every top-level module
//! is in exactly one layer, and every path a module's files name
//! (`crate::<m>` in code and doc links, `use crate::{<m>, ...}` groups,
//! `super::` chains that leave the module, the root's re-exports such as
//! `crate::Telemetry`) points to its own module or to a lower layer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the table lives: the crate-root docs.
const LIB: &str = "src/lib.rs";

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module → layer, from the rows `//! | <n> | <modules> | <why> |` of
/// src/lib.rs (each module in backticks, linked or not).
fn table(lib: &str) -> BTreeMap<String, usize> {
    let mut layers = BTreeMap::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! | ") else {
            continue;
        };
        let mut cells = row.split('|');
        let (Some(n), Some(modules)) = (cells.next(), cells.next()) else {
            continue;
        };
        let Ok(n) = n.trim().parse::<usize>() else {
            continue;
        };
        for name in modules.split('`').skip(1).step_by(2) {
            let previous = layers.insert(name.to_owned(), n);
            assert!(previous.is_none(), "{name} is in two layers");
        }
    }
    layers
}

/// The modules src/lib.rs declares (`mod x;`, `pub mod x;`, ...), except
/// the ones compiled for tests only.
fn declared(lib: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut test_only = false;
    for line in lib.lines().map(str::trim) {
        if line.starts_with("#[cfg(test)]") {
            test_only = true;
            continue;
        }
        if line.starts_with("#[") {
            continue;
        }
        if let Some(name) = line
            .strip_suffix(';')
            .and_then(|l| l.rsplit_once("mod "))
            .filter(|(vis, _)| vis.is_empty() || vis.starts_with("pub"))
            .map(|(_, name)| name)
        {
            if !test_only {
                out.push(name.to_owned());
            }
        }
        test_only = false;
    }
    out
}

/// What the root re-exports, by name: `pub use config::{Config, ...};`.
fn root_items(lib: &str) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.strip_prefix("pub use ") else {
            continue;
        };
        let rest = rest.trim_end_matches(';');
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            items.insert(name.trim().to_owned(), module.to_owned());
        }
    }
    items
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The leading identifier of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The first path segment of each item of a `{...}` group that starts `s`
/// (nested groups skipped), and the rest of `s` after the group.
fn group_heads(s: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => {
                depth += 1;
                start = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => start = true,
            c if start && depth == 1 && !c.is_whitespace() => {
                heads.push(ident(&s[i..]));
                start = false;
            }
            _ => {}
        }
    }
    heads
}

/// The top-level modules (or root items) `text` names: `crate::x`,
/// `crate::{x, y::z}`, and `super::` chains that climb `depth` levels or
/// more (the file's module path is `depth` deep).
fn targets(text: &str, depth: usize) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let before = &rest[..i];
            let after = &rest[i + "crate::".len()..];
            // `$crate::` and `wingspan_crate::` are not this crate's root.
            if !before.ends_with(|c: char| c == '$' || c == '_' || c.is_ascii_alphanumeric()) {
                if after.starts_with('{') {
                    out.extend(
                        group_heads(after)
                            .into_iter()
                            .map(|h| (n + 1, h.to_owned())),
                    );
                } else {
                    out.push((n + 1, ident(after).to_owned()));
                }
            }
            rest = after;
        }
        let mut rest = line;
        while let Some(i) = rest.find("super::") {
            let before = &rest[..i];
            let mut after = &rest[i..];
            let mut climbs = 0;
            while let Some(a) = after.strip_prefix("super::") {
                climbs += 1;
                after = a;
            }
            if climbs >= depth && !before.ends_with(|c: char| c == '_' || c.is_ascii_alphanumeric())
            {
                out.push((n + 1, ident(after).to_owned()));
            }
            rest = after;
        }
    }
    out
}

/// How deep the module of `file` (relative to src/) is: `x.rs` and
/// `x/mod.rs` are 1, `x/y.rs` 2.
fn depth(file: &Path) -> usize {
    let parts = file.components().count();
    if file.ends_with("mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// Every path that reaches a module of the same or a higher layer, as
/// `file:line: module (layer) -> target (layer)`.
fn violations(src: &Path, lib: &str) -> Vec<String> {
    let layers = table(lib);
    let roots = root_items(lib);
    let mut all = Vec::new();
    files(src, &mut all);
    all.sort();
    let mut out = Vec::new();
    for file in all {
        let rel = file.strip_prefix(src).unwrap_or(&file).to_path_buf();
        let module = ident(rel.to_str().unwrap_or_default()).to_owned();
        if rel == Path::new("lib.rs") || module == "bin" || module == "layering" {
            continue;
        }
        let Some(&own) = layers.get(&module) else {
            out.push(format!(
                "{}: module `{module}` is in no layer",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (line, target) in targets(&text, depth(&rel)) {
            let target = match roots.get(&target) {
                Some(module) => module.clone(),
                None => target,
            };
            let Some(&theirs) = layers.get(&target) else {
                continue; // not a module: `crate::self`, `super::*`, an inline module's item
            };
            if target != module && theirs >= own {
                out.push(format!(
                    "{}:{line}: {module} (layer {own}) names {target} (layer {theirs})",
                    rel.display()
                ));
            }
        }
    }
    out
}

#[test]
fn every_module_has_a_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect(LIB);
    let layers = table(&lib);
    let declared = declared(&lib);
    let mut missing: Vec<&String> = declared
        .iter()
        .filter(|m| !layers.contains_key(*m))
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "modules without a layer in {LIB}: {missing:?}"
    );
    let stale: Vec<&String> = layers.keys().filter(|m| !declared.contains(m)).collect();
    assert!(
        stale.is_empty(),
        "layers of modules {LIB} does not declare: {stale:?}"
    );
}

#[test]
fn no_module_names_one_of_its_layer_or_above() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect(LIB);
    let found = violations(&src(), &lib);
    assert!(
        found.is_empty(),
        "imports against the layer table of {LIB}:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_sees_every_form_of_path() {
    let text = "use crate::{config::Env, health::{Check}, names};\n\
                /// [`Pool`](crate::db::Pool)\n\
                let t: crate::Telemetry;\n\
                use super::super::cache::Cache;\n\
                use super::Shared;\n\
                $crate::names::X; my_crate::http::Y;";
    let found: Vec<String> = targets(text, 2).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        found,
        ["config", "health", "names", "db", "Telemetry", "cache"]
    );
    assert_eq!(depth(Path::new("db/rls/mod.rs")), 2);
    assert_eq!(depth(Path::new("text.rs")), 1);
}
