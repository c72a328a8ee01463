//! The command line (clap's builder API: the parser criterion already pulls
//! into the tree, without a proc-macro build) and the values it resolves to.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Arg, ArgAction, Command};

use crate::prom::Auth;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Markdown,
    Json,
    None,
}

#[derive(Debug)]
pub struct Options {
    pub prom_url: String,
    pub auth: Auth,
    pub timeout: Duration,
    /// Unix seconds.
    pub end: f64,
    pub window: Duration,
    pub selector: Option<String>,
    pub format: Format,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub thresholds: Option<PathBuf>,
    pub regression_ratio: f64,
    pub fail_on_findings: bool,
}

/// What went wrong on the command line: exit code 1.
#[derive(Debug)]
pub enum ArgsError {
    /// `--help` or `--version`: printed, exit 0.
    Display(clap::Error),
    Usage(String),
}

pub fn command() -> Command {
    Command::new("wingspan-report")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Weekly performance report of a wingspan service, computed from a Prometheus-compatible API")
        .after_help(
            "Exit codes: 0 report written; 1 usage or configuration error; 2 Prometheus unreachable \
             or a query failed; 3 findings over thresholds (with --fail-on-findings).\n\
             Credentials come from the environment only: PROM_PASSWORD (with --user) or PROM_BEARER_TOKEN.",
        )
        .arg(
            Arg::new("prom-url")
                .long("prom-url")
                .env("PROM_URL")
                .default_value("http://127.0.0.1:9090")
                .help("Base URL of the Prometheus HTTP API (Mimir/Thanos: with their path prefix)"),
        )
        .arg(Arg::new("end").long("end").help("End of the window: RFC 3339 or unix seconds [default: now]"))
        .arg(
            Arg::new("window")
                .long("window")
                .default_value("7d")
                .help("Length of the window, compared with the window before it (7d, 24h, ...)"),
        )
        .arg(
            Arg::new("selector")
                .long("selector")
                .help(r#"Label matchers every query carries, e.g. job="api""#),
        )
        .arg(
            Arg::new("format")
                .long("format")
                .default_value("md")
                .value_parser(["md", "json", "none"])
                .help("What goes to standard output"),
        )
        .arg(Arg::new("md").long("md").value_name("FILE").help("Also write the Markdown report to FILE"))
        .arg(Arg::new("html").long("html").value_name("FILE").help("Write the HTML report (inline SVG charts) to FILE"))
        .arg(Arg::new("json").long("json").value_name("FILE").help("Write the JSON report to FILE"))
        .arg(
            Arg::new("user")
                .long("user")
                .env("PROM_USER")
                .help("Basic auth user; the password is read from PROM_PASSWORD"),
        )
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .default_value("30s")
                .help("Timeout of each query"),
        )
        .arg(
            Arg::new("thresholds")
                .long("thresholds")
                .value_name("FILE")
                .help("thresholds.json to judge against [default: the alerts/thresholds.json built in]"),
        )
        .arg(
            Arg::new("regression")
                .long("regression")
                .default_value("10")
                .help("A route regressed when its P95 grew by more than this many percent"),
        )
        .arg(
            Arg::new("fail-on-findings")
                .long("fail-on-findings")
                .action(ArgAction::SetTrue)
                .help("Exit 3 when a figure is over its threshold"),
        )
}

