//! What a [`UserSession`](super::UserSession) refuses to send: statements
//! that would end its transaction, change its role or claims, or leave
//! state on the connection for its next borrower.
//!
//! The check reads every statement of the text (a `batch_execute` may hold
//! several), skipping comments and literals with the sanitizer's lexer. It
//! is a guard against mistakes and injected text, not a sandbox: a function
//! the database defines runs with whatever it does.

use crate::db::sanitize::{
    dollar_tag, end_of_block_comment, end_of_line_comment, end_of_quoted, end_of_quoted_ident,
    find, is_ident_char, is_ident_start,
};

const TRANSACTION: &str = "transaction control (a user session ends with commit() or rollback())";
const ROLE: &str = "a change of role or session authorization";
const CLAIMS: &str = "a change of the request.jwt claims";
const SESSION_SETTING: &str = "a session-level setting (use SET LOCAL)";
const SESSION_STATE: &str = "session state that would outlive the transaction";
const DO_BLOCK: &str = "a DO block (its body cannot be checked)";
const SET_CONFIG: &str = "a set_config call that is not transaction-local on a checkable setting";

/// A token of raw SQL: what the check needs and nothing more.
#[derive(Debug, PartialEq)]
enum T<'a> {
    Word(&'a str),
    /// A quoted identifier's body.
    Ident(&'a str),
    /// A string's body when it has no escapes to interpret; `None` otherwise.
    Str(Option<&'a str>),
    Punct(u8),
}

/// `Err(reason)` when any statement of `sql` must not run in a user session.
pub(crate) fn check(sql: &str) -> Result<(), &'static str> {
    lex(sql)
        .split(|t| *t == T::Punct(b';'))
        .try_for_each(statement)
}

fn lex(sql: &str) -> Vec<T<'_>> {
    let s = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let (tok, next) = token(sql, i);
        out.extend(tok);
        match next {
            Some(n) => i = n,
            // Unterminated: the server rejects the text; the rest is one literal.
            None => break,
        }
    }
    out
}

/// The token at `i` (none for blanks and comments) and where the next starts.
fn token(sql: &str, i: usize) -> (Option<T<'_>>, Option<usize>) {
    let s = sql.as_bytes();
    let b = s[i];
    match b {
        b'-' if s.get(i + 1) == Some(&b'-') => (None, Some(end_of_line_comment(s, i))),
        b'/' if s.get(i + 1) == Some(&b'*') => (None, end_of_block_comment(s, i)),
        b'\'' => string(sql, i + 1, false),
        b'"' => match end_of_quoted_ident(s, i + 1) {
            Some(end) => (Some(T::Ident(&sql[i + 1..end - 1])), Some(end)),
            None => (None, None),
        },
        b'$' => match dollar_tag(s, i) {
            Some(tag_end) if !s.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let tag = &s[i..tag_end];
                match find(s, tag_end, tag) {
                    Some(close) => (
                        Some(T::Str(Some(&sql[tag_end..close]))),
                        Some(close + tag.len()),
                    ),
                    None => (None, None),
                }
            }
            _ => (Some(T::Punct(b'$')), Some(i + 1)),
        },
        _ if is_ident_start(b) || b.is_ascii_digit() => word(sql, i),
        _ if b.is_ascii_whitespace() => (None, Some(i + 1)),
        // Multi-byte UTF-8 starts an identifier above: this is one ASCII byte.
        _ => (Some(T::Punct(b)), Some(i + 1)),
    }
}

/// A `'…'` body starting at `body`; `escapes` for `E'…'`, whose text the
/// check does not interpret.
fn string(sql: &str, body: usize, escapes: bool) -> (Option<T<'_>>, Option<usize>) {
    match end_of_quoted(sql.as_bytes(), body, escapes) {
        Some(end) => {
            let text = &sql[body..end - 1];
            let plain = !escapes && !text.contains('\'');
            (Some(T::Str(plain.then_some(text))), Some(end))
        }
        None => (None, None),
    }
}

