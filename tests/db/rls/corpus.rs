//! The statements the differential test runs through a user session and,
//! unguarded, through a plain connection as the same login role: every
//! spelling, quoting, case, comment and whitespace variant of what the
//! grammar allows for the role, the session authorization, the claims and
//! the settings the guard reads SQL by, `set_config` in every position,
//! code the guard cannot read (`DO`, `EXECUTE`, temporary functions,
//! functions that run SQL text), transaction control, lexer traps, and
//! statements a user session legitimately runs.

/// Where the statements point: the login role (always reachable with `SET
/// ROLE`), the other session role, the test's schema (a table `t` and a
/// procedure `noop(text)`), and two statements prepared on the connection
/// (`wsx_role(text)`, `wsx_claims(text)`).
pub(super) struct Names<'a> {
    pub login: &'a str,
    pub other: &'a str,
    pub schema: &'a str,
}

const FORGED: &str = r#"'{"sub":"evil","role":"authenticated"}'"#;

/// Scopes of `SET`, spelled every way the lexer allows.
const SCOPES: &[&str] = &[
    "SET",
    "SET LOCAL",
    "SET SESSION",
    "set local",
    "SeT/**/LoCaL",
    "SET\n\tLOCAL",
    "SET -- c\nLOCAL",
    "SET /* a /* nested */ b */ LOCAL",
];

const ASSIGNS: &[&str] = &[" TO ", " = ", "=", "/**/=/**/", " to "];

/// `role` as a setting name.
const ROLE_NAMES: &[&str] = &[
    "role",
    "ROLE",
    "Role",
    "rOlE",
    r#""role""#,
    r#""ROLE""#,
    r#""Role""#,
    r#"U&"r\006Fle""#,
    r#"U&"\0072\006F\006C\0065""#,
    r#"U&"r!006Fle" UESCAPE '!'"#,
    r#"u&"R\006fLE""#,
];

/// `session_authorization` as a setting name.
const SESSION_AUTHORIZATION_NAMES: &[&str] = &[
    "session_authorization",
    "SESSION_AUTHORIZATION",
    r#""session_authorization""#,
    r#""Session_Authorization""#,
    r#""SESSION_AUTHORIZATION""#,
    r#"U&"session\005Fauthorization""#,
];

/// The claims' settings, by name.
const CLAIMS_NAMES: &[&str] = &[
    "request.jwt.claims",
    "REQUEST.JWT.CLAIMS",
    "Request.Jwt.Claims",
    r#""request"."jwt.claims""#,
    r#""REQUEST"."JWT.CLAIMS""#,
    r#""request.jwt.claims""#,
    r#"request."jwt.claims""#,
    r#""request.jwt".claims"#,
    "request . jwt . claims",
    "request/**/./**/jwt/**/./**/claims",
    r#"U&"request".U&"jwt\002Eclaims""#,
    "request.jwt.claim.sub",
    r#""request.jwt.claim.sub""#,
    r#"REQUEST."JWT".CLAIM.SUB"#,
];

/// `set_config` as a function name.
const SET_CONFIG_NAMES: &[&str] = &[
    "set_config",
    "SET_CONFIG",
    "Set_Config",
    "pg_catalog.set_config",
    r#""set_config""#,
    r#"pg_catalog."set_config""#,
    r#""pg_catalog".set_config"#,
    r#"U&"set\005Fconfig""#,
    "set_config /* c */",
];

/// `'role'` as a string, every way one can be written.
const ROLE_STRINGS: &[&str] = &[
    "'role'",
    "'ROLE'",
    "$$role$$",
    "$q$Role$q$",
    r"U&'r\006Fle'",
    r"E'r\x6fle'",
    "'ro'\n'le'",
    "'ro' || 'le'",
    "lower('ROLE')",
    "concat('ro', 'le')",
    "chr(114) || 'ole'",
    "(SELECT 'role')",
];

