//! Environment-variable substitution in a configuration file's scalar
//! values, as the configuration data model specifies it: `${VAR}`,
//! `${env:VAR}`, `${VAR:-default}`, `$$` for a literal `$`, and an undefined
//! variable without a default replaced by nothing. A reference that looks
//! like one but is not valid (`${1X}`, `${X:?err}`) is an error rather than
//! text, so a typo never becomes a silently wrong setting.

/// `text` with its references replaced through `lookup`. `Err` carries the
/// invalid reference as written (a reference names a variable, never holds
/// its value, so it is safe to show).
pub(super) fn substitute(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    if !text.contains('$') {
        return Ok(text.to_owned());
    }
    // The spec's reading order: find each `$$` escape from the left, and
    // only match references in the text between two escapes, so the `$`
    // an escape produces never starts a reference.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("$$") {
        references(&rest[..at], lookup, &mut out)?;
        out.push('$');
        rest = &rest[at + 2..];
    }
    references(rest, lookup, &mut out)?;
    Ok(out)
}

/// Appends `segment` (free of `$$` escapes) to `out` with each `${...}`
/// replaced. Values are appended as they are: never scanned again, so a
/// variable cannot inject another reference.
fn references(
    segment: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<(), String> {
    let mut rest = segment;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let body = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        if body.is_empty() {
            // `${}` matches neither the valid nor the invalid form: text.
            out.push_str("${}");
        } else {
            out.push_str(&resolve(body, lookup).ok_or_else(|| format!("${{{body}}}"))?);
        }
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    Ok(())
}

/// The value of one reference body (`env:NAME:-default` without the braces),
/// or `None` when it is not a valid reference.
fn resolve(body: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let body = body.strip_prefix("env:").unwrap_or(body);
    let (name, default) = match body.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (body, None),
    };
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    // The default applies when the variable is undefined or empty.
    match (lookup(name).filter(|v| !v.is_empty()), default) {
        (Some(value), _) => Some(value),
        (None, Some(default)) => Some(default.to_owned()),
        (None, None) => Some(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The environment of the spec's table of examples
    /// (configuration/data-model.md, "Environment variable substitution").
    fn spec_env(name: &str) -> Option<String> {
        Some(
            match name {
                "STRING_VALUE" => "value",
                "BOOL_VALUE" => "true",
                "INT_VALUE" => "1",
                "FLOAT_VALUE" => "1.1",
                "HEX_VALUE" => "0xdeadbeef",
                "INVALID_MAP_VALUE" => "value\nkey:value",
                "DO_NOT_REPLACE_ME" => "Never use this value",
                "REPLACE_ME" => "${DO_NOT_REPLACE_ME}",
                "VALUE_WITH_ESCAPE" => "value$$",
                "EMPTY" => "",
                _ => return None,
            }
            .to_owned(),
        )
    }

    #[test]
    fn the_specs_examples_substitute_as_its_table_says() {
        for (input, output) in [
            ("${STRING_VALUE}", "value"),
            ("${BOOL_VALUE}", "true"),
            ("${INT_VALUE}", "1"),
            ("${FLOAT_VALUE}", "1.1"),
            ("${HEX_VALUE}", "0xdeadbeef"),
            ("${env:STRING_VALUE}", "value"),
            ("${INVALID_MAP_VALUE}", "value\nkey:value"),
            ("foo ${STRING_VALUE} ${FLOAT_VALUE}", "foo value 1.1"),
            ("${UNDEFINED_KEY}", ""),
            ("${UNDEFINED_KEY:-fallback}", "fallback"),
            ("${REPLACE_ME}", "${DO_NOT_REPLACE_ME}"),
            ("${UNDEFINED_KEY:-${STRING_VALUE}}", "${STRING_VALUE}"),
            ("$${STRING_VALUE}", "${STRING_VALUE}"),
            ("$$${STRING_VALUE}", "$value"),
            ("$$$${STRING_VALUE}", "$${STRING_VALUE}"),
            ("$${STRING_VALUE:-fallback}", "${STRING_VALUE:-fallback}"),
            (
                "$${STRING_VALUE:-${STRING_VALUE}}",
                "${STRING_VALUE:-value}",
            ),
            (
                "${UNDEFINED_KEY:-$${UNDEFINED_KEY}}",
                "${UNDEFINED_KEY:-${UNDEFINED_KEY}}",
            ),
            ("${VALUE_WITH_ESCAPE}", "value$$"),
            ("a $$ b", "a $ b"),
            ("a $ b", "a $ b"),
            ("$${FOO} ${STRING_VALUE} $${BAZ}", "${FOO} value ${BAZ}"),
        ] {
            assert_eq!(
                substitute(input, &spec_env).as_deref(),
                Ok(output),
                "{input}"
            );
        }
    }

    #[test]
    fn a_default_also_replaces_an_empty_value() {
        assert_eq!(substitute("${EMPTY:-d}", &spec_env).as_deref(), Ok("d"));
        assert_eq!(
            substitute("${env:UNDEFINED:-http://h:4318}/v1/traces", &spec_env).as_deref(),
            Ok("http://h:4318/v1/traces")
        );
    }

    #[test]
    fn invalid_references_are_errors_naming_them() {
        for input in [
            "${STRING_VALUE:?error}",
            "${1API_KEY}",
            "${API_$KEY}",
            "x ${A B}",
        ] {
            let err = substitute(input, &spec_env).unwrap_err();
            assert!(input.contains(&err), "{input}: {err}");
        }
    }

    #[test]
    fn unclosed_or_empty_braces_stay_text() {
        for input in ["${UNCLOSED", "${}", "$", "$x", "{A}"] {
            assert_eq!(substitute(input, &spec_env).as_deref(), Ok(input));
        }
    }
}
