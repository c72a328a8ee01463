//! The summary: `db.query.summary`, `db.operation.name` and the tables a
//! masked text names.
//!
//! The conventions' format (semantic conventions v1.44, "Generating a summary
//! of the query"): `{operation1} {target1} {operation2} {target2} {target3} …`.
//! Every operation in the order the text writes it (a subquery's `SELECT`,
//! `INSERT … SELECT`, the statements of a multi-statement text), each
//! followed by its targets (tables, and the object of DDL, `CALL` and
//! `EXECUTE`); words as written, without case normalization; cut between
//! parts, never inside one, at [`MAX_SUMMARY_LEN`] bytes.

use std::collections::{HashMap, HashSet};

use super::lexer::{in_list, tokens, word_is, Tok};
use super::MAX_SUMMARY_LEN;
use crate::text::{prefix_bytes, truncate_bytes};

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
    "copy",
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

/// The words that start a statement of their own wherever they stand (a
/// subquery, `INSERT … SELECT`, a data-modifying CTE), unless
/// [`NOT_OPERATION_AFTER`] says otherwise.
const OPERATIONS: &[&str] = &["select", "insert", "update", "delete", "merge"];

/// Words after which an operation word starts no statement: an upsert's
/// `DO UPDATE`, row locks (`FOR [NO KEY] UPDATE`), MERGE's `THEN UPDATE`,
/// foreign-key actions (`ON DELETE`), trigger events (`INSERT OR UPDATE OF`).
const NOT_OPERATION_AFTER: &[&str] = &["do", "for", "key", "then", "on", "or", "of"];

/// DDL words between the verb and the object type that PostgreSQL's command
/// tag leaves out (`CREATE OR REPLACE FUNCTION` is `CREATE FUNCTION`,
/// `CREATE UNIQUE INDEX` is `CREATE INDEX`).
const DDL_MODIFIERS: &[&str] = &[
    "or",
    "replace",
    "global",
    "local",
    "temp",
    "temporary",
    "unlogged",
    "unique",
    "recursive",
    "trusted",
    "procedural",
    "constraint",
];

/// Object types of more than one word.
const DDL_KINDS: &[&[&str]] = &[
    &["materialized", "view"],
    &["foreign", "table"],
    &["foreign", "data", "wrapper"],
    &["event", "trigger"],
    &["user", "mapping"],
    &["access", "method"],
    &["text", "search", "configuration"],
    &["text", "search", "dictionary"],
    &["text", "search", "parser"],
    &["text", "search", "template"],
    &["operator", "class"],
    &["operator", "family"],
    &["default", "privileges"],
    &["large", "object"],
];

/// Object types whose statements name no object (`ALTER DEFAULT PRIVILEGES
/// IN SCHEMA s …`, `DROP OWNED BY r`, `ALTER SYSTEM SET …`).
const DDL_UNNAMED: &[&[&str]] = &[&["default", "privileges"], &["owned"], &["system"]];

/// Object types that are collections (`db.collection.name`); the others
/// (functions, schemas, roles, indexes, …) are targets of the summary only.
const DDL_COLLECTIONS: &[&[&str]] = &[
    &["table"],
    &["view"],
    &["materialized", "view"],
    &["foreign", "table"],
];

/// Object types whose `CREATE` may end in a query (`CREATE TABLE … AS
/// SELECT`, `CREATE VIEW … AS SELECT`): its operations follow.
const DDL_WITH_QUERY: &[&[&str]] = &[&["table"], &["view"], &["materialized", "view"]];

/// The longest `db.operation.name`.
const MAX_OPERATION_LEN: usize = 64;

/// What [`summarize`] finds.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// `db.operation.name`: the statement's operation (after a `WITH`, the
    /// main statement's), empty when none was recognised.
    pub(crate) operation: String,
    /// The collections, in order of appearance, deduplicated.
    pub(crate) tables: Vec<String>,
    /// `db.query.summary` (empty when nothing was recognised).
    pub(crate) summary: String,
}

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

/// The word at `k`, if a word is there.
fn word_at<'a>(toks: &[Tok<'a>], k: usize) -> Option<&'a str> {
    match toks.get(k) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

