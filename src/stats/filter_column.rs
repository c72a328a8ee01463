//! The column a plan node's `Filter` tests, for the advice ("consider an
//! index on (customer)"): a heuristic over the masked expression, not a
//! parser.

/// The column a sequential scan's filter tests, for the advice: the first
/// one compared with `=`, else the first one named. A heuristic over the
/// masked expression (`((total > ?) AND (customer = $1))` gives `customer`);
/// `None` when it names no plain column.
pub(super) fn filter_column(expression: &str) -> Option<String> {
    let toks = tokens(expression);
    let mut first = None;
    for (i, t) in toks.iter().enumerate() {
        let Tok::Ident(name) = t else { continue };
        let after_cast = i > 0 && toks[i - 1] == Tok::Cast;
        let qualifier = toks.get(i + 1) == Some(&Tok::Dot);
        let call = toks.get(i + 1) == Some(&Tok::Open);
        if after_cast || qualifier || call || is_keyword(name) {
            continue;
        }
        // Past closing parentheses and casts, what the column meets.
        let mut j = i + 1;
        while let Some(t) = toks.get(j) {
            match t {
                Tok::Close => j += 1,
                Tok::Cast => j += 2,
                _ => break,
            }
        }
        if toks.get(j) == Some(&Tok::Op("=".into())) {
            return Some(name.clone());
        }
        first.get_or_insert_with(|| name.clone());
    }
    first
}

fn is_keyword(w: &str) -> bool {
    const WORDS: &[&str] = &[
        "and", "or", "not", "is", "null", "any", "all", "array", "in", "like", "ilike", "similar",
        "to", "between", "true", "false", "distinct", "from", "case", "when", "then", "else",
        "end", "subplan", "hashed", "initplan", "returns",
    ];
    WORDS.contains(&w.to_ascii_lowercase().as_str())
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Op(String),
    Open,
    Close,
    Dot,
    Cast,
    Other,
}

/// Identifiers (bare, or quoted without their quotes), operators, `(`, `)`,
/// `.` and `::`; anything else is `Other`.
fn tokens(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'"' {
            let end = s[i + 1..].find('"').map_or(b.len(), |e| i + 1 + e);
            out.push(Tok::Ident(s[i + 1..end].to_owned()));
            i = end + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'$')) {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_owned()));
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push(Tok::Cast);
            i += 2;
        } else if c == b'(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == b')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == b'.' {
            out.push(Tok::Dot);
            i += 1;
        } else if b"=<>!~+-*/%^&|#@".contains(&c) {
            let start = i;
            while i < b.len() && b"=<>!~+-*/%^&|#@".contains(&b[i]) {
                i += 1;
            }
            out.push(Tok::Op(s[start..i].to_owned()));
        } else {
            out.push(Tok::Other);
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_columns() {
        for (expr, col) in [
            ("(customer = $1)", Some("customer")),
            ("((lower(email))::text = $1)", Some("email")),
            ("(o.customer_id = $1)", Some("customer_id")),
            ("((\"Order Ref\")::text = ?::text)", Some("Order Ref")),
            ("(total > ?)", Some("total")),
            ("(created_at IS NULL)", Some("created_at")),
            ("(? = ?)", None),
        ] {
            assert_eq!(filter_column(expr).as_deref(), col, "{expr}");
        }
    }
}
