//! One self-contained HTML file: the Markdown report rendered by
//! pulldown-cmark (so the HTML and the Markdown cannot say different
//! things), with plotters' SVG charts inlined after their sections. No
//! script, no stylesheet or font fetched: it reads the same offline.

use crate::chart;
use crate::markdown::{chart_marker, render_with_charts};
use crate::model::Report;

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;\
margin:24px auto;padding:0 16px;color:#1d2330}h1{font-size:24px}h2{margin-top:32px;border-bottom:1px solid #d8dce3;\
padding-bottom:4px}table{border-collapse:collapse;margin:8px 0;font-size:13px;display:block;overflow-x:auto}\
th,td{border:1px solid #d8dce3;padding:4px 8px}th{background:#f3f5f8}td:not(:first-child){text-align:right}\
code{font-size:12px}.chart svg{max-width:100%;height:auto;border:1px solid #e3e6eb;margin:8px 0}\
em{color:#5b6372}";

pub fn render(r: &Report) -> String {
    let md = render_with_charts(r, true);
    let mut body = String::new();
    let parser = pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES);
    pulldown_cmark::html::push_html(&mut body, parser);
    let charts = [
        (
            "latency",
            r.latency
                .data
                .as_ref()
                .and_then(|l| chart::daily_p95(l, r.thresholds.latency_threshold_seconds)),
        ),
        (
            "traffic",
            r.traffic.data.as_ref().and_then(chart::daily_requests),
        ),
        ("llm", r.llm.data.as_ref().and_then(chart::llm_cost)),
    ];
    for (name, svg) in charts {
        let with = svg
            .map(|s| format!("<div class=\"chart\" data-chart=\"{name}\">{s}</div>"))
            .unwrap_or_default();
        body = body.replace(&chart_marker(name), &with);
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Performance report {} → {}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        r.window.start_utc, r.window.end_utc
    )
}
