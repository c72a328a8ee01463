//! SQL sanitizer and summarizer: what `db.query.text` and `db.query.summary`
//! carry.
//!
//! The sanitizer is a single-pass lexer, not a parser: it only has to know
//! where literals, comments and quoted identifiers start and end. Every
//! literal (strings of every prefix, dollar-quoted bodies, numbers, bit and hex
//! strings) becomes `?`; `$n` parameters stay. Whatever it cannot close (an
//! unterminated quote, dollar quote or comment) masks the rest of the text,
//! because a literal it failed to end would otherwise leak verbatim.
//!
//! ```
//! let s = wingspan::db::sanitize::sanitize("SELECT name FROM users WHERE email = 'ada@example.com'");
//! assert_eq!(s.text, "SELECT name FROM users WHERE email = ?");
//! assert_eq!(s.summary, "SELECT users");
//! ```

mod cache;
mod lexer;
mod mask;
mod summary;

pub use cache::StatementCache;
pub(crate) use lexer::{
    dollar_tag, end_of_block_comment, end_of_quoted, end_of_quoted_ident, find, is_ident_char,
    is_ident_start,
};
use mask::collapse_in_lists;
pub(crate) use mask::mask;
use summary::summarize;

/// The longest `db.query.summary` (semconv advice).
pub const MAX_SUMMARY_LEN: usize = 255;

/// A sanitized statement: the text with literals masked and its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    /// `db.query.text`: literals replaced by `?`, comments stripped,
    /// whitespace collapsed, literal lists collapsed to `IN (?)`.
    pub text: String,
    /// `db.query.summary`: `{operation1} {target1} {operation2} {target2} …`
    /// in the order written, at most 255 bytes (never cut inside a word).
    pub summary: String,
    /// `db.operation.name`: the statement's operation (`SELECT`, `INSERT`, …),
    /// empty when none was recognised.
    pub operation: String,
    /// The tables the statement names, in order of appearance, deduplicated.
    pub collections: Vec<String>,
}

