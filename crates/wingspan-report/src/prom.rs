//! A small client of the Prometheus HTTP API (`/api/v1/query`,
//! `/api/v1/query_range`), which Mimir, Thanos, Cortex and VictoriaMetrics
//! serve too. Blocking reqwest: the report runs its queries one after the
//! other and needs no runtime.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// How the report authenticates to the API.
#[derive(Clone)]
pub enum Auth {
    None,
    Basic { user: String, password: String },
    Bearer(String),
}

impl fmt::Debug for Auth {
    // Never print a password or token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("none"),
            Auth::Basic { user, .. } => write!(f, "basic ({user})"),
            Auth::Bearer(_) => f.write_str("bearer"),
        }
    }
}

/// Why a query gave no answer. Every variant names the query's endpoint.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("Prometheus at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Prometheus at {url} answered HTTP {status} to `{query}`: {body}")]
    Status {
        url: String,
        status: u16,
        query: String,
        body: String,
    },
    #[error("Prometheus at {url} rejected `{query}`: {error_type}: {error}")]
    Api {
        url: String,
        query: String,
        error_type: String,
        error: String,
    },
    #[error(
        "Prometheus at {url} sent an answer to `{query}` that is not the API's JSON: {reason}"
    )]
    Decode {
        url: String,
        query: String,
        reason: String,
    },
}

/// One series of an answer: its labels and its (unix seconds, value) points.
/// An instant vector has one point; NaN and infinite values are kept out
/// (a quantile of an empty histogram is NaN: no figure, not a zero).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

impl Series {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map(String::as_str).unwrap_or("")
    }

    /// The value of an instant vector's sample.
    pub fn value(&self) -> Option<f64> {
        self.points.first().map(|p| p.1)
    }
}

pub struct Prom {
    http: reqwest::blocking::Client,
    base: String,
    auth: Auth,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

impl Prom {
    /// A client of the API under `base` (`http://host:9090`, or a path prefix
    /// such as Mimir's `http://host/prometheus`).
    pub fn new(base: &str, auth: Auth, timeout: Duration) -> Result<Prom, String> {
        let tls = tls_config()?;
        let http = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .use_preconfigured_tls(tls)
            .user_agent(concat!("wingspan-report/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Prom {
            http,
            base: base.trim_end_matches('/').to_owned(),
            auth,
        })
    }

    /// `query` evaluated at `at` (unix seconds): an instant vector, or the
    /// raw samples of a range vector (`metric[7d]`).
    pub fn instant(&self, query: &str, at: f64) -> Result<Vec<Series>, PromError> {
        self.post("/api/v1/query", query, &[("time", fmt_time(at))])
    }

    /// `query` evaluated every `step` seconds from `start` to `end`.
    pub fn range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<Series>, PromError> {
        self.post(
            "/api/v1/query_range",
            query,
            &[
                ("start", fmt_time(start)),
                ("end", fmt_time(end)),
                ("step", fmt_time(step)),
            ],
        )
    }

    fn post(
        &self,
        path: &str,
        query: &str,
        params: &[(&str, String)],
    ) -> Result<Vec<Series>, PromError> {
        let url = format!("{}{path}", self.base);
        let mut form: Vec<(&str, &str)> = vec![("query", query)];
        form.extend(params.iter().map(|(k, v)| (*k, v.as_str())));
        // POST: a long query stays out of URL length limits and access logs.
        let request = self.http.post(&url).form(&form);
        let request = match &self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
            Auth::Bearer(token) => request.bearer_auth(token),
        };
        let response = request.send().map_err(|e| PromError::Unreachable {
            url: url.clone(),
            reason: error_chain(&e),
        })?;
        let status = response.status();
        let body = response.bytes().map_err(|e| PromError::Unreachable {
            url: url.clone(),
            reason: error_chain(&e),
        })?;
        // The API answers 400/422/503 with its JSON error envelope: prefer it.
        let envelope: Envelope = match serde_json::from_slice(&body) {
            Ok(e) => e,
            Err(e) if status.is_success() => {
                return Err(PromError::Decode {
                    url,
                    query: query.to_owned(),
                    reason: e.to_string(),
                })
            }
            Err(_) => {
                return Err(PromError::Status {
                    url,
                    status: status.as_u16(),
                    query: query.to_owned(),
                    body: snippet(&body),
                })
            }
        };
        if envelope.status != "success" {
            return Err(PromError::Api {
                url,
                query: query.to_owned(),
                error_type: envelope.error_type.unwrap_or_default(),
                error: envelope.error.unwrap_or_default(),
            });
        }
        let decode = |reason: String| PromError::Decode {
            url: url.clone(),
            query: query.to_owned(),
            reason,
        };
        let data = envelope.data.ok_or_else(|| decode("no data".to_owned()))?;
        parse_result(&data.result_type, data.result).map_err(decode)
    }
}

fn parse_result(result_type: &str, result: serde_json::Value) -> Result<Vec<Series>, String> {
    match result_type {
        "vector" | "matrix" => {
            let raw: Vec<RawSeries> = serde_json::from_value(result).map_err(|e| e.to_string())?;
            Ok(raw
                .into_iter()
                .map(|r| Series {
                    labels: r.metric,
                    points: r
                        .value
                        .into_iter()
                        .chain(r.values)
                        .filter_map(|(t, v)| {
                            v.parse::<f64>()
                                .ok()
                                .filter(|v| v.is_finite())
                                .map(|v| (t, v))
                        })
                        .collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect())
        }
        "scalar" => {
            let (t, v): (f64, String) =
                serde_json::from_value(result).map_err(|e| e.to_string())?;
            Ok(v.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| Series {
                    labels: BTreeMap::new(),
                    points: vec![(t, v)],
                })
                .into_iter()
                .collect())
        }
        other => Err(format!("unexpected result type {other}")),
    }
}

fn fmt_time(t: f64) -> String {
    format!("{t:.3}")
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// The error and its sources ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn tls_config() -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable system certificates leave https unusable, not http.
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_keep_labels_and_drop_nan() {
        let v = serde_json::json!([
            {"metric": {"http_route": "/a"}, "value": [100.0, "0.175"]},
            {"metric": {"http_route": "/b"}, "value": [100.0, "NaN"]}
        ]);
        let s = parse_result("vector", v).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].label("http_route"), "/a");
        assert_eq!(s[0].value(), Some(0.175));
    }

    #[test]
    fn matrices_keep_every_point() {
        let v = serde_json::json!([
            {"metric": {}, "values": [[1.0, "1"], [2.0, "+Inf"], [3.0, "3"]]}
        ]);
        let s = parse_result("matrix", v).unwrap();
        assert_eq!(s[0].points, vec![(1.0, 1.0), (3.0, 3.0)]);
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let a = Auth::Basic {
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{a:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer("tok".into())).contains("tok"));
    }

    #[test]
    fn unreachable_names_the_url() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let p = Prom::new(
            &format!("http://127.0.0.1:{port}"),
            Auth::None,
            Duration::from_secs(2),
        )
        .unwrap();
        let e = p.instant("up", 0.0).unwrap_err();
        assert!(matches!(e, PromError::Unreachable { .. }), "{e}");
        assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    }
}