/// The index after the group whose `(` is at `i` (the end when unclosed).
fn skip_group(toks: &[Tok<'_>], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some(t) = toks.get(i) {
        match t {
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// The operations, tables and summary of a masked text.
pub(crate) fn summarize(text: &str) -> Summary {
    let toks = tokens(text);
    let mut walk = Walk {
        toks: &toks,
        out: Summary::default(),
        seen: HashMap::new(),
        group: 0,
        full: false,
        ctes: HashSet::new(),
        parens: Vec::new(),
        main_op_pending: false,
    };
    // JDBC's escape (`{call f}`): the statement inside the braces.
    let start = usize::from(matches!(toks.first(), Some(Tok::Punct(b'{'))));
    let from = match toks.get(start) {
        Some(Tok::Word(verb)) => walk.head(start, verb),
        // `(SELECT …) UNION (SELECT …)`: the walk finds the operations.
        _ => Some(start),
    };
    if let Some(from) = from {
        for i in from..toks.len() {
            walk.visit(i);
        }
    }
    if walk.main_op_pending && walk.out.operation.is_empty() {
        // A WITH whose main statement was not found.
        if let Some(Tok::Word(w)) = toks.get(start) {
            walk.out.operation.push_str(w);
        }
    }
    walk.out
}

/// The walk over a statement's tokens.
struct Walk<'t, 'a> {
    toks: &'t [Tok<'a>],
    out: Summary,
    /// Every target named so far, with the operation (`group`) it was last
    /// put in the summary under: a name repeats in the summary under a new
    /// operation, not under the same one, and de-duplicating costs one hash
    /// lookup, not a search of the list.
    seen: HashMap<String, usize>,
    /// The operations emitted so far.
    group: usize,
    /// The summary reached its bound: nothing more is appended.
    full: bool,
    ctes: HashSet<String>,
    parens: Vec<Paren>,
    /// After `WITH`, until the main statement's operation.
    main_op_pending: bool,
}

impl Walk<'_, '_> {
    /// Appends one part (an operation or a target) to the summary, or stops
    /// it growing once a part does not fit.
    fn part(&mut self, part: &str) {
        let summary = &mut self.out.summary;
        if self.full || part.is_empty() {
            return;
        }
        let sep = usize::from(!summary.is_empty());
        if summary.len() + sep + part.len() > MAX_SUMMARY_LEN {
            self.full = true;
            return;
        }
        if sep == 1 {
            summary.push(' ');
        }
        summary.push_str(part);
    }

    /// An operation; `main` when it is the statement's own (not a CTE's).
    fn op(&mut self, op: &str, main: bool) {
        self.group += 1;
        if main && self.out.operation.is_empty() {
            self.out.operation.push_str(op);
            truncate_bytes(&mut self.out.operation, MAX_OPERATION_LEN);
        }
        self.part(prefix_bytes(op, MAX_OPERATION_LEN));
    }

    /// A target of the current operation; `collection` when it is a table.
    fn target(&mut self, name: String, collection: bool) {
        if self.ctes.contains(&name) {
            return;
        }
        let group = self.group;
        match self.seen.get_mut(&name) {
            Some(g) if *g == group => {}
            Some(g) => {
                *g = group;
                self.part(&name);
            }
            None => {
                self.part(&name);
                if collection {
                    self.out.tables.push(name.clone());
                }
                self.seen.insert(name, group);
            }
        }
    }

    /// The statement's first word at `start`; returns where the walk over
    /// the rest starts, `None` when the head said everything.
    fn head(&mut self, start: usize, verb: &str) -> Option<usize> {
        let toks = self.toks;
        if verb.eq_ignore_ascii_case("with") {
            self.main_op_pending = true;
            return Some(start);
        }
        if in_list(verb, OPERATIONS) {
            // The walk emits it.
            return Some(start);
        }
        if in_list(verb, &["create", "drop", "alter", "refresh"]) {
            return self.ddl(start);
        }
        self.op(verb, true);
        if in_list(verb, &["truncate", "lock"]) {
            // `TRUNCATE [TABLE] [ONLY] a [*], b …`, `LOCK [TABLE] …`.
            let k = start + 1 + usize::from(word_is(toks.get(start + 1), "table"));
            self.names(k, true, false, true);
            None
        } else if verb.eq_ignore_ascii_case("copy") {
            if matches!(toks.get(start + 1), Some(Tok::Punct(b'('))) {
                // `COPY (query) TO …`: the query's operations.
                return Some(start + 1);
            }
            // `COPY t [(columns)] FROM STDIN`: the table, not the stream.
            self.names(start + 1, true, false, false);
            None
        } else if in_list(verb, &["call", "execute"]) {
            // The procedure, or the prepared statement.
            self.names(start + 1, false, false, false);
            None
        } else if in_list(verb, &["grant", "revoke"]) {
            // Privileges, not operations.
            None
        } else {
            // `TABLE t`, `EXPLAIN …`, `VALUES …`, `BEGIN`, `SET …`, …
            Some(start)
        }
    }

    /// Names from `k`: each a target (a collection when `collection`),
    /// skipping `ONLY`, a trailing `*` and, when `args`, an argument list;
    /// several separated by commas when `list`. Returns the index after.
    fn names(&mut self, mut k: usize, collection: bool, args: bool, list: bool) -> usize {
        let toks = self.toks;
        loop {
            while word_is(toks.get(k), "only") {
                k += 1;
            }
            let Some((name, next)) = table_name(toks, k, true) else {
                break;
            };
            self.target(name, collection);
            k = next;
            if matches!(toks.get(k), Some(Tok::Punct(b'*'))) {
                k += 1;
            }
            if args && matches!(toks.get(k), Some(Tok::Punct(b'('))) {
                k = skip_group(toks, k);
            }
            if list && matches!(toks.get(k), Some(Tok::Punct(b','))) {
                k += 1;
            } else {
                break;
            }
        }
        k
    }

    /// DDL: `{verb} {object type}` as PostgreSQL's command tag names it,
    /// then the object (`CREATE MATERIALIZED VIEW v`, `DROP TABLE a b`,
    /// `CREATE INDEX i t`).
    fn ddl(&mut self, start: usize) -> Option<usize> {
        let toks = self.toks;
        let verb = word_at(toks, start)?;
        let mut k = start + 1;
        while word_at(toks, k).is_some_and(|w| in_list(w, DDL_MODIFIERS)) {
            k += 1;
        }
        let is_phrase = |phrase: &[&str]| {
            phrase
                .iter()
                .enumerate()
                .all(|(n, p)| word_at(toks, k + n).is_some_and(|w| w.eq_ignore_ascii_case(p)))
        };
        let kind_len = DDL_KINDS
            .iter()
            .filter(|p| is_phrase(p))
            .map(|p| p.len())
            .max()
            .unwrap_or(usize::from(word_at(toks, k).is_some()));
        let kind_is = |list: &[&[&str]]| list.iter().any(|p| p.len() == kind_len && is_phrase(p));
        let unnamed = kind_is(DDL_UNNAMED);
        let collection = kind_is(DDL_COLLECTIONS);
        let with_query = verb.eq_ignore_ascii_case("create") && kind_is(DDL_WITH_QUERY);
        let index = kind_is(&[&["index"]]);
        let mut op = String::from(verb);
        for n in 0..kind_len {
            op.push(' ');
            op.push_str(word_at(toks, k + n).unwrap_or_default());
        }
        self.op(&op, true);
        if kind_len == 0 || unnamed {
            return None;
        }
        k += kind_len;
        while word_at(toks, k).is_some_and(|w| in_list(w, &["concurrently", "if", "not", "exists"]))
        {
            k += 1;
        }
        if !(index && word_is(toks.get(k), "on")) {
            let list = verb.eq_ignore_ascii_case("drop");
            k = self.names(k, collection, true, list);
        }
        if index && word_is(toks.get(k), "on") {
            // The index's table.
            k = self.names(k + 1, true, false, false);
        }
        with_query.then_some(k)
    }

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
                let is_op = in_list(w, OPERATIONS) && self.starts_statement(i);
                if is_op {
                    self.op(w, !self.main_op_pending);
                }
                if self.expects_table(i, w, is_op) {
                    self.read_tables(i + 1, w.eq_ignore_ascii_case("into"));
                }
            }
            _ => {}
        }
    }

    /// Whether the operation word at `i` starts a statement (`DO UPDATE`,
    /// `FOR UPDATE`, `t.update` and `GRANT SELECT, INSERT` do not).
    fn starts_statement(&self, i: usize) -> bool {
        let toks = self.toks;
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        !matches!(prev, Some(Tok::Punct(b'.' | b',')))
            && !matches!(prev, Some(Tok::Word(p)) if in_list(p, NOT_OPERATION_AFTER))
            && !matches!(toks.get(i + 1), Some(Tok::Punct(b'.')))
    }

    /// Inside `WITH …` at depth 0: a CTE name, or the main statement.
    fn after_with(&mut self, i: usize, w: &str) {
        let toks = self.toks;
        if in_list(w, &["select", "insert", "update", "delete", "merge"]) {
            self.main_op_pending = false;
        } else if w.eq_ignore_ascii_case("values") {
            self.main_op_pending = false;
            self.op(w, true);
        } else if (word_is(toks.get(i + 1), "as")
            || matches!(toks.get(i + 1), Some(Tok::Punct(b'('))))
            && !in_list(w, &["with", "recursive", "as", "not", "materialized"])
        {
            self.ctes.insert(w.to_string());
        }
    }

    fn expects_table(&self, i: usize, w: &str, is_op: bool) -> bool {
        self.parens.last() != Some(&Paren::Call)
            && (in_list(w, &["from", "join", "into", "using"])
                || (is_op && w.eq_ignore_ascii_case("update"))
                || (w.eq_ignore_ascii_case("table") && i == 0))
    }

    /// `FROM a x, b y`: each table, skipping aliases, following commas.
    /// After `INTO`, one table (`SELECT … INTO [TEMP] [TABLE] x` names the
    /// table it creates).
    fn read_tables(&mut self, mut k: usize, into: bool) {
        let toks = self.toks;
        while word_is(toks.get(k), "only")
            || word_is(toks.get(k), "lateral")
            || (into
                && word_at(toks, k)
                    .is_some_and(|w| in_list(w, &["temp", "temporary", "unlogged", "table"])))
        {
            k += 1;
        }
        while let Some((name, next)) = table_name(toks, k, into) {
            self.target(name, true);
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
        // Words as written (no case normalization).
        assert_eq!(
            summary("select a from x, y as z, w where 1=1"),
            "select x y w"
        );
        assert_eq!(
            summary(
                "WITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN users ON true"
            ),
            "SELECT orders SELECT users"
        );
        assert_eq!(
            summary(
                "SELECT * FROM a WHERE id IN (SELECT a_id FROM b) AND EXISTS (SELECT 1 FROM c)"
            ),
            "SELECT a SELECT b SELECT c"
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

    /// Every example of the conventions' "Generating a summary of the query"
    /// (semantic conventions v1.44, database spans), with the query text as
    /// the page writes it.
    #[test]
    fn the_conventions_examples() {
        // A single operation.
        assert_eq!(
            summary("SELECT *\nFROM   wuser_table\nWHERE  username = ?"),
            "SELECT wuser_table"
        );
        // Several operations, each with its targets, in order.
        assert_eq!(
            summary(
                "INSERT INTO shipping_details\n            (order_id,\n            address)\n\
                 SELECT order_id,\n       address\nFROM   orders\nWHERE  order_id = ?"
            ),
            "INSERT shipping_details SELECT orders"
        );
        // One operation on several collections.
        assert_eq!(
            summary(
                "SELECT *\nFROM   songs,\n       artists\nWHERE  songs.artist_id == artists.id"
            ),
            "SELECT songs artists"
        );
        // An anonymous table: its SELECT is an operation of its own.
        assert_eq!(
            summary(
                "SELECT order_date\nFROM   (SELECT *\n        FROM   orders o\n\
                 JOIN customers c\n ON o.customer_id = c.customer_id)"
            ),
            "SELECT SELECT orders customers"
        );
        // Quoted names keep their quotes. The example's `'artists'` is a
        // string literal in PostgreSQL (and in standard SQL), not a table:
        // the summary never carries a literal, so it is left out where the
        // page shows `SELECT "song list" 'artists'`.
        assert_eq!(
            summary("SELECT *\nFROM   \"song list\",\n       'artists'"),
            "SELECT \"song list\""
        );
        // A stored procedure called through JDBC's escape: the operation as
        // written (no case normalization), then the procedure.
        assert_eq!(
            summary("{call some_stored_procedure}"),
            "call some_stored_procedure"
        );
        // SQL Server's convenience API has no text; its EXECUTE form.
        assert_eq!(
            summary("EXECUTE some_stored_procedure"),
            "EXECUTE some_stored_procedure"
        );
    }

    #[test]
    fn copy_names_its_table_not_the_stream() {
        assert_eq!(summary("COPY t FROM STDIN"), "COPY t");
        assert_eq!(
            summary("COPY public.t (a, b) FROM STDIN WITH (FORMAT csv)"),
            "COPY public.t"
        );
        assert_eq!(summary("COPY t TO STDOUT"), "COPY t");
        assert_eq!(
            summary("COPY (SELECT * FROM t JOIN u ON true) TO STDOUT"),
            "COPY SELECT t u"
        );
        assert_eq!(sanitize("COPY t FROM STDIN").collection(), Some("t"));
    }

    #[test]
    fn truncate_names_its_tables_with_or_without_table() {
        assert_eq!(summary("TRUNCATE t"), "TRUNCATE t");
        assert_eq!(summary("TRUNCATE TABLE t"), "TRUNCATE t");
        assert_eq!(
            summary("TRUNCATE ONLY a, b * RESTART IDENTITY CASCADE"),
            "TRUNCATE a b"
        );
        assert_eq!(sanitize("TRUNCATE t").collection(), Some("t"));
    }

    #[test]
    fn lock_names_its_tables() {
        assert_eq!(summary("LOCK t"), "LOCK t");
        assert_eq!(
            summary("LOCK TABLE ONLY a, b IN ACCESS EXCLUSIVE MODE NOWAIT"),
            "LOCK a b"
        );
    }

    /// DDL: the operation is the verb and the object type, as PostgreSQL's
    /// command tag names it (`CREATE FUNCTION` for `CREATE OR REPLACE
    /// FUNCTION`, `CREATE INDEX` for `CREATE UNIQUE INDEX`), then the object.
    #[test]
    fn create_or_replace_names_the_object() {
        assert_eq!(
            summary(
                "CREATE OR REPLACE FUNCTION f(a int) RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql"
            ),
            "CREATE FUNCTION f"
        );
        assert_eq!(
            summary("CREATE OR REPLACE VIEW v AS SELECT * FROM t"),
            "CREATE VIEW v SELECT t"
        );
        // A function is no collection.
        assert_eq!(sanitize("DROP FUNCTION f(int)").collection(), None);
        assert_eq!(
            summary("DROP FUNCTION IF EXISTS f(int), g()"),
            "DROP FUNCTION f g"
        );
    }

    #[test]
    fn two_word_object_types_keep_their_object() {
        assert_eq!(
            summary("CREATE MATERIALIZED VIEW v AS SELECT * FROM t"),
            "CREATE MATERIALIZED VIEW v SELECT t"
        );
        assert_eq!(
            summary("REFRESH MATERIALIZED VIEW CONCURRENTLY v"),
            "REFRESH MATERIALIZED VIEW v"
        );
        assert_eq!(
            summary("DROP FOREIGN TABLE IF EXISTS f"),
            "DROP FOREIGN TABLE f"
        );
        assert_eq!(
            summary("CREATE TEXT SEARCH CONFIGURATION public.c (COPY = english)"),
            "CREATE TEXT SEARCH CONFIGURATION public.c"
        );
        assert_eq!(
            summary("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)"),
            "CREATE INDEX i t"
        );
        assert_eq!(summary("CREATE INDEX ON t (a)"), "CREATE INDEX t");
        assert_eq!(
            summary("DROP TABLE IF EXISTS a, b CASCADE"),
            "DROP TABLE a b"
        );
        assert_eq!(
            summary("ALTER TABLE ONLY t ADD COLUMN c int"),
            "ALTER TABLE t"
        );
        assert_eq!(
            summary("CREATE TEMP TABLE x AS SELECT * FROM y"),
            "CREATE TABLE x SELECT y"
        );
        assert_eq!(
            summary("ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO r"),
            "ALTER DEFAULT PRIVILEGES"
        );
    }

    #[test]
    fn select_into_names_the_table_it_creates() {
        assert_eq!(summary("SELECT * INTO TABLE x FROM y"), "SELECT x y");
        assert_eq!(summary("SELECT a INTO TEMP x FROM y"), "SELECT x y");
    }

    #[test]
    fn statements_starting_with_a_parenthesis() {
        let s = sanitize("(SELECT * FROM a) UNION (SELECT * FROM b)");
        assert_eq!(s.summary, "SELECT a SELECT b");
        assert_eq!(s.operation, "SELECT");
        assert_eq!(summary("((SELECT 1))"), "SELECT");
    }

    #[test]
    fn every_operation_in_order() {
        let s = sanitize("INSERT INTO t SELECT * FROM u");
        assert_eq!(s.summary, "INSERT t SELECT u");
        // db.operation.name: the statement's own operation.
        assert_eq!(s.operation, "INSERT");
        assert_eq!(
            summary("INSERT INTO t SELECT * FROM t"),
            "INSERT t SELECT t"
        );
        assert_eq!(
            summary("SELECT a FROM x UNION ALL SELECT a FROM y; SELECT 1"),
            "SELECT x SELECT y SELECT"
        );
        // Not operations: an upsert's action, row locks, MERGE's actions,
        // foreign-key actions.
        assert_eq!(
            summary("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2"),
            "INSERT t"
        );
        assert_eq!(
            summary("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED"),
            "SELECT t"
        );
        assert_eq!(
            summary(
                "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a \
                 WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, s.a)"
            ),
            "MERGE t s"
        );
        assert_eq!(
            summary("CREATE TABLE c (p int REFERENCES p ON DELETE CASCADE ON UPDATE CASCADE)"),
            "CREATE TABLE c"
        );
        let with =
            sanitize("WITH d AS (DELETE FROM q RETURNING *) INSERT INTO log SELECT * FROM d");
        assert_eq!(with.summary, "DELETE q INSERT log SELECT");
        assert_eq!(with.operation, "INSERT");
    }

    /// Operations and names as the application wrote them (the conventions:
    /// no case normalization).
    #[test]
    fn case_as_written() {
        let s = sanitize("select a from Users");
        assert_eq!(s.summary, "select Users");
        assert_eq!(s.operation, "select");
        assert_eq!(summary("call P($1)"), "call P");
        assert_eq!(summary("Create  Table x (a int)"), "Create Table x");
    }

    /// The summary is cut between parts, never inside an operation or a
    /// name, and stays within its bound.
    #[test]
    fn long_summaries_end_on_a_whole_part() {
        let parts: Vec<String> = (0..60)
            .map(|i| format!("(SELECT * FROM table_{i})"))
            .collect();
        let sql = format!("SELECT * FROM {}", parts.join(" UNION "));
        // The whole summary would be `SELECT SELECT table_0 SELECT table_1 …`;
        // what is kept is its longest prefix of whole parts within the bound.
        let mut expected = "SELECT".to_owned();
        for part in (0..60).flat_map(|i| ["SELECT".to_owned(), format!("table_{i}")]) {
            if expected.len() + 1 + part.len() > MAX_SUMMARY_LEN {
                break;
            }
            expected.push(' ');
            expected.push_str(&part);
        }
        assert_eq!(summary(&sql), expected);
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