/// A word or number; or a prefixed literal (`E'…'`, `B'…'`, `X'…'`, `N'…'`,
/// `U&'…'`) or identifier (`U&"…"`), whose text is left uninterpreted.
fn word(sql: &str, i: usize) -> (Option<T<'_>>, Option<usize>) {
    let s = sql.as_bytes();
    let mut j = i;
    while j < s.len() && is_ident_char(s[j]) {
        j += 1;
    }
    let w = &sql[i..j];
    let next = s.get(j).copied();
    if w.eq_ignore_ascii_case("u") && next == Some(b'&') {
        match s.get(j + 1) {
            Some(b'\'') => return string(sql, j + 2, true),
            Some(b'"') => {
                return match end_of_quoted_ident(s, j + 2) {
                    Some(end) => (Some(T::Ident("")), Some(end)),
                    None => (None, None),
                }
            }
            _ => {}
        }
    }
    if next == Some(b'\'')
        && w.len() == 1
        && matches!(w.as_bytes()[0] | 0x20, b'e' | b'b' | b'x' | b'n')
    {
        return string(sql, j + 1, true);
    }
    (Some(T::Word(w)), Some(j))
}

fn is(t: Option<&T<'_>>, w: &str) -> bool {
    matches!(t, Some(T::Word(x)) if x.eq_ignore_ascii_case(w))
}

/// A word or quoted identifier naming `name` (`role`, `"role"`).
fn names(t: Option<&T<'_>>, name: &str) -> bool {
    match t {
        Some(T::Word(x)) => x.eq_ignore_ascii_case(name),
        Some(T::Ident(x)) => *x == name,
        _ => false,
    }
}

