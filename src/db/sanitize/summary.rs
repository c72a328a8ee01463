//! The summary: `db.operation.name` and the tables a masked text names.

use std::collections::HashSet;

use super::lexer::{in_list, tokens, word_is, Tok};
use crate::text::truncate_bytes;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Paren {
    Call,
    Group,
}

/// Words after which `(` opens a group or subquery, not a function call.
const NOT_FUNCTIONS: &[&str] = &[
    "select",
    "from",
    "where",
    "in",
    "exists",
    "and",
    "or",
    "not",
    "on",
    "as",
    "join",
    "values",
    "into",
    "using",
    "any",
    "all",
    "some",
    "array",
    "lateral",
    "union",
    "intersect",
    "except",
    "with",
    "returning",
    "set",
    "when",
    "then",
    "else",
    "case",
    "by",
    "having",
    "materialized",
];

/// Words that never name a table where one is expected.
const NOT_TABLES: &[&str] = &[
    "select",
    "only",
    "lateral",
    "where",
    "set",
    "values",
    "default",
    "as",
    "on",
    "using",
    "join",
    "inner",
    "left",
    "right",
    "full",
    "cross",
    "natural",
    "outer",
    "group",
    "order",
    "limit",
    "offset",
    "returning",
    "union",
    "for",
    "with",
    "recursive",
    "into",
    "table",
];

/// The longest `db.operation.name`.
const MAX_OPERATION_LEN: usize = 64;

