//! Two weeks of wingspan's series with known values, as OpenMetrics text
//! for `promtool tsdb create-blocks-from openmetrics`: one sample every
//! STEP seconds (ALERTS once a minute while firing, as a rule evaluation
//! writes them). Every increment belongs to the week of the sample that
//! carries it, so `increase(...[7d])` at the end of either week is exactly
//! that week's traffic.

use std::fmt::Write;

pub const STEP: i64 = 900;
pub const DAY: i64 = 86_400;
pub const WEEK: i64 = 7 * DAY;
/// Samples of one week (t in (start, end]).
pub const STEPS_PER_WEEK: f64 = (WEEK / STEP) as f64;

/// The HTTP duration buckets of alerts/thresholds.json (README).
const HTTP_BOUNDS: [f64; 15] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
const WAIT_BOUNDS: [f64; 5] = [0.001, 0.005, 0.01, 0.05, 0.1];

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Week {
    Previous,
    Current,
}

/// The generated world: its end, the report's window (two of them are
/// generated), and the values the report must find.
#[derive(Clone, Copy)]
pub struct Plan {
    pub end: i64,
    pub window: i64,
}

/// Known values (per sample step unless said otherwise).
pub mod known {
    /// /api/users: (value, count) observed per step.
    pub const USERS_CURRENT: [(f64, f64); 3] = [(0.04, 50.0), (0.09, 40.0), (0.2, 10.0)];
    pub const USERS_PREVIOUS: [(f64, f64); 3] = [(0.04, 50.0), (0.09, 45.0), (0.2, 5.0)];
    /// histogram_quantile's interpolation of the above.
    pub const USERS_P95_CURRENT: f64 = 0.175;
    pub const USERS_P95_PREVIOUS: f64 = 0.1;
    /// Pool: connections per step and busy period.
    pub const POOL_MAX: f64 = 10.0;
    pub const HOLD_SECONDS: f64 = 0.05;
    pub const ACQUIRES_QUIET: f64 = 20.0;
    pub const ACQUIRES_BUSY_CURRENT: f64 = 100.0;
    pub const ACQUIRES_BUSY_PREVIOUS: f64 = 60.0;
    pub const USED_BUSY_CURRENT: f64 = 9.0;
    pub const USED_BUSY_PREVIOUS: f64 = 6.0;
    /// LLM calls of one model and task, per step; tokens and prices per call.
    pub struct LlmUse {
        pub model: &'static str,
        pub task: &'static str,
        pub calls_current: f64,
        pub calls_previous: f64,
        pub input_tokens: f64,
        pub output_tokens: f64,
        pub usd_per_m_input: f64,
        pub usd_per_m_output: f64,
    }

    impl LlmUse {
        pub fn usd_per_call(&self) -> f64 {
            (self.input_tokens * self.usd_per_m_input + self.output_tokens * self.usd_per_m_output)
                / 1e6
        }
    }

    const fn llm(
        model: &'static str,
        task: &'static str,
        calls: (f64, f64),
        usd_per_m: (f64, f64),
    ) -> LlmUse {
        LlmUse {
            model,
            task,
            calls_current: calls.0,
            calls_previous: calls.1,
            input_tokens: 1000.0,
            output_tokens: 500.0,
            usd_per_m_input: usd_per_m.0,
            usd_per_m_output: usd_per_m.1,
        }
    }

    pub const LLM: [LlmUse; 3] = [
        llm("claude-sonnet-4-5", "coach", (2.0, 1.0), (3.0, 15.0)),
        llm("claude-haiku-4-5", "coach", (1.0, 1.0), (1.0, 5.0)),
        llm("claude-haiku-4-5", "summarize", (4.0, 4.0), (1.0, 5.0)),
    ];
    pub const COACH_REQUESTS: f64 = 10.0;
    /// The latency alert's episodes: (seconds before the end, length in seconds).
    pub const ALERT_CURRENT: [(i64, i64); 2] = [(3 * super::DAY, 7200), (super::DAY, 1800)];
    pub const ALERT_PREVIOUS: [(i64, i64); 1] = [(10 * super::DAY, 3600)];
}

impl Plan {
    /// Ends on the hour, `hours_ago` hours before now: backfilled blocks
    /// must be older than the head Prometheus starts with.
    pub fn new(hours_ago: i64, window: i64) -> Plan {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        Plan {
            end: (now / 3600 - hours_ago) * 3600,
            window,
        }
    }

    pub fn start(&self) -> i64 {
        self.end - 2 * self.window
    }

