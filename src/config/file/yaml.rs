//! The file's YAML, loaded into a small tree with substitution done.
//!
//! Scalars are read as written (saphyr without early parsing), substituted,
//! and only then given a type, as the data model requires: a plain
//! `${PORT}` becomes an integer when `PORT=4318`, a quoted `"${PORT}"` stays
//! a string, and an undefined variable leaves a plain scalar null.

use saphyr::{Scalar, ScalarStyle, Yaml, YamlLoader};

use super::substitute::substitute;
use super::FileError;

/// A YAML node after substitution.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// In file order; saphyr refuses duplicate keys.
    Map(Vec<(String, Node)>),
}

/// Parses `text` (one YAML document) with references resolved through `lookup`.
pub(super) fn load(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Node, FileError> {
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    let mut loader: YamlLoader<'_, Yaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    let syntax = |e: &saphyr::ScanError| FileError::new("", &format!("valid YAML ({e})"));
    parser.load(&mut loader, true).map_err(|e| syntax(&e))?;
    if let Some(e) = loader.error() {
        return Err(syntax(e));
    }
    let mut docs = loader.into_documents();
    if docs.len() != 1 {
        return Err(FileError::new(
            "",
            &format!("exactly one YAML document, found {}", docs.len()),
        ));
    }
    convert(docs.remove(0), "", lookup)
}

fn convert(
    yaml: Yaml<'_>,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Node, FileError> {
    Ok(match yaml {
        Yaml::Representation(text, style, tag) => {
            let text = substitute(&text, lookup).map_err(|reference| {
                FileError::new(
                    path,
                    &format!(
                        "valid substitution references (${{VAR}}, ${{env:VAR}}, \
                         ${{VAR:-default}}, $$ for $), not {reference}"
                    ),
                )
            })?;
            let style = if style == ScalarStyle::Plain {
                ScalarStyle::Plain
            } else {
                // Any quoted or block scalar is a string, whatever it reads.
                return Ok(Node::Str(text));
            };
            match Scalar::parse_from_cow_and_metadata(text.into(), style, tag.as_ref()) {
                Some(scalar) => scalar_node(scalar),
                None => return Err(FileError::new(path, "a value matching its !! tag")),
            }
        }
        Yaml::Value(scalar) => scalar_node(scalar),
        Yaml::Sequence(items) => Node::Seq(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| convert(item, &format!("{path}[{i}]"), lookup))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                // Keys are never substituted.
                let key = match key {
                    Yaml::Representation(k, _, _) => k.into_owned(),
                    Yaml::Value(Scalar::String(k)) => k.into_owned(),
                    _ => return Err(FileError::new(path, "mapping keys that are plain strings")),
                };
                let child = join(path, &key);
                out.push((key, convert(value, &child, lookup)?));
            }
            Node::Map(out)
        }
        // A local tag (`!foo`) means nothing in this schema: read the node.
        Yaml::Tagged(_, inner) => convert(*inner, path, lookup)?,
        Yaml::Alias(_) | Yaml::BadValue => {
            return Err(FileError::new(path, "a value (this one could not be read)"))
        }
    })
}

fn scalar_node(scalar: Scalar<'_>) -> Node {
    match scalar {
        Scalar::Null => Node::Null,
        Scalar::Boolean(b) => Node::Bool(b),
        Scalar::Integer(i) => Node::Int(i),
        Scalar::FloatingPoint(f) => Node::Float(f.into_inner()),
        Scalar::String(s) => Node::Str(s.into_owned()),
    }
}

/// `parent.key`, or `key` at the top.
pub(super) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// A mapping being read: every key must be one of `allowed`, and a null node
/// (`otlp_http:` with nothing under it) reads as an empty mapping, as the
/// schema's nullable objects mean.
pub(super) struct Obj<'a> {
    pub(super) path: String,
    entries: &'a [(String, Node)],
}

