//! One self-contained HTML file: the Markdown report rendered by
//! pulldown-cmark (so the HTML and the Markdown cannot say different
//! things), with plotters' SVG charts inlined after their sections. No
//! script, no stylesheet or font fetched: it reads the same offline.
//!
//! Label values (routes, cache names, models, tasks, ...) come from the
//! monitored service. They enter the Markdown only through
//! [`crate::markdown::literal`], which escapes every syntax they could carry; as
//! defence in depth, the page is built as if one got through anyway:
//! - the report's own templates make no link, no image and no raw HTML but
//!   the chart markers, so any link or image keeps only its text, any other
//!   raw HTML is rendered as text, and a chart marker counts only as a block
//!   of its own, once per chart;
//! - the page's Content-Security-Policy forbids every script, image, font,
//!   frame, object and fetch (`default-src 'none'`), a `<base>` and form
//!   submission. Inline SVG is part of the document, not a fetched image;
//!   inline styles stay allowed (the page's `<style>`, the tables'
//!   alignment attributes): with nothing fetchable, a style could change
//!   the page's look, never load or run anything.
//!
//! The charts' texts (route names in a legend, models and tasks on an axis)
//! are XML-escaped by plotters' SVG backend (tested in chart.rs).

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::chart;
use crate::markdown::{chart_marker, render_with_charts};
use crate::model::Report;

/// The parser's options: tables only (no autolink, math, footnote or other
/// extension whose syntax markdown::literal would then have to escape).
pub const OPTIONS: Options = Options::ENABLE_TABLES;

/// The page's Content-Security-Policy (see the module's documentation).
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;\
margin:24px auto;padding:0 16px;color:#1d2330}h1{font-size:24px}h2{margin-top:32px;border-bottom:1px solid #d8dce3;\
padding-bottom:4px}table{border-collapse:collapse;margin:8px 0;font-size:13px;display:block;overflow-x:auto}\
th,td{border:1px solid #d8dce3;padding:4px 8px}th{background:#f3f5f8}td:not(:first-child){text-align:right}\
.chart svg{max-width:100%;height:auto;border:1px solid #e3e6eb;margin:8px 0}\
em{color:#5b6372}";

const CHARTS: [&str; 3] = ["latency", "traffic", "llm"];

fn chart_svg(r: &Report, name: &str) -> Option<String> {
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
}

pub fn render(r: &Report) -> String {
    let body = body(&render_with_charts(r, true), |name| chart_svg(r, name));
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Performance report {} → {}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        r.window.start_utc, r.window.end_utc
    )
}

/// The report's Markdown as HTML, `chart(name)` in place of each chart
/// marker; whatever the report's templates do not make is neutralised (see
/// the module's documentation).
fn body(md: &str, chart: impl Fn(&str) -> Option<String>) -> String {
    let mut drawn: Vec<&str> = Vec::new();
    let events = Parser::new_ext(md, OPTIONS).filter_map(|e| match e {
        Event::Start(Tag::Link { .. } | Tag::Image { .. })
        | Event::End(TagEnd::Link | TagEnd::Image) => None,
        Event::Html(h) => {
            let marker = CHARTS
                .into_iter()
                .find(|c| h.trim() == chart_marker(c) && !drawn.contains(c));
            Some(match marker {
                Some(name) => {
                    drawn.push(name);
                    Event::Html(CowStr::from(chart(name).unwrap_or_default()))
                }
                None => Event::Text(h),
            })
        }
        Event::InlineHtml(h) => Some(Event::Text(h)),
        other => Some(other),
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{tests::empty_report, CacheFigures, Caches, Section, Trend};

    #[test]
    fn labels_cannot_inject_markup() {
        let mut r = empty_report();
        r.caches = Section::some(Caches {
            caches: [
                "<script>alert(1)</script>",
                "[open](javascript&#58;alert(1))",
                "![x](//host/p.png)",
            ]
            .into_iter()
            .map(|name| CacheFigures {
                cache: name.to_owned(),
                hit_ratio: Trend::new(Some(0.5), Some(0.5)),
                reads: Trend::counted(Some(10.0), None),
                errors: Trend::counted(None, None),
            })
            .collect(),
            memory_peak_bytes: Trend::default(),
            evictions: Trend::default(),
            expired: Trend::default(),
            avg_ttl: Vec::new(),
        });
        let html = render(&r);
        for no in ["<script>", "<a ", "<img", "javascript:"] {
            assert!(!html.contains(no), "{no}: {html}");
        }
        for text in [
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "[open](javascript&amp;#58;alert(1))",
            "![x](//host/p.png)",
        ] {
            assert!(html.contains(&format!("<td>{text}</td>")), "{text}: {html}");
        }
    }

    /// Behind the escaping: Markdown that makes links, images or markup
    /// (as a label would if it got through unescaped) renders as text.
    #[test]
    fn links_images_and_markup_the_templates_did_not_make_are_text() {
        let md = "[open](javascript:alert(1)) ![x](//host/p.png) <https://evil.example> \
                  <a@evil.example> <img src=x onerror=alert(1)> <div data-chart=\"latency\"></div>\n\n\
                  [ref]\n\n[ref]: javascript:alert(2)\n\n\
                  <script>alert(3)</script>\n\n\
                  <div data-chart=\"latency\"></div>\n\n\
                  <div data-chart=\"latency\"></div>\n\n\
                  <div data-chart=\"unknown\"></div>\n";
        let html = body(md, |name| Some(format!("<svg id=\"{name}\"></svg>")));
        for no in ["<a", "<img", "<script", "href", "src=\""] {
            assert!(!html.contains(no), "{no}: {html}");
        }
        assert_eq!(html.matches("<svg").count(), 1, "one chart: {html}");
        for text in [
            "<p>open x https://evil.example a@evil.example &lt;img src=x onerror=alert(1)&gt; \
             &lt;div data-chart=\"latency\"&gt;&lt;/div&gt;</p>",
            "<p>ref</p>",
            "&lt;script&gt;alert(3)&lt;/script&gt;",
            "<svg id=\"latency\"></svg>",
            "&lt;div data-chart=\"unknown\"&gt;&lt;/div&gt;",
        ] {
            assert!(html.contains(text), "{text}: {html}");
        }
    }

    #[test]
    fn the_page_allows_no_script_image_or_fetch() {
        let html = render(&empty_report());
        let csp = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">");
        let at = html.find(&csp).expect("a Content-Security-Policy");
        assert!(
            at < html.find("<style>").unwrap(),
            "before anything it governs"
        );
        assert!(CSP.starts_with("default-src 'none';"));
        for never in ["script-src", "img-src", "unsafe-eval", "http", "data:", "*"] {
            assert!(!CSP.contains(never), "{never} in {CSP}");
        }
    }

    #[test]
    fn empty_sections_say_so_and_draw_nothing() {
        let html = render(&empty_report());
        assert!(html.contains("no LLM here"), "{html}");
        assert!(!html.contains("<svg"));
        assert!(!html.contains("data-chart"));
    }
}