    /// Which window `t` is in (`Week` names them; the window may be shorter).
    fn week(&self, t: i64) -> Week {
        if t > self.end - self.window {
            Week::Current
        } else {
            Week::Previous
        }
    }

    /// The pool's busy hours end 2/7 of a window (two days of a week)
    /// before each window's end; three hours long, so every 1-hour rate
    /// inside them is exact.
    pub fn busy_end(&self) -> i64 {
        self.end - (2 * self.window / 7) / 3600 * 3600
    }

    fn busy(&self, t: i64) -> bool {
        let b = self.busy_end();
        (t > b - 3 * 3600 && t <= b) || (t > b - self.window - 3 * 3600 && t <= b - self.window)
    }

    fn times(&self) -> impl Iterator<Item = i64> + '_ {
        (0..=(2 * self.window / STEP)).map(move |i| self.start() + i * STEP)
    }

    /// The OpenMetrics text.
    pub fn openmetrics(&self) -> String {
        let mut om = Om {
            text: String::with_capacity(64 << 20),
            plan: self,
        };
        use known::*;
        let api = r#"job="api""#;
        // HTTP: /api/users (the P95 under test), /api/orders near the line
        // with its errors, /api/coach an LLM route; job "bare" has HTTP only.
        om.histogram(
            "http_server_request_duration_seconds",
            &format!(r#"{api},http_route="/api/users",http_request_method="GET",http_response_status_code="200",url_scheme="http",wingspan_route_class="standard""#),
            &HTTP_BOUNDS,
            |w, _| if w == Week::Current { USERS_CURRENT.to_vec() } else { USERS_PREVIOUS.to_vec() },
        );
        om.histogram(
            "http_server_request_duration_seconds",
            &format!(r#"{api},http_route="/api/orders",http_request_method="POST",http_response_status_code="201",url_scheme="http",wingspan_route_class="standard""#),
            &HTTP_BOUNDS,
            |_, _| vec![(0.28, 50.0)],
        );
        om.histogram(
            "http_server_request_duration_seconds",
            &format!(r#"{api},http_route="/api/orders",http_request_method="POST",http_response_status_code="500",error_type="500",url_scheme="http",wingspan_route_class="standard""#),
            &HTTP_BOUNDS,
            |w, _| vec![(0.008, if w == Week::Current { 2.0 } else { 1.0 })],
        );
        om.histogram(
            "http_server_request_duration_seconds",
            &format!(r#"{api},http_route="/api/coach",http_request_method="POST",http_response_status_code="200",url_scheme="http",wingspan_route_class="llm""#),
            &HTTP_BOUNDS,
            |_, _| vec![(3.0, COACH_REQUESTS)],
        );
        om.histogram(
            "http_server_request_duration_seconds",
            r#"job="bare",http_route="/health",http_request_method="GET",http_response_status_code="200",url_scheme="http",wingspan_route_class="standard""#,
            &HTTP_BOUNDS,
            |_, _| vec![(0.002, 10.0)],
        );

        // The pool "main".
        let pool = format!(r#"{api},db_client_connection_pool_name="main""#);
        om.gauge(&format!("db_client_connection_max{{{pool}}}"), |_, _| {
            POOL_MAX
        });
        om.gauge(
            &format!(r#"db_client_connection_count{{{pool},db_client_connection_state="used"}}"#),
            |w, busy| match (busy, w) {
                (false, _) => 3.0,
                (true, Week::Current) => USED_BUSY_CURRENT,
                (true, Week::Previous) => USED_BUSY_PREVIOUS,
            },
        );
        let acquires = |w: Week, busy: bool| {
            let per_second = match (busy, w) {
                (false, _) => ACQUIRES_QUIET,
                (true, Week::Current) => ACQUIRES_BUSY_CURRENT,
                (true, Week::Previous) => ACQUIRES_BUSY_PREVIOUS,
            };
            per_second * STEP as f64
        };
        om.histogram(
            "db_client_connection_use_time_seconds",
            &pool,
            &[],
            |w, busy| vec![(HOLD_SECONDS, acquires(w, busy))],
        );
        om.histogram(
            "db_client_connection_wait_time_seconds",
            &pool,
            &WAIT_BOUNDS,
            |w, busy| {
                let n = acquires(w, busy);
                match w {
                    Week::Current => vec![(0.0005, n * 0.9), (0.008, n * 0.1)],
                    Week::Previous => vec![(0.0005, n)],
                }
            },
        );
        om.counter(
            &format!("db_client_connection_timeouts_total{{{pool}}}"),
            |w, busy| {
                if busy && w == Week::Current {
                    1.0
                } else {
                    0.0
                }
            },
        );
        // Statements: SELECT orders doubles its time.
        for (op, table, secs_current, secs_previous) in [
            ("SELECT", "orders", 0.02, 0.01),
            ("UPDATE", "users", 0.005, 0.005),
        ] {
            om.histogram(
                "db_client_operation_duration_seconds",
                &format!(r#"{api},db_system_name="postgresql",db_namespace="app",db_operation_name="{op}",db_collection_name="{table}""#),
                &[],
                move |w, _| vec![(if w == Week::Current { secs_current } else { secs_previous }, 100.0)],
            );
        }

        // Cache: "users" at 80 %, "sessions" from 75 % down to 50 %.
        for (name, result, current, previous) in [
            ("users", "hit", 80.0, 80.0),
            ("users", "miss", 20.0, 20.0),
            ("sessions", "hit", 50.0, 75.0),
            ("sessions", "miss", 50.0, 25.0),
            ("sessions", "error", 0.0, 0.0),
        ] {
            om.counter(
                &format!(r#"wingspan_cache_requests_total{{{api},wingspan_cache_name="{name}",wingspan_cache_result="{result}"}}"#),
                move |w, _| if w == Week::Current { current } else { previous },
            );
        }
        om.gauge(&format!("redis_memory_used_bytes{{{api}}}"), |w, busy| {
            let mib = if w == Week::Current { 48.0 } else { 40.0 };
            (if busy { mib + 16.0 } else { mib }) * 1024.0 * 1024.0
        });
        om.counter(&format!("redis_keys_evicted_total{{{api}}}"), |w, _| {
            if w == Week::Current {
                1.0
            } else {
                0.0
            }
        });
        om.counter(&format!("redis_keys_expired_total{{{api}}}"), |_, _| 5.0);
        om.gauge(
            &format!(r#"redis_db_avg_ttl_milliseconds{{{api},db_namespace="0"}}"#),
            |_, _| 300_000.0,
        );

        // LLM calls, tokens and cost.
        for u in &LLM {
            let (model, task, cur, prev) = (u.model, u.task, u.calls_current, u.calls_previous);
            let (tin, tout, pin, pout) = (
                u.input_tokens,
                u.output_tokens,
                u.usd_per_m_input,
                u.usd_per_m_output,
            );
            let calls = move |w: Week| if w == Week::Current { cur } else { prev };
            let labels = format!(
                r#"{api},gen_ai_operation_name="chat",gen_ai_provider_name="anthropic",gen_ai_request_model="{model}",wingspan_gen_ai_task="{task}""#
            );
            om.histogram(
                "gen_ai_client_operation_duration_seconds",
                &labels,
                &[],
                move |w, _| vec![(2.0, calls(w))],
            );
            for (kind, tokens) in [("input", tin), ("output", tout)] {
                om.histogram(
                    "gen_ai_client_token_usage",
                    &format!(r#"{labels},gen_ai_token_type="{kind}""#),
                    &[],
                    move |w, _| vec![(tokens, calls(w))],
                );
            }
            for (kind, cache, usd) in [
                ("input", "none", tin * pin / 1e6),
                ("output", "", tout * pout / 1e6),
            ] {
                let cache = if cache.is_empty() {
                    String::new()
                } else {
                    format!(r#",wingspan_gen_ai_cache="{cache}""#)
                };
                om.counter(
                    &format!(r#"wingspan_gen_ai_cost_total{{{api},gen_ai_request_model="{model}",gen_ai_token_type="{kind}",wingspan_gen_ai_task="{task}"{cache}}}"#),
                    move |w, _| calls(w) * usd,
                );
            }
        }

        // The pipeline: 1 span in 1000 dropped this week, none before.
        let bsp = r#"otel_component_type="batching_span_processor",otel_component_name="batching_span_processor/0""#;
        om.counter(
            &format!("otel_sdk_processor_span_processed_total{{{api},{bsp}}}"),
            |_, _| 1000.0,
        );
        om.counter(
            &format!(
                r#"otel_sdk_processor_span_processed_total{{{api},{bsp},error_type="queue_full"}}"#
            ),
            |w, _| if w == Week::Current { 1.0 } else { 0.0 },
        );
        let exp = r#"otel_component_type="otlp_grpc_span_exporter",otel_component_name="otlp_grpc_span_exporter/0""#;
        om.counter(
            &format!("otel_sdk_exporter_span_exported_total{{{api},{exp}}}"),
            |_, _| 999.0,
        );
        om.counter(
            &format!(
                r#"otel_sdk_exporter_span_exported_total{{{api},{exp},error_type="timeout"}}"#
            ),
            |_, _| 0.0,
        );

        // ALERTS: the latency alert, once a minute while firing, and
        // pending for 5 minutes before (not counted).
        let labels = r#"alertname="WingspanApiLatencyHigh",job="api",severity="warning""#;
        for state in ["pending", "firing"] {
            for (ago, secs) in ALERT_PREVIOUS.iter().chain(ALERT_CURRENT.iter()) {
                let first = self.end - ago;
                let range = if state == "firing" {
                    first..first + secs
                } else {
                    first - 300..first
                };
                for t in range.step_by(60) {
                    let _ = writeln!(om.text, r#"ALERTS{{{labels},alertstate="{state}"}} 1 {t}"#);
                }
            }
        }
        om.text.push_str("# EOF\n");
        om.text
    }
}

/// Label values as the monitored service may send them: Markdown and HTML
/// that would become a link, an image, markup, emphasis, a code span, a
/// table break, a heading or an autolink if the report let them, the
/// HTML report's own chart marker, and a value that needs OpenMetrics's
/// escapes (`"`, `\`, a line break).
pub const HOSTILE: [&str; 12] = [
    "[open](javascript&#58;alert(1))",
    "![x](//host/p.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "| a | b |",
    "*bold*",
    "`code`",
    "# h",
    "<https://evil.example>",
    "https://evil.example",
    r#"<div data-chart="latency"></div>"#,
    "a \"quoted\" \\ value\nover two lines",
];

/// A label value in OpenMetrics text: `\`, `"` and the line feed written
/// `\\`, `\"` and `\n`, as the spec has them (anything else is UTF-8 as is).
pub fn om_value(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

impl Plan {
    /// A service whose every label value the report shows is one of
    /// HOSTILE (job "hostile"): per value a route (over the latency line),
    /// a pool (over its utilization threshold, with timeouts), a statement
    /// (operation and table), a cache (below its hit-rate threshold), a
    /// Redis database, a model and task, and an alert (name, severity and
    /// another label) that fired. Figures do not matter here, only that
    /// every section, finding and recommendation shows the values.
    pub fn hostile_openmetrics(&self) -> String {
        let mut om = Om {
            text: String::with_capacity(16 << 20),
            plan: self,
        };
        let job = r#"job="hostile""#;
        let n = HOSTILE.len();
        for (i, raw) in HOSTILE.iter().enumerate() {
            let v = om_value(raw);
            // A second value, so that pairs (operation and table, model and
            // task, alert and severity) mix them.
            let other = om_value(HOSTILE[(i + 1) % n]);
            om.histogram(
                "http_server_request_duration_seconds",
                &format!(r#"{job},http_route="{v}",http_request_method="GET",http_response_status_code="200",url_scheme="http",wingspan_route_class="standard""#),
                &[0.1, 0.3, 0.5],
                |w, _| vec![(if w == Week::Current { 0.4 } else { 0.2 }, 10.0)],
            );

            let pool = format!(r#"{job},db_client_connection_pool_name="{v}""#);
            om.gauge(&format!("db_client_connection_max{{{pool}}}"), |_, _| 10.0);
            om.gauge(
                &format!(
                    r#"db_client_connection_count{{{pool},db_client_connection_state="used"}}"#
                ),
                |_, busy| if busy { 9.0 } else { 3.0 },
            );
            let acquires = |_: Week, busy: bool| if busy { 100.0 } else { 20.0 } * STEP as f64;
            om.histogram(
                "db_client_connection_use_time_seconds",
                &pool,
                &[],
                |w, busy| vec![(0.05, acquires(w, busy))],
            );
            om.histogram(
                "db_client_connection_wait_time_seconds",
                &pool,
                &[0.01],
                |w, busy| vec![(0.0005, acquires(w, busy))],
            );
            om.counter(
                &format!("db_client_connection_timeouts_total{{{pool}}}"),
                |w, busy| if busy && w == Week::Current { 1.0 } else { 0.0 },
            );

            // Growth falls with i: the ten statements the table shows are
            // the first ten, whose operations and tables cover every value.
            let grown = 0.02 + 0.001 * (n - i) as f64;
            om.histogram(
                "db_client_operation_duration_seconds",
                &format!(r#"{job},db_system_name="postgresql",db_operation_name="{v}",db_collection_name="{}""#, om_value(HOSTILE[n - 1 - i])),
                &[],
                move |w, _| vec![(if w == Week::Current { grown } else { 0.01 }, 100.0)],
            );

            for result in ["hit", "miss"] {
                om.counter(
                    &format!(r#"wingspan_cache_requests_total{{{job},wingspan_cache_name="{v}",wingspan_cache_result="{result}"}}"#),
                    |_, _| 50.0,
                );
            }
            om.gauge(
                &format!(r#"redis_db_avg_ttl_milliseconds{{{job},db_namespace="{v}"}}"#),
                |_, _| 300_000.0,
            );

            let llm = format!(
                r#"{job},gen_ai_operation_name="chat",gen_ai_provider_name="anthropic",gen_ai_request_model="{v}",wingspan_gen_ai_task="{other}""#
            );
            om.histogram(
                "gen_ai_client_operation_duration_seconds",
                &llm,
                &[],
                |_, _| vec![(2.0, 1.0)],
            );
            for kind in ["input", "output"] {
                om.histogram(
                    "gen_ai_client_token_usage",
                    &format!(r#"{llm},gen_ai_token_type="{kind}""#),
                    &[],
                    |_, _| vec![(1000.0, 1.0)],
                );
                om.counter(
                    &format!(r#"wingspan_gen_ai_cost_total{{{job},gen_ai_request_model="{v}",gen_ai_token_type="{kind}",wingspan_gen_ai_task="{other}"}}"#),
                    |_, _| 0.01,
                );
            }

            // Fired for 30 minutes, a quarter of the window before its end.
            let first = self.end - self.window / 4;
            for t in (first..first + 1800).step_by(60) {
                let _ = writeln!(
                    om.text,
                    r#"ALERTS{{alertname="{v}",severity="{other}",{job},http_route="{v}",alertstate="firing"}} 1 {t}"#
                );
            }
        }
        om.text.push_str("# EOF\n");
        om.text
    }
}

struct Om<'a> {
    text: String,
    plan: &'a Plan,
}

impl Om<'_> {
    fn counter(&mut self, series: &str, inc: impl Fn(Week, bool) -> f64) {
        let mut v = 0.0;
        let plan = self.plan;
        for (i, t) in plan.times().enumerate() {
            if i > 0 {
                v += inc(plan.week(t), plan.busy(t));
            }
            let _ = writeln!(self.text, "{series} {v} {t}");
        }
    }

    fn gauge(&mut self, series: &str, value: impl Fn(Week, bool) -> f64) {
        let plan = self.plan;
        for t in plan.times() {
            let _ = writeln!(
                self.text,
                "{series} {} {t}",
                value(plan.week(t), plan.busy(t))
            );
        }
    }

    /// `observed` gives (value, count) pairs per step.
    fn histogram(
        &mut self,
        name: &str,
        labels: &str,
        bounds: &[f64],
        observed: impl Fn(Week, bool) -> Vec<(f64, f64)>,
    ) {
        let plan = self.plan;
        let steps: Vec<Vec<(f64, f64)>> = plan
            .times()
            .enumerate()
            .map(|(i, t)| {
                if i == 0 {
                    Vec::new()
                } else {
                    observed(plan.week(t), plan.busy(t))
                }
            })
            .collect();
        let les: Vec<(String, f64)> = bounds
            .iter()
            .map(|b| (format!("{b}"), *b))
            .chain(std::iter::once(("+Inf".to_owned(), f64::INFINITY)))
            .collect();
        for (le, bound) in &les {
            let mut v = 0.0;
            for (t, obs) in plan.times().zip(&steps) {
                v += obs
                    .iter()
                    .filter(|(x, _)| x <= bound)
                    .map(|(_, n)| n)
                    .sum::<f64>();
                let _ = writeln!(self.text, r#"{name}_bucket{{{labels},le="{le}"}} {v} {t}"#);
            }
        }
        for (suffix, f) in [("sum", true), ("count", false)] {
            let mut v = 0.0;
            for (t, obs) in plan.times().zip(&steps) {
                v += obs
                    .iter()
                    .map(|(x, n)| if f { x * n } else { *n })
                    .sum::<f64>();
                let _ = writeln!(self.text, "{name}_{suffix}{{{labels}}} {v} {t}");
            }
        }
    }
}