fn statement(toks: &[T<'_>]) -> Result<(), &'static str> {
    let first = match toks.first() {
        Some(T::Word(w)) => w.to_ascii_lowercase(),
        _ => return set_config_calls(toks),
    };
    let at = |i: usize| toks.get(i);
    match first.as_str() {
        "commit" | "end" | "abort" | "begin" | "start" => Err(TRANSACTION),
        "rollback" => {
            let k = if is(at(1), "work") || is(at(1), "transaction") {
                2
            } else {
                1
            };
            // `ROLLBACK TO SAVEPOINT x` stays inside the transaction.
            if is(at(k), "to") {
                Ok(())
            } else {
                Err(TRANSACTION)
            }
        }
        "prepare" if is(at(1), "transaction") => Err(TRANSACTION),
        "set" => set(&toks[1..]),
        "reset" => {
            if names(at(1), "role") || names(at(1), "session_authorization") || is(at(1), "session")
            {
                Err(ROLE)
            } else {
                Err(SESSION_SETTING)
            }
        }
        "do" => Err(DO_BLOCK),
        "prepare" | "deallocate" | "discard" | "listen" | "unlisten" | "load" => Err(SESSION_STATE),
        "declare"
            if toks
                .windows(2)
                .any(|w| is(w.first(), "with") && is(w.get(1), "hold")) =>
        {
            Err(SESSION_STATE)
        }
        "create"
            if toks
                .iter()
                .take(4)
                .any(|t| is(Some(t), "temp") || is(Some(t), "temporary")) =>
        {
            Err(SESSION_STATE)
        }
        _ => set_config_calls(toks),
    }
}

/// `SET [SESSION | LOCAL] …`, after `SET`.
fn set(rest: &[T<'_>]) -> Result<(), &'static str> {
    let (local, rest) = match rest.first() {
        Some(t) if is(Some(t), "local") => (true, &rest[1..]),
        Some(t) if is(Some(t), "session") => (false, &rest[1..]),
        _ => (false, rest),
    };
    let name = rest.first();
    if names(name, "role") || names(name, "session_authorization") || is(name, "authorization") {
        return Err(ROLE);
    }
    if is_claims(rest) {
        return Err(CLAIMS);
    }
    // `SET TRANSACTION …` and `SET CONSTRAINTS …` end with the transaction.
    if local || ((is(name, "transaction") || is(name, "constraints")) && rest.len() > 1) {
        Ok(())
    } else {
        Err(SESSION_SETTING)
    }
}

/// Whether the setting named at the start of `toks` is `request.jwt…`.
fn is_claims(toks: &[T<'_>]) -> bool {
    names(toks.first(), "request")
        && toks.get(1) == Some(&T::Punct(b'.'))
        && match toks.get(2) {
            Some(T::Word(w)) | Some(T::Ident(w)) => {
                w.len() >= 3 && w[..3].eq_ignore_ascii_case("jwt")
            }
            _ => false,
        }
}

fn setting_is_protected(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "role" || name == "session_authorization" || name.starts_with("request.jwt")
}

/// Every `set_config(…)` in the statement must be
/// `set_config('<name>', <value>, true)` on a setting other than the role,
/// the session authorization and the claims.
fn set_config_calls(toks: &[T<'_>]) -> Result<(), &'static str> {
    for (i, t) in toks.iter().enumerate() {
        if !names(Some(t), "set_config") || toks.get(i + 1) != Some(&T::Punct(b'(')) {
            continue;
        }
        let args = arguments(&toks[i + 2..]);
        match args.as_slice() {
            [[T::Str(Some(name))], _, [local]] if is(Some(local), "true") => {
                if setting_is_protected(name) {
                    return Err(if name.to_ascii_lowercase().starts_with("request.jwt") {
                        CLAIMS
                    } else {
                        ROLE
                    });
                }
            }
            _ => return Err(SET_CONFIG),
        }
    }
    Ok(())
}

/// The comma-separated arguments up to the `)` closing a call.
fn arguments<'t, 'a>(toks: &'t [T<'a>]) -> Vec<&'t [T<'a>]> {
    let mut args = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, t) in toks.iter().enumerate() {
        match t {
            T::Punct(b'(' | b'[') => depth += 1,
            T::Punct(b')' | b']') if depth == 0 => {
                args.push(&toks[start..i]);
                return args;
            }
            T::Punct(b')' | b']') => depth -= 1,
            T::Punct(b',') if depth == 0 => {
                args.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    // Never closed: not checkable.
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_would_leave_the_transaction_or_change_the_role() {
        for sql in [
            "COMMIT",
            "commit and chain",
            "  /* c */ Commit;",
            "END",
            "ABORT",
            "ROLLBACK",
            "rollback work",
            "ROLLBACK PREPARED 'x'",
            "BEGIN",
            "START TRANSACTION",
            "PREPARE TRANSACTION 'x'",
            "COMMIT PREPARED 'x'",
            "SELECT 1; COMMIT",
            "SELECT 'a;b'; -- x\n commit",
            "SET ROLE postgres",
            "SET LOCAL ROLE NONE",
            "set session role none",
            "SET role = 'none'",
            "SET \"role\" TO DEFAULT",
            "SET SESSION AUTHORIZATION DEFAULT",
            "SET LOCAL session_authorization = postgres",
            "RESET ROLE",
            "RESET SESSION AUTHORIZATION",
            "RESET ALL",
            "RESET search_path",
            "SET search_path = public",
            "SET SESSION statement_timeout = 0",
            "SET LOCAL request.jwt.claims = '{}'",
            "SET LOCAL \"request\".\"jwt.claim.sub\" = 'x'",
            "SELECT set_config('role', 'none', true)",
            "SELECT pg_catalog.set_config('ROLE', 'none', true)",
            "SELECT set_config('request.jwt.claims', '{}', true)",
            "SELECT set_config('search_path', 'x', false)",
            "SELECT set_config($1, 'x', true)",
            "SELECT set_config(E'r\\x6fle', 'none', true)",
            "SELECT \"set_config\"('role', 'none', true)",
            "DO $$ BEGIN PERFORM set_config('role', 'none', true); END $$",
            "LISTEN x",
            "DISCARD PLANS",
            "PREPARE q AS SELECT 1",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
            "CREATE TEMP TABLE t (x int)",
            "LOAD 'x'",
        ] {
            assert!(check(sql).is_err(), "accepted: {sql}");
        }
    }

    #[test]
    fn accepts_what_stays_inside_the_transaction() {
        for sql in [
            "SELECT 1",
            "SELECT 'COMMIT; SET ROLE postgres'",
            "SELECT $$ ; commit $$",
            "INSERT INTO t (a) VALUES ($1) -- ; commit",
            "SELECT \"commit\" FROM t",
            "SAVEPOINT a; RELEASE SAVEPOINT a",
            "ROLLBACK TO SAVEPOINT a",
            "rollback transaction to a",
            "SET LOCAL statement_timeout = 1000",
            "SET LOCAL search_path = public",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "SET CONSTRAINTS ALL DEFERRED",
            "SELECT set_config('app.tenant', $1, true)",
            "SELECT set_config('app.x', 'y', true), set_config('app.z', now()::text, true)",
            "DECLARE c CURSOR FOR SELECT 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "",
            ";",
        ] {
            assert_eq!(check(sql), Ok(()), "refused: {sql}");
        }
    }
}