/// Reads a possibly qualified table name at `i`; returns it and the index after.
fn table_name(toks: &[Tok<'_>], mut i: usize, columns_follow: bool) -> Option<(String, usize)> {
    let mut name = String::new();
    loop {
        match toks.get(i) {
            Some(Tok::Word(w)) if name.is_empty() && in_list(w, NOT_TABLES) => return None,
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => name.push_str(w),
            _ => return None,
        }
        i += 1;
        if matches!(toks.get(i), Some(Tok::Punct(b'.'))) {
            name.push('.');
            i += 1;
        } else {
            break;
        }
    }
    // A name followed by `(` is a function (`FROM generate_series(…)`),
    // except after INTO, where a column list follows.
    if !columns_follow && matches!(toks.get(i), Some(Tok::Punct(b'('))) {
        return None;
    }
    Some((name, i))
}

/// The operation and the tables of a masked text.
pub(crate) fn summarize(text: &str) -> (String, Vec<String>) {
    let toks = tokens(text);
    let mut operation = String::new();
    // The operation: the first word, or after a WITH clause the main
    // statement's first word at depth 0.
    let mut main_op_pending = false;
    match toks.first() {
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("with") => main_op_pending = true,
        Some(Tok::Word(w)) if in_list(w, &["create", "drop", "alter", "truncate"]) => {
            return ddl(&toks, w);
        }
        Some(Tok::Word(w)) => operation = w.to_ascii_uppercase(),
        _ => {}
    }
    let mut walk = Walk {
        toks: &toks,
        tables: Vec::new(),
        seen: HashSet::new(),
        ctes: HashSet::new(),
        parens: Vec::new(),
        operation,
        main_op_pending,
    };
    for i in 0..toks.len() {
        walk.visit(i);
    }
    let Walk {
        mut operation,
        tables,
        main_op_pending,
        ..
    } = walk;
    if main_op_pending {
        operation = "WITH".to_owned();
    }
    truncate_bytes(&mut operation, MAX_OPERATION_LEN);
    (operation, tables)
}

/// DDL: `CREATE TABLE x`, `DROP INDEX y`, `TRUNCATE z`.
fn ddl(toks: &[Tok<'_>], verb: &str) -> (String, Vec<String>) {
    let mut operation = verb.to_ascii_uppercase();
    let mut tables = Vec::new();
    if let Some(Tok::Word(kind)) = toks.get(1) {
        if !verb.eq_ignore_ascii_case("truncate") {
            operation.push(' ');
            operation.push_str(&kind.to_ascii_uppercase());
        }
        let mut k = 2;
        while toks.get(k).is_some_and(|t| {
            matches!(t, Tok::Word(x) if in_list(x, &["if", "not", "exists", "only", "table", "concurrently", "unique", "index"]))
        }) {
            k += 1;
        }
        if let Some((name, _)) = table_name(toks, k, true) {
            tables.push(name);
        }
    }
    truncate_bytes(&mut operation, MAX_OPERATION_LEN);
    (operation, tables)
}

/// The walk over a DML statement's tokens.
struct Walk<'t, 'a> {
    toks: &'t [Tok<'a>],
    /// The tables in order of appearance; `seen` holds the same names, so
    /// de-duplicating costs one hash lookup, not a search of the list.
    tables: Vec<String>,
    seen: HashSet<String>,
    ctes: HashSet<String>,
    parens: Vec<Paren>,
    operation: String,
    main_op_pending: bool,
}

impl Walk<'_, '_> {
    fn visit(&mut self, i: usize) {
        let toks = self.toks;
        match &toks[i] {
            Tok::Punct(b'(') => {
                let kind = match i.checked_sub(1).and_then(|p| toks.get(p)) {
                    Some(Tok::Word(w)) if !in_list(w, NOT_FUNCTIONS) => Paren::Call,
                    Some(Tok::Quoted(_)) => Paren::Call,
                    _ => Paren::Group,
                };
                self.parens.push(kind);
            }
            Tok::Punct(b')') => {
                self.parens.pop();
            }
            Tok::Word(w) => {
                if self.main_op_pending && self.parens.is_empty() {
                    self.after_with(i, w);
                }
                if self.expects_table(i, w) {
                    self.read_tables(i + 1, w.eq_ignore_ascii_case("into"));
                }
            }
            _ => {}
        }
    }

    /// Inside `WITH …`: a CTE name, or the main statement's operation.
    fn after_with(&mut self, i: usize, w: &str) {
        let toks = self.toks;
        if in_list(
            w,
            &["select", "insert", "update", "delete", "merge", "values"],
        ) {
            self.operation = w.to_ascii_uppercase();
            self.main_op_pending = false;
        } else if (word_is(toks.get(i + 1), "as")
            || matches!(toks.get(i + 1), Some(Tok::Punct(b'('))))
            && !in_list(w, &["with", "recursive", "as", "not", "materialized"])
        {
            self.ctes.insert(w.to_string());
        }
    }

    fn expects_table(&self, i: usize, w: &str) -> bool {
        let toks = self.toks;
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        self.parens.last() != Some(&Paren::Call)
            && (in_list(w, &["from", "join", "into", "using"])
                || (w.eq_ignore_ascii_case("update")
                    && !word_is(prev, "do")
                    && !word_is(prev, "for"))
                || (w.eq_ignore_ascii_case("table") && prev.is_none()))
    }

    /// `FROM a x, b y`: each table, skipping aliases, following commas.
    fn read_tables(&mut self, mut k: usize, into: bool) {
        let toks = self.toks;
        while word_is(toks.get(k), "only") || word_is(toks.get(k), "lateral") {
            k += 1;
        }
        while let Some((name, next)) = table_name(toks, k, into) {
            if !self.ctes.contains(&name) && !self.seen.contains(&name) {
                self.seen.insert(name.clone());
                self.tables.push(name);
            }
            let mut n = next;
            if word_is(toks.get(n), "as") {
                n += 1;
            }
            if let Some(Tok::Word(alias)) = toks.get(n) {
                if !in_list(alias, NOT_TABLES)
                    && !in_list(alias, &["where", "group", "order", "limit", "natural"])
                {
                    n += 1;
                }
            }
            if matches!(toks.get(n), Some(Tok::Punct(b','))) && !into {
                k = n + 1;
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::db::sanitize::{sanitize, MAX_SUMMARY_LEN};

    fn summary(sql: &str) -> String {
        sanitize(sql).summary
    }

    #[test]
    fn summaries() {
        assert_eq!(summary("SELECT * FROM users WHERE id = $1"), "SELECT users");
        assert_eq!(
            summary("SELECT u.id FROM users u JOIN profiles p ON p.user_id = u.id"),
            "SELECT users profiles"
        );
        assert_eq!(
            summary("INSERT INTO matches (a, b) VALUES ($1, $2)"),
            "INSERT matches"
        );
        assert_eq!(
            summary("UPDATE public.users SET x = 1 WHERE id = 2"),
            "UPDATE public.users"
        );
        assert_eq!(
            summary("DELETE FROM sessions WHERE t < now()"),
            "DELETE sessions"
        );
        assert_eq!(summary("SELECT 1"), "SELECT");
        assert_eq!(
            summary("select a from x, y as z, w where 1=1"),
            "SELECT x y w"
        );
        assert_eq!(
            summary(
                "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users ON true"
            ),
            "SELECT orders users"
        );
        assert_eq!(
            summary(
                "SELECT * FROM a WHERE id IN (SELECT a_id FROM b) AND EXISTS (SELECT 1 FROM c)"
            ),
            "SELECT a b c"
        );
        assert_eq!(
            summary("SELECT extract(year FROM ts) FROM events"),
            "SELECT events"
        );
        assert_eq!(summary("SELECT * FROM generate_series(1, 3)"), "SELECT");
        assert_eq!(
            summary("CREATE TABLE IF NOT EXISTS foo (id int)"),
            "CREATE TABLE foo"
        );
        assert_eq!(summary("BEGIN"), "BEGIN");
        assert_eq!(summary(""), "postgresql");
        assert_eq!(
            summary("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2"),
            "INSERT t"
        );
        assert_eq!(
            sanitize("SELECT * FROM a JOIN b ON true").collection(),
            None
        );
        assert_eq!(sanitize("SELECT * FROM a").collection(), Some("a"));
        let long = format!(
            "SELECT * FROM {}",
            (0..100)
                .map(|i| format!("table_{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert!(summary(&long).len() <= MAX_SUMMARY_LEN);
    }

    /// De-duplicating the tables is not a search of those seen so far: a
    /// statement naming 100 000 distinct tables (after 1 000 CTEs, which
    /// every name is checked against too) is summarized within 2 s even in a
    /// debug build on a loaded machine (about 0.5 s; the linear search took
    /// about 106 s here).
    #[test]
    fn many_tables_are_summarized_in_linear_time() {
        const N: usize = 100_000;
        let ctes: Vec<String> = (0..1000).map(|i| format!("c{i} AS (SELECT 1)")).collect();
        let tables: Vec<String> = (0..N).map(|i| format!("t{i}")).collect();
        let sql = format!(
            "WITH {} SELECT * FROM {}, t0, c0",
            ctes.join(", "),
            tables.join(", ")
        );
        let start = std::time::Instant::now();
        let s = sanitize(&sql);
        let took = start.elapsed();
        assert_eq!(s.collections.len(), N);
        assert_eq!(s.collections.first().map(String::as_str), Some("t0"));
        assert_eq!(s.collections.last().map(String::as_str), Some("t99999"));
        assert!(
            took < std::time::Duration::from_secs(2),
            "{N} tables took {took:?}"
        );
    }
}
