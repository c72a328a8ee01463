//! One self-contained HTML file: the Markdown report rendered by
//! pulldown-cmark (so the HTML and the Markdown cannot say different
//! things), with plotters' SVG charts inlined after their sections. No
//! script, no stylesheet or font fetched: it reads the same offline.
//!
//! Label values (routes, cache names, models, tasks) come from the
//! monitored service: raw HTML in the Markdown is rendered as text, so a
//! label cannot inject markup; the only HTML let through is the charts, put
//! where their markers stand.

use pulldown_cmark::{CowStr, Event, Options, Parser};

use crate::chart;
use crate::markdown::{chart_marker, render_with_charts};
use crate::model::Report;

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;\
margin:24px auto;padding:0 16px;color:#1d2330}h1{font-size:24px}h2{margin-top:32px;border-bottom:1px solid #d8dce3;\
padding-bottom:4px}table{border-collapse:collapse;margin:8px 0;font-size:13px;display:block;overflow-x:auto}\
th,td{border:1px solid #d8dce3;padding:4px 8px}th{background:#f3f5f8}td:not(:first-child){text-align:right}\
code{font-size:12px}.chart svg{max-width:100%;height:auto;border:1px solid #e3e6eb;margin:8px 0}\
em{color:#5b6372}";

const CHARTS: [&str; 3] = ["latency", "traffic", "llm"];

pub fn render(r: &Report) -> String {
    let md = render_with_charts(r, true);
    let chart_svg = |name: &str| -> Option<String> {
        let svg = match name {
            "latency" => r
                .latency
                .data
                .as_ref()
                .and_then(|l| chart::daily_p95(l, r.thresholds.latency_threshold_seconds)),
            "traffic" => r.traffic.data.as_ref().and_then(chart::daily_requests),
            "llm" => r.llm.data.as_ref().and_then(chart::llm_cost),
            _ => None,
        }?;
        Some(format!(
            "<div class=\"chart\" data-chart=\"{name}\">{svg}</div>\n"
        ))
    };
    let events = Parser::new_ext(&md, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => {
            match CHARTS.iter().find(|c| h.trim() == chart_marker(c)) {
                Some(name) => Event::Html(CowStr::from(chart_svg(name).unwrap_or_default())),
                None => Event::Text(h),
            }
        }
        other => other,
    });
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, events);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Performance report {} → {}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        r.window.start_utc, r.window.end_utc
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{tests::empty_report, CacheFigures, Caches, Section, Trend};

    #[test]
    fn labels_cannot_inject_markup() {
        let mut r = empty_report();
        r.caches = Section::some(Caches {
            caches: vec![CacheFigures {
                cache: "<script>alert(1)</script>".to_owned(),
                hit_ratio: Trend::new(Some(0.5), Some(0.5)),
                reads: Trend::counted(Some(10.0), None),
                errors: Trend::counted(None, None),
            }],
            memory_peak_bytes: Trend::default(),
            evictions: Trend::default(),
            expired: Trend::default(),
            avg_ttl: Vec::new(),
        });
        let html = render(&r);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn empty_sections_say_so_and_draw_nothing() {
        let html = render(&empty_report());
        assert!(html.contains("no LLM here"), "{html}");
        assert!(!html.contains("<svg"));
        assert!(!html.contains("data-chart"));
    }
}