impl Sanitized {
    /// `db.collection.name`: the table when the statement names exactly one.
    pub fn collection(&self) -> Option<&str> {
        match self.collections.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// Sanitizes and summarizes one statement text.
pub fn sanitize(sql: &str) -> Sanitized {
    let text = collapse_in_lists(&mask(sql));
    let summary::Summary {
        operation,
        tables: collections,
        mut summary,
    } = summarize(&text);
    if summary.is_empty() {
        summary.push_str(crate::names::DB_SYSTEM_POSTGRESQL);
    }
    Sanitized {
        text,
        summary,
        operation,
        collections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MARK: &str = "ZQX";

    /// Literal forms, each embedding the marker `ZQX<n>`.
    fn literal() -> impl Strategy<Value = String> {
        let n = 0u32..100_000;
        prop_oneof![
            n.clone().prop_map(|n| format!("'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("'it''s {MARK}{n}'")),
            n.clone().prop_map(|n| format!("E'\\' {MARK}{n}'")),
            n.clone().prop_map(|n| format!("e'\\\\{MARK}{n}\\''")),
            n.clone().prop_map(|n| format!("U&'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("$$ {MARK}{n} $$")),
            n.clone().prop_map(|n| format!("$t$ $u$ {MARK}{n} $u$ $t$")),
            n.clone().prop_map(|n| format!("$a1$ '{MARK}{n} $a1$")),
            n.clone().prop_map(|n| format!("X'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("B'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("N'{MARK}{n}'")),
            // A backslash before a quote: one literal with
            // standard_conforming_strings off, a literal then words with it on.
            n.clone().prop_map(|n| format!("'O\\'{MARK}{n}'")),
            n.clone().prop_map(|n| format!("'a\\' , '{MARK}{n}'")),
            // Numbers: the marker is the digit run itself.
            n.clone().prop_map(|n| format!("9876{n}")),
            n.clone().prop_map(|n| format!("9876{n}e-5")),
            n.clone().prop_map(|n| format!(".9876{n}")),
            n.clone().prop_map(|n| format!("1.9876{n}E+3")),
        ]
    }

    fn glue() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(" ".to_owned()),
            Just(", ".to_owned()),
            Just(" = ".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just(" IN (".to_owned()),
            Just(" /* c */ ".to_owned()),
            Just("\n-- c\n".to_owned()),
            Just(" $1 ".to_owned()),
            Just(" FROM t WHERE x = ".to_owned()),
            Just(" \"id\" ".to_owned()),
            Just("::text ".to_owned()),
        ]
    }

    fn contains_marker(s: &str) -> bool {
        s.contains(MARK) || s.contains("9876")
    }

    proptest! {
        #[test]
        fn no_marker_ever_leaks(parts in proptest::collection::vec((glue(), literal()), 1..8), tail in glue()) {
            let mut sql = "SELECT ".to_owned();
            for (g, l) in &parts {
                sql.push_str(g);
                sql.push_str(l);
            }
            sql.push_str(&tail);
            let s = sanitize(&sql);
            prop_assert!(!contains_marker(&s.text), "{sql} -> {}", s.text);
            prop_assert!(!contains_marker(&s.summary), "{sql} -> {}", s.summary);
        }

        #[test]
        fn truncated_input_never_leaks(parts in proptest::collection::vec((glue(), literal()), 1..6), cut in 0usize..400) {
            let mut sql = "SELECT ".to_owned();
            for (g, l) in &parts {
                sql.push_str(g);
                sql.push_str(l);
            }
            let cut = crate::text::prefix_bytes(&sql, cut).len();
            let s = sanitize(&sql[..cut]);
            // A cut marker is a prefix of the marker: check the full literal
            // prefixes `ZQX`/`9876` only when they survived the cut.
            prop_assert!(!s.text.contains(MARK), "{} -> {}", &sql[..cut], s.text);
            prop_assert!(!s.text.contains("9876"), "{} -> {}", &sql[..cut], s.text);
        }

        #[test]
        fn never_panics(sql in "\\PC{0,200}") {
            let s = sanitize(&sql);
            prop_assert!(s.summary.len() <= MAX_SUMMARY_LEN);
        }

        #[test]
        fn never_panics_on_sql_alphabet(sql in "[-'\"$/*eExXbBuU&0-9a-z .,()\\\\\n]{0,120}") {
            let s = sanitize(&sql);
            prop_assert!(s.summary.len() <= MAX_SUMMARY_LEN);
        }
    }

    /// Lexically self-contained pieces a statement is built from: literals
    /// carrying a marker, comments carrying one, and everything around them
    /// that carries none (words, quoted identifiers, parameters, operators).
    fn fragment() -> impl Strategy<Value = String> {
        let n = 0u32..1_000_000;
        prop_oneof![
            4 => literal(),
            1 => n.clone().prop_map(|n| format!("/* {MARK}{n} /* nested '{MARK}' */ */")),
            1 => n.clone().prop_map(|n| format!("-- {MARK}{n} 'x\n")),
            1 => n.clone().prop_map(|n| format!("'{MARK}{n}'::text")),
            1 => n.clone().prop_map(|n| format!("ARRAY['{MARK}{n}', $q${MARK}$q$]")),
            1 => n.clone().prop_map(|n| format!("e'{MARK}\\\\'||'{MARK}{n}'")),
            1 => n.clone().prop_map(|n| format!("$_$ ${MARK}$ $$ {n} $_$")),
            1 => n.prop_map(|n| format!("(9876{n}, -9876.{n}e+{}, 0x9876{n})", n % 7)),
            3 => prop::sample::select(&[
                "SELECT", "FROM", "t", "public.users", "WHERE", "id", "=", "<>", "IN", "(",
                ")", ",", ";", "$1", "$12", "\"Quoted\"\"id\"", "U&\"d!0061\"", "AND", "OR",
                "INSERT INTO t (a, b) VALUES", "UPDATE t SET", "DELETE FROM", "WITH x AS",
                "RETURNING", "||", "::", "*", "+", "-", "/", "$", "e", "x", "n", "u&",
                "CASE WHEN", "THEN", "ELSE", "END", "COMMIT", "DO",
            ][..])
            .prop_map(str::to_owned),
        ]
    }

    fn blank() -> impl Strategy<Value = &'static str> {
        prop::sample::select(&[" ", "  ", "\n", "\t", "\r\n", "\x0c", " /**/ "][..])
    }

    fn statement() -> impl Strategy<Value = String> {
        proptest::collection::vec((fragment(), blank()), 1..24).prop_map(|parts| {
            parts.iter().fold(String::new(), |mut sql, (f, b)| {
                sql.push_str(f);
                sql.push_str(b);
                sql
            })
        })
    }

    /// Cases for [`fuzz_sanitizer_never_panics_nor_leaks_a_marker`]:
    /// `WINGSPAN_FUZZ_CASES`, else a count `make test` affords.
    fn fuzz_cases() -> u32 {
        std::env::var("WINGSPAN_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000)
    }

    /// The sanitizer's fuzz run (`make fuzz` runs 1 000 000 cases): built
    /// statements whose every marker sits in a literal or a comment, cut at
    /// any byte, and arbitrary text. No panic, no marker in the text or the
    /// summary, the summary within its bound.
    #[test]
    fn fuzz_sanitizer_never_panics_nor_leaks_a_marker() {
        let cases = fuzz_cases();
        let started = std::time::Instant::now();
        let config = ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        // Arbitrary bytes read as UTF-8 (invalid sequences become U+FFFD):
        // multi-byte text without the cost of a char strategy per character.
        let noise = proptest::collection::vec(any::<u8>(), 0..200)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        proptest!(config, |(sql in statement(), cut in any::<prop::sample::Index>(), noise in noise)| {
            let end = crate::text::prefix_bytes(&sql, cut.index(sql.len() + 1)).len();
            for text in [&sql[..], &sql[..end]] {
                let s = sanitize(text);
                prop_assert!(!contains_marker(&s.text), "{text:?} -> {:?}", s.text);
                prop_assert!(!contains_marker(&s.summary), "{text:?} -> {:?}", s.summary);
                prop_assert!(s.summary.len() <= MAX_SUMMARY_LEN);
            }
            let s = sanitize(&noise);
            prop_assert!(s.summary.len() <= MAX_SUMMARY_LEN);
        });
        eprintln!(
            "fuzz_sanitizer: {cases} cases in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
}