impl<'a> Obj<'a> {
    pub(super) fn new(node: &'a Node, path: &str, allowed: &[&str]) -> Result<Self, FileError> {
        let entries: &[(String, Node)] = match node {
            Node::Map(entries) => entries,
            Node::Null => &[],
            _ => return Err(FileError::new(path, "a mapping")),
        };
        if let Some((key, _)) = entries.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            return Err(FileError::new(
                &join(path, key),
                &format!(
                    "one of the keys wingspan supports here ({}); it cannot honour this one",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            entries,
        })
    }

    /// The node under `key`, if present (null included).
    pub(super) fn get(&self, key: &str) -> Option<&'a Node> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(super) fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The scalar under `key` as the text of an environment variable;
    /// `None` when absent, null or empty.
    pub(super) fn scalar(&self, key: &str) -> Result<Option<String>, FileError> {
        match self.get(key) {
            None => Ok(None),
            Some(node) => scalar_text(node, &self.path_of(key)),
        }
    }

    /// The single key of a one-key mapping (`always_on:`, `otlp_http: {...}`),
    /// for the schema's "exactly one of" objects.
    pub(super) fn only(&self) -> Result<(&'a str, &'a Node), FileError> {
        match self.entries {
            [(key, node)] => Ok((key, node)),
            _ => Err(FileError::new(&self.path, "exactly one key")),
        }
    }
}

/// A scalar node as the text an environment variable would hold.
fn scalar_text(node: &Node, path: &str) -> Result<Option<String>, FileError> {
    Ok(match node {
        Node::Null => None,
        Node::Bool(b) => Some(b.to_string()),
        Node::Int(i) => Some(i.to_string()),
        Node::Float(f) => Some(f.to_string()),
        Node::Str(s) if s.is_empty() => None,
        Node::Str(s) => Some(s.clone()),
        Node::Seq(_) | Node::Map(_) => return Err(FileError::new(path, "a single value")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "INT_VALUE" => Some("1".into()),
            "BOOL_VALUE" => Some("true".into()),
            "HEX_VALUE" => Some("0xdeadbeef".into()),
            "INVALID_MAP_VALUE" => Some("value\nkey:value".into()),
            _ => None,
        }
    }

    fn value_of(yaml: &str) -> Node {
        match load(yaml, &env).unwrap() {
            Node::Map(mut entries) => entries.remove(0).1,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn types_are_resolved_after_substitution_as_the_spec_table_says() {
        assert_eq!(value_of("key: ${INT_VALUE}"), Node::Int(1));
        assert_eq!(value_of("key: ${BOOL_VALUE}"), Node::Bool(true));
        assert_eq!(value_of("key: ${HEX_VALUE}"), Node::Int(3_735_928_559));
        assert_eq!(value_of("key: \"${INT_VALUE}\""), Node::Str("1".into()));
        assert_eq!(value_of("key: '${BOOL_VALUE}'"), Node::Str("true".into()));
        assert_eq!(value_of("key: ${UNDEFINED_KEY}"), Node::Null);
        assert_eq!(
            value_of("key: ${INVALID_MAP_VALUE}"),
            Node::Str("value\nkey:value".into())
        );
    }

    #[test]
    fn keys_are_not_substituted() {
        assert_eq!(
            load("${INT_VALUE}: v", &env).unwrap(),
            Node::Map(vec![("${INT_VALUE}".into(), Node::Str("v".into()))])
        );
    }

    #[test]
    fn errors_name_the_path() {
        let err = load("a:\n  b:\n    - x\n    - ${X:?e}\n", &env).unwrap_err();
        assert_eq!(err.path, "a.b[1]");
        assert!(err.expected.contains("${X:?e}"), "{}", err.expected);
        assert!(load("a: [", &env)
            .unwrap_err()
            .expected
            .contains("valid YAML"));
        assert!(load("a: 1\na: 2\n", &env).is_err(), "duplicate keys");
    }

    #[test]
    fn unknown_keys_are_refused_with_the_accepted_ones() {
        let node = load("a: 1\nzipkin: {}\n", &env).unwrap();
        let err = Obj::new(&node, "", &["a", "b"]).err().unwrap();
        assert_eq!(err.path, "zipkin");
        assert!(err.expected.contains("a, b"), "{}", err.expected);
    }
}