pub(super) fn statements(n: &Names<'_>) -> Vec<String> {
    let Names {
        login,
        other,
        schema,
    } = *n;
    let mut out: Vec<String> = Vec::new();

    // The role as a setting, every scope and spelling.
    for name in ROLE_NAMES {
        for scope in SCOPES {
            out.push(format!("{scope} {name} TO {login}"));
        }
        for assign in ASSIGNS {
            out.push(format!("SET LOCAL {name}{assign}{other}"));
        }
        out.push(format!("SET LOCAL {name} = '{login}'"));
        out.push(format!("SET LOCAL {name} TO DEFAULT"));
    }
    // The ROLE syntax.
    for scope in SCOPES {
        for value in [
            login.to_owned(),
            format!("'{login}'"),
            format!("\"{login}\""),
            other.to_owned(),
            "NONE".to_owned(),
            "none".to_owned(),
            "postgres".to_owned(),
        ] {
            out.push(format!("{scope} ROLE {value}"));
        }
    }
    // The session authorization as a setting, and its syntax.
    for name in SESSION_AUTHORIZATION_NAMES {
        for scope in SCOPES {
            out.push(format!("{scope} {name} TO DEFAULT"));
            out.push(format!("{scope} {name} = {login}"));
        }
    }
    for scope in SCOPES {
        for value in ["DEFAULT", login, &format!("'{login}'"), "postgres"] {
            out.push(format!("{scope} SESSION AUTHORIZATION {value}"));
        }
    }
    out.push("SET SESSION SESSION AUTHORIZATION DEFAULT".into());
    out.push("set local session/**/authorization default".into());
    // The claims.
    for name in CLAIMS_NAMES {
        for scope in SCOPES {
            out.push(format!("{scope} {name} = {FORGED}"));
        }
        out.push(format!("SET LOCAL {name} TO $${{\"sub\":\"evil\"}}$$"));
    }
    // The settings the guard reads SQL by.
    for sql in [
        "SET LOCAL standard_conforming_strings = off",
        "SET LOCAL \"Standard_Conforming_Strings\" TO off",
        "SET standard_conforming_strings = off",
        "SET LOCAL client_encoding = 'LATIN1'",
        "SET LOCAL \"CLIENT_ENCODING\" TO 'LATIN1'",
        "SET LOCAL NAMES 'LATIN1'",
        "SET NAMES 'LATIN1'",
        "SELECT set_config('standard_conforming_strings', 'off', true)",
        "SELECT set_config('Client_Encoding', 'LATIN1', true)",
        "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
        "UPDATE pg_catalog.\"pg_settings\" SET setting = 'LATIN1' WHERE name = 'client_encoding'",
        "WITH u AS (UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings' RETURNING 1) SELECT * FROM u",
    ] {
        out.push(sql.into());
    }
    // RESET, always session-level.
    for sql in [
        "RESET ROLE",
        "reset role",
        "RESET \"Role\"",
        "RESET SESSION AUTHORIZATION",
        "RESET session_authorization",
        "RESET ALL",
        "RESET request.jwt.claims",
        "RESET \"REQUEST.JWT.CLAIMS\"",
        "RESET standard_conforming_strings",
    ] {
        out.push(sql.into());
    }
    // set_config: every spelling of the function and of the name.
    for f in SET_CONFIG_NAMES {
        for name in ROLE_STRINGS {
            out.push(format!("SELECT {f}({name}, '{login}', true)"));
        }
        out.push(format!("SELECT {f}('request.jwt.claims', {FORGED}, true)"));
    }
    for name in [
        "'session_authorization'",
        "'SESSION_AUTHORIZATION'",
        "'request.jwt.claims'",
        "'REQUEST.JWT.CLAIMS'",
        "'request.jwt.claim.sub'",
        "U&'request.jwt.claim\\002Esub'",
    ] {
        for local in ["true", "TRUE", "'t'", "'true'", "1::bool", "false"] {
            let value = if name.contains("claim") {
                FORGED.to_owned()
            } else {
                format!("'{login}'")
            };
            out.push(format!("SELECT set_config({name}, {value}, {local})"));
        }
    }
    for local in ["true", "'t'", "false", "1 = 1"] {
        out.push(format!("SELECT set_config('role', '{login}', {local})"));
    }
    // set_config in every position a query allows.
    for call in [
        format!("set_config('role', '{login}', true)"),
        format!("set_config('role', '{other}', true)"),
        format!("set_config('request.jwt.claims', {FORGED}, true)"),
        "set_config('request.jwt.claim.sub', 'evil', false)".to_owned(),
    ] {
        for sql in [
            format!("SELECT {call}"),
            format!("SELECT * FROM {call}"),
            format!("SELECT x FROM ROWS FROM ({call}) AS r(x)"),
            format!("SELECT (SELECT {call})"),
            format!("SELECT 1 WHERE {call} IS NOT NULL"),
            format!("SELECT 1 FROM generate_series(1, 1) g WHERE {call} <> ''"),
            format!("WITH x AS (SELECT {call}) SELECT * FROM x"),
            format!("WITH x AS MATERIALIZED (SELECT {call}) SELECT * FROM x"),
            format!("VALUES ({call})"),
            format!("SELECT coalesce(NULL, {call})"),
            format!("SELECT CASE WHEN true THEN {call} END"),
            format!("SELECT ARRAY[{call}]"),
            format!("EXPLAIN ANALYZE SELECT {call}"),
            format!("EXPLAIN (ANALYZE, COSTS OFF) SELECT {call}"),
            format!("INSERT INTO {schema}.t SELECT length({call})"),
            format!("UPDATE {schema}.t SET x = length({call})"),
            format!("DELETE FROM {schema}.t WHERE x = length({call})"),
            format!("CALL {schema}.noop({call})"),
            format!("SELECT 1; SELECT {call}"),
            format!("DECLARE c CURSOR FOR SELECT {call}; FETCH c"),
        ] {
            out.push(sql);
        }
    }
    // Code the guard cannot read.
    for sql in [
        format!("DO $$ BEGIN PERFORM set_config('role', '{login}', true); END $$"),
        format!("DO $$ BEGIN EXECUTE 'SET LOCAL ROLE {login}'; END $$"),
        r#"DO $$ BEGIN EXECUTE 'SET LOCAL request.jwt.claims = ''{"sub":"evil"}'''; END $$"#.to_owned(),
        "do language plpgsql $q$ begin execute 'reset role'; end $q$".to_owned(),
        format!("PREPARE p AS SELECT set_config($1, $2, true); EXECUTE p('role', '{login}')"),
        format!("EXECUTE wsx_role('{login}')"),
        format!("EXECUTE wsx_claims({FORGED})"),
        format!("EXPLAIN ANALYZE EXECUTE wsx_role('{login}')"),
        format!("CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE sql AS $$ SELECT set_config('role', '{login}', true) $$; SELECT pg_temp.f()"),
        r#"CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE sql AS 'SELECT set_config(''request.jwt.claims'', ''{"sub":"evil"}'', true)'; SELECT pg_temp.f()"#.to_owned(),
        format!("CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SET LOCAL ROLE {login}'; RETURN 'x'; END $$; SELECT pg_temp.f()"),
        format!("CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE sql SET role = {login} AS $$ SELECT current_user::text $$; SELECT pg_temp.f()"),
        format!("CREATE PROCEDURE pg_temp.p() LANGUAGE sql AS $$ SELECT set_config('role', '{login}', true) $$; CALL pg_temp.p()"),
        format!("CREATE TEMP VIEW v AS SELECT set_config('role', '{login}', true); SELECT * FROM v"),
        format!("CREATE VIEW pg_temp.v AS SELECT set_config('role', '{login}', true); TABLE pg_temp.v"),
        format!("SELECT query_to_xml('SELECT set_config(''role'', ''{login}'', true)', true, false, '')"),
        format!("SELECT query_to_xml_and_xmlschema('SELECT set_config(''role'', ''{login}'', true)', true, false, '')"),
        r#"SELECT pg_catalog.query_to_xml($$SELECT set_config('request.jwt.claims', '{"sub":"evil"}', true)$$, true, false, '')"#.to_owned(),
        "SELECT * FROM ts_stat('SELECT to_tsvector(set_config(''request.jwt.claims'', ''{\"sub\":\"evil\"}'', true))')".to_owned(),
        format!("SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, set_config(''role'', ''{login}'', true)::tsquery')"),
        format!("SELECT 1 INTO pg_temp.t2; SELECT set_config('role', '{login}', true)"),
        format!("SELECT set_config('role', '{login}', true) INTO pg_temp.t3"),
        format!("ALTER ROLE CURRENT_USER SET request.jwt.claims = {FORGED}"),
        "SELECT pg_try_advisory_lock(736452)".to_owned(),
    ] {
        out.push(sql);
    }
    // Transaction control: leaving the transaction leaves the role and claims.
    for sql in [
        "COMMIT",
        "commit work",
        "END",
        "ABORT",
        "ROLLBACK",
        "ROLLBACK TRANSACTION",
        "COMMIT AND CHAIN",
        "ROLLBACK AND CHAIN",
        "SELECT 1; COMMIT",
        "COMMIT; BEGIN",
        "SAVEPOINT a; COMMIT",
        "BEGIN",
        "START TRANSACTION",
        "DISCARD ALL",
        "DISCARD PLANS",
    ] {
        out.push(sql.into());
    }
    // Where a lexer that parts from PostgreSQL's would read code as a
    // literal or a comment.
    for sql in [
        format!("SELECT 1 --\r; SET LOCAL ROLE {login}"),
        format!("SELECT 1 -- x\r\n; SET LOCAL ROLE {login}"),
        format!("SELECT U&'\\' UESCAPE '!', set_config('role','{login}',true) --'"),
        format!("SELECT E'a'\n'\\' ' ; SET LOCAL ROLE {login}; --'"),
        format!("SELECT 1$a$ $a$; SET LOCAL ROLE {login}"),
        format!("SELECT /* /* */ 1 */ 1; SET LOCAL ROLE {login}"),
        format!("SELECT 'a' /* */\n'b'; SET LOCAL ROLE {login}"),
        format!("SELECT $a$ $b$ $a$; SET LOCAL ROLE {login}"),
        format!("SELECT \"a\"\"\"; SET LOCAL ROLE {login}"),
        format!("SELECT 'it''s'; SET LOCAL ROLE {login}"),
        format!("SELECT B'01'; SET LOCAL ROLE {login}"),
        format!("SELECT N'x'; SET LOCAL ROLE {login}"),
        format!("SELECT 1/*x*/; SET LOCAL ROLE {login}"),
        format!("SELECT 1\x0c; SET LOCAL ROLE {login}"),
        format!("SELECT 'a'\n'b'; SET LOCAL ROLE {login}"),
        format!("SELECT U&\"a\"\"b\"; SET LOCAL ROLE {login}"),
    ] {
        out.push(sql);
    }
    // What a user session runs: accepted, and nothing changes.
    for sql in [
        "SELECT 1".to_owned(),
        "SELECT current_user, session_user".to_owned(),
        "SELECT current_setting('role'), current_setting('request.jwt.claims', true)".to_owned(),
        "SHOW role".to_owned(),
        "SHOW session_authorization".to_owned(),
        "SET LOCAL statement_timeout = 5000".to_owned(),
        "SET LOCAL app.tenant = 'x'".to_owned(),
        "SET LOCAL role.x = 1".to_owned(),
        "SET LOCAL session.x TO 1".to_owned(),
        "SET LOCAL request.headers = '{}'".to_owned(),
        "SET LOCAL \"request\".\"method\" = 'GET'".to_owned(),
        "SET LOCAL search_path = public".to_owned(),
        "SET LOCAL TIME ZONE 'UTC'".to_owned(),
        "SET LOCAL work_mem FROM CURRENT".to_owned(),
        "SET TRANSACTION READ WRITE".to_owned(),
        "SET CONSTRAINTS ALL IMMEDIATE".to_owned(),
        "SELECT set_config('app.x', 'y', true)".to_owned(),
        "SELECT set_config('request.headers', '{}', true)".to_owned(),
        "SELECT set_config('app.x', current_setting('role'), TRUE)".to_owned(),
        "SAVEPOINT a; SET LOCAL app.x = 1; ROLLBACK TO SAVEPOINT a; RELEASE a".to_owned(),
        "SELECT name FROM pg_settings WHERE name = 'role'".to_owned(),
        format!("SELECT count(*) FROM {schema}.t"),
        format!("INSERT INTO {schema}.t VALUES (1)"),
        format!("WITH i AS (INSERT INTO {schema}.t VALUES (2) RETURNING x) SELECT * FROM i"),
        format!("TABLE {schema}.t"),
        format!("LOCK TABLE {schema}.t IN SHARE MODE"),
        format!("CALL {schema}.noop('x')"),
        "VALUES (1), (2)".to_owned(),
        "EXPLAIN SELECT 1".to_owned(),
        "DECLARE c CURSOR FOR SELECT 1; FETCH c; CLOSE c".to_owned(),
        "NOTIFY wsx_channel".to_owned(),
        "SELECT pg_advisory_xact_lock(736453)".to_owned(),
        "SELECT 'SET ROLE postgres', $$ RESET ROLE $$, \"select\" FROM (SELECT 1 AS \"select\") s"
            .to_owned(),
    ] {
        out.push(sql);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|s| seen.insert(s.clone()));
    out
}