/// Parses `args` (the program name first); `env` reads the credentials.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Options, ArgsError> {
    let m = command()
        .try_get_matches_from(args)
        .map_err(|e| match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                ArgsError::Display(e)
            }
            _ => ArgsError::Usage(e.to_string()),
        })?;
    let s = |name: &str| m.get_one::<String>(name).cloned();
    let usage = ArgsError::Usage;

    let prom_url = s("prom-url").unwrap_or_default();
    if !(prom_url.starts_with("http://") || prom_url.starts_with("https://")) {
        return Err(usage(format!(
            "--prom-url (PROM_URL) = {prom_url:?}: expected an http:// or https:// URL"
        )));
    }
    let password = env("PROM_PASSWORD");
    let token = env("PROM_BEARER_TOKEN").filter(|t| !t.is_empty());
    let auth =
        match (s("user").filter(|u| !u.is_empty()), token) {
            (Some(_), Some(_)) => return Err(usage(
                "--user (PROM_USER) and PROM_BEARER_TOKEN are both set: pick basic or bearer auth"
                    .to_owned(),
            )),
            (Some(user), None) => Auth::Basic {
                user,
                password: password.ok_or_else(|| {
                    usage(
                        "--user (PROM_USER) is set but PROM_PASSWORD is not: basic auth needs both"
                            .to_owned(),
                    )
                })?,
            },
            (None, Some(t)) => Auth::Bearer(t),
            (None, None) => Auth::None,
        };
    let duration = |name: &str| -> Result<Duration, ArgsError> {
        let v = s(name).unwrap_or_default();
        humantime::parse_duration(&v)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                usage(format!(
                    "--{name} = {v:?}: expected a positive duration such as 7d, 24h or 30s"
                ))
            })
    };
    let window = duration("window")?;
    let timeout = duration("timeout")?;
    let end = match s("end") {
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
        Some(v) => parse_time(&v).ok_or_else(|| {
            usage(format!(
                "--end = {v:?}: expected RFC 3339 (2026-11-23T00:00:00Z) or unix seconds"
            ))
        })?,
    };
    let selector = s("selector")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if let Some(sel) = &selector {
        if sel.contains(['{', '}']) {
            return Err(usage(format!(
                r#"--selector = {sel:?}: expected label matchers without braces, e.g. job="api""#
            )));
        }
    }
    let regression = s("regression").unwrap_or_default();
    let regression_ratio = regression
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r >= 0.0)
        .ok_or_else(|| {
            usage(format!(
                "--regression = {regression:?}: expected a percentage >= 0, e.g. 10"
            ))
        })?
        / 100.0;
    let format = match s("format").as_deref() {
        Some("json") => Format::Json,
        Some("none") => Format::None,
        _ => Format::Markdown,
    };
    let path = |name: &str| s(name).map(PathBuf::from);
    Ok(Options {
        prom_url,
        auth,
        timeout,
        end,
        window,
        selector,
        format,
        markdown: path("md"),
        html: path("html"),
        json: path("json"),
        thresholds: path("thresholds"),
        regression_ratio,
        fail_on_findings: m.get_flag("fail-on-findings"),
    })
}

fn parse_time(v: &str) -> Option<f64> {
    if let Ok(secs) = v.parse::<f64>() {
        return Some(secs).filter(|s| s.is_finite() && *s >= 0.0);
    }
    humantime::parse_rfc3339_weak(v)
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        std::iter::once("wingspan-report")
            .chain(a.iter().copied())
            .map(String::from)
            .collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_are_a_week_ending_now_in_markdown() {
        let o = parse(args(&["--prom-url", "http://p:9090"]), no_env).unwrap();
        assert_eq!(o.window, Duration::from_secs(7 * 86_400));
        assert_eq!(o.format, Format::Markdown);
        assert_eq!(o.regression_ratio, 0.1);
        assert!(matches!(o.auth, Auth::None));
    }

    #[test]
    fn end_reads_rfc3339_and_unix_seconds() {
        let o = parse(args(&["--end", "1970-01-02T00:00:00Z"]), no_env).unwrap();
        assert_eq!(o.end, 86_400.0);
        let o = parse(args(&["--end", "86400"]), no_env).unwrap();
        assert_eq!(o.end, 86_400.0);
    }

    #[test]
    fn errors_name_the_option_and_the_value() {
        let e = |a: &[&str]| match parse(args(a), no_env) {
            Err(ArgsError::Usage(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(e(&["--window", "soon"]).contains(r#"--window = "soon""#));
        assert!(e(&["--prom-url", "p:9090"]).contains("--prom-url"));
        assert!(e(&["--selector", "{job=\"a\"}"]).contains("--selector"));
        assert!(e(&["--user", "u"]).contains("PROM_PASSWORD"));
        assert!(e(&["--bogus"]).contains("--bogus"));
    }

    #[test]
    fn credentials_come_from_the_environment() {
        let env = |k: &str| (k == "PROM_PASSWORD").then(|| "pw".to_owned());
        let o = parse(args(&["--user", "u"]), env).unwrap();
        assert!(matches!(o.auth, Auth::Basic { ref password, .. } if password == "pw"));
        let env = |k: &str| (k == "PROM_BEARER_TOKEN").then(|| "t".to_owned());
        assert!(matches!(
            parse(args(&[]), env).unwrap().auth,
            Auth::Bearer(_)
        ));
    }
}
