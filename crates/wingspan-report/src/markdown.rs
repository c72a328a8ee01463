//! The report as Markdown, for chat or email: one table per section, each
//! figure beside its previous value and the change.

use std::fmt::Write;

use crate::fmt::{bytes, change, count, duration, ms, pct, rate, usd};
use crate::model::{Report, Section, Trend};

type Fmt = fn(Option<f64>) -> String;

fn trend_cells(t: &Trend, f: Fmt) -> String {
    format!(
        "{} | {} | {}",
        f(t.current),
        f(t.previous),
        change(t.change)
    )
}

/// Markdown that reads as `value` and as nothing else: the one way a label
/// value, or a text that holds one, enters the report.
///
/// Label values (routes, pools, tables, cache names, models, tasks, alert
/// labels) are the monitored service's data, and Prometheus passes on any
/// UTF-8: unescaped, `[x](javascript:…)` would be a link in the HTML
/// report, `<img …>` markup, `|` a broken table row. Every character that
/// can open Markdown or HTML syntax in running text is backslash-escaped
/// (CommonMark lets any ASCII punctuation be): links and images `[ ] !`,
/// raw HTML and autolinks `< >`, entities `&` (`&#58;` stays five
/// characters), emphasis `* _`, code spans `` ` ``, table cells `|`,
/// strikethrough `~`, headings `#`, and `\` itself. A line break would end
/// a table row or start a block, so it reads `\n` (`\r`). Values never
/// start a line (they follow a cell's `|` or the template's words), so the
/// characters that act only there (`-`, `+`, `=`, `1.`) stay as they are.
/// The set matches the parser options of the HTML ([`crate::html::OPTIONS`],
/// which the tests parse with): enabling another extension means adding its
/// characters here.
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '<' | '>' | '&' | '|' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str(r"\\n"),
            '\r' => out.push_str(r"\\r"),
            c => out.push(c),
        }
    }
    out
}

fn section<T>(out: &mut String, title: &str, s: &Section<T>, body: impl FnOnce(&mut String, &T)) {
    let _ = writeln!(out, "\n## {title}\n");
    match (&s.data, &s.note) {
        (Some(d), _) => body(out, d),
        (None, Some(note)) => {
            let _ = writeln!(out, "_{note}_");
        }
        (None, None) => {
            let _ = writeln!(out, "_No data._");
        }
    }
}

/// Markdown for chat or email.
pub fn render(r: &Report) -> String {
    render_with_charts(r, false)
}

/// The HTML report's placeholder for chart `name`, on a line of its own
/// (a raw HTML block to the Markdown renderer).
pub fn chart_marker(name: &str) -> String {
    format!("<div data-chart=\"{name}\"></div>")
}

/// With `charts`, a marker line after each section that has a chart.
pub fn render_with_charts(r: &Report, charts: bool) -> String {
    let chart = |o: &mut String, name: &str| {
        if charts {
            let _ = writeln!(o, "\n{}\n", chart_marker(name));
        }
    };
    let mut o = String::new();
    let w = &r.window;
    let _ = writeln!(
        o,
        "# Performance report{}\n\n{} → {} ({}), compared with {} → {}. Thresholds from alerts/thresholds.json: \
         P95 {}, availability SLO {}, latency SLO {}, pool {}, cache hit rate {}.",
        w.selector
            .as_ref()
            .map(|s| format!(" — {}", literal(s)))
            .unwrap_or_default(),
        w.start_utc,
        w.end_utc,
        duration(Some(w.seconds)),
        w.previous_start_utc,
        w.start_utc,
        ms(Some(r.thresholds.latency_threshold_seconds)),
        pct(Some(r.thresholds.slo_availability_target)),
        pct(Some(r.thresholds.slo_latency_target)),
        pct(Some(r.thresholds.pool_utilization_threshold)),
        pct(Some(r.thresholds.cache_hit_ratio_threshold)),
    );

    let _ = writeln!(o, "\n## Findings\n");
    if r.findings.is_empty() {
        let _ = writeln!(o, "_No figure over its threshold._");
    }
    for f in &r.findings {
        let _ = writeln!(
            o,
            "- **{}** {}: {}",
            f.kind,
            literal(&f.subject),
            literal(&f.text)
        );
    }
    let _ = writeln!(o, "\n## Recommendations\n");
    if r.recommendations.is_empty() {
        let _ = writeln!(o, "_None: no section had the figures one rests on._");
    }
    for rec in &r.recommendations {
        let _ = writeln!(o, "- {}", literal(&rec.text));
    }

    section(&mut o, "Latency of non-LLM routes", &r.latency, |o, l| {
        let _ = writeln!(
            o,
            "| route | requests | P50 | P95 | P95 before | P95 change | P99 | regressed |\n|---|---:|---:|---:|---:|---:|---:|---|"
        );
        for rt in &l.routes {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                literal(&rt.route),
                count(rt.requests.current),
                ms(rt.p50.current),
                ms(rt.p95.current),
                ms(rt.p95.previous),
                change(rt.p95.change),
                ms(rt.p99.current),
                if rt.regressed { "**yes**" } else { "" }
            );
        }
        if let Some(first) = l.routes.first() {
            let _ = write!(o, "\nDaily P95:\n\n| route |");
            for d in &first.daily {
                let _ = write!(o, " {} |", d.date);
            }
            let _ = writeln!(o, "\n|---|{}", "---:|".repeat(first.daily.len()));
            for rt in &l.routes {
                let _ = write!(o, "| {} |", literal(&rt.route));
                for d in &rt.daily {
                    let _ = write!(o, " {} |", ms(d.p95));
                }
                let _ = writeln!(o);
            }
        }
        if !l.regressed.is_empty() {
            let names: Vec<String> = l.regressed.iter().map(|r| literal(r)).collect();
            let _ = writeln!(
                o,
                "\nRegressed (P95 up more than {}): {}.",
                pct(Some(r.thresholds.regression_ratio)),
                names.join(", ")
            );
        }
        chart(o, "latency");
    });

    section(&mut o, "Requests and errors", &r.traffic, |o, t| {
        let _ = writeln!(
            o,
            "| figure | this window | previous | change |\n|---|---:|---:|---:|"
        );
        let rows: [(&str, &Trend, Fmt); 7] = [
            ("requests", &t.requests, count),
            ("requests per second", &t.requests_per_second, rate),
            ("errors (5xx, failed handlers)", &t.errors, count),
            ("error ratio", &t.error_ratio, pct),
            (
                "availability error budget spent",
                &t.availability_budget_spent,
                pct,
            ),
            ("non-LLM requests over the latency line", &t.slow_ratio, pct),
            ("latency error budget spent", &t.latency_budget_spent, pct),
        ];
        for (name, tr, f) in rows {
            let _ = writeln!(o, "| {name} | {} |", trend_cells(tr, f));
        }
        chart(o, "traffic");
    });

    section(&mut o, "Database pools", &r.pools, |o, pools| {
        let _ = writeln!(
            o,
            "| pool | max | peak utilization | before | acquire wait P95 | before | timeouts | before | busiest hour ends | acquires/s | mean hold |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
        );
        for p in pools {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                literal(&p.pool),
                count(p.max_connections),
                pct(p.peak_utilization.current),
                pct(p.peak_utilization.previous),
                ms(p.acquire_wait_p95_seconds.current),
                ms(p.acquire_wait_p95_seconds.previous),
                count(p.timeouts.current),
                count(p.timeouts.previous),
                p.peak_hour
                    .as_ref()
                    .map(|h| h.end_utc.clone())
                    .unwrap_or("–".to_owned()),
                count(p.peak_hour.as_ref().map(|h| h.acquires_per_second)),
                ms(p.peak_hour.as_ref().map(|h| h.mean_hold_seconds)),
            );
        }
    });

    section(
        &mut o,
        "Statements by growth of total time",
        &r.statements,
        |o, st| {
            let _ = writeln!(o, "| operation | table | total time | before | change | calls |\n|---|---|---:|---:|---:|---:|");
            for s in st.iter().take(10) {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    literal(&s.operation),
                    literal(&s.collection),
                    duration(s.total_seconds.current),
                    duration(s.total_seconds.previous),
                    change(s.total_seconds.change),
                    count(s.calls.current),
                );
            }
        },
    );

    section(&mut o, "Cache", &r.caches, |o, c| {
        let _ = writeln!(o, "| cache | hit rate | before | change | reads | errors |\n|---|---:|---:|---:|---:|---:|");
        for k in &c.caches {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                literal(&k.cache),
                pct(k.hit_ratio.current),
                pct(k.hit_ratio.previous),
                change(k.hit_ratio.change),
                count(k.reads.current),
                count(k.errors.current),
            );
        }
        let _ = writeln!(
            o,
            "\n| Redis | this window | previous | change |\n|---|---:|---:|---:|"
        );
        let _ = writeln!(
            o,
            "| memory at peak | {} |",
            trend_cells(&c.memory_peak_bytes, bytes)
        );
        let _ = writeln!(o, "| evicted keys | {} |", trend_cells(&c.evictions, count));
        let _ = writeln!(o, "| expired keys | {} |", trend_cells(&c.expired, count));
    });

    section(&mut o, "LLM calls", &r.llm, |o, l| {
        let _ = writeln!(
            o,
            "| model | task | calls | change | input tokens | output tokens | cost | before | change | per call |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for m in &l.by_model_task {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                literal(&m.model),
                literal(&m.task),
                count(m.calls.current),
                change(m.calls.change),
                count(m.input_tokens.current),
                count(m.output_tokens.current),
                usd(m.cost_usd.current),
                usd(m.cost_usd.previous),
                change(m.cost_usd.change),
                usd(m.cost_per_call_usd.current),
            );
        }
        let _ = writeln!(
            o,
            "\n| figure | this window | previous | change |\n|---|---:|---:|---:|"
        );
        let _ = writeln!(o, "| calls | {} |", trend_cells(&l.calls, count));
        let _ = writeln!(o, "| cost | {} |", trend_cells(&l.cost_usd, usd));
        let _ = writeln!(
            o,
            "| requests of LLM routes | {} |",
            trend_cells(&l.llm_route_requests, count)
        );
        let _ = writeln!(
            o,
            "| cost per LLM-route request | {} |",
            trend_cells(&l.cost_per_llm_request_usd, usd)
        );
        chart(o, "llm");
    });

    section(&mut o, "Alerts that fired", &r.alerts, |o, alerts| {
        let _ = writeln!(
            o,
            "| alert | severity | times | before | firing | before | longest | first fired |\n|---|---|---:|---:|---:|---:|---:|---|"
        );
        for a in alerts {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                literal(&a.alertname),
                literal(&a.severity),
                count(a.times_fired.current),
                count(a.times_fired.previous),
                duration(a.firing_seconds.current),
                duration(a.firing_seconds.previous),
                duration(Some(a.longest_seconds)),
                a.episodes
                    .first()
                    .map(|e| e.start_utc.clone())
                    .unwrap_or("–".to_owned()),
            );
        }
    });

    section(&mut o, "Telemetry pipeline losses", &r.pipeline, |o, p| {
        let _ = writeln!(
            o,
            "| signal | stage | lost | before | change | of all |\n|---|---|---:|---:|---:|---:|"
        );
        for l in &p.losses {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                literal(&l.signal),
                literal(&l.stage),
                count(l.count.current),
                count(l.count.previous),
                change(l.count.change),
                pct(l.ratio.current),
            );
        }
    });
    let _ = writeln!(o, "\n_{}_", r.generator);
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::empty_report;

    #[test]
    fn a_section_without_data_is_its_note() {
        let md = render(&empty_report());
        for note in [
            "no routes here",
            "no cache here",
            "no LLM here",
            "no alerts here",
        ] {
            assert!(md.contains(&format!("_{note}_")), "{md}");
        }
        assert!(md.contains("_No figure over its threshold._"));
        assert!(!md.contains("data-chart"), "charts are for the HTML only");
    }

    /// What `md` renders to, with the HTML report's parser options: the
    /// text, and how many table cells; an event other than text or the
    /// contexts' own containers is an error.
    fn rendered(md: &str) -> Result<(String, usize), String> {
        use pulldown_cmark::{Event, Parser, Tag, TagEnd};
        let (mut text, mut cells) = (String::new(), 0);
        for e in Parser::new_ext(md, crate::html::OPTIONS) {
            match e {
                Event::Text(t) => text.push_str(&t),
                Event::Start(Tag::TableCell) => cells += 1,
                Event::Start(
                    Tag::Paragraph
                    | Tag::Heading { .. }
                    | Tag::List(_)
                    | Tag::Item
                    | Tag::Table(_)
                    | Tag::TableHead
                    | Tag::TableRow,
                )
                | Event::End(
                    TagEnd::Paragraph
                    | TagEnd::Heading(_)
                    | TagEnd::List(_)
                    | TagEnd::Item
                    | TagEnd::Table
                    | TagEnd::TableHead
                    | TagEnd::TableRow
                    | TagEnd::TableCell,
                ) => {}
                other => return Err(format!("{other:?} in {md:?}")),
            }
        }
        Ok((text, cells))
    }

    /// `value` through `literal` in running text, a heading, a list item
    /// and a table cell: each time only text, and that text is the value.
    fn reads_as_itself(value: &str) {
        let l = literal(value);
        let shown = value.replace('\n', r"\n").replace('\r', r"\r");
        for (md, want) in [
            (format!("x {l} y"), format!("x {shown} y")),
            (format!("# Report — {l}"), format!("Report — {shown}")),
            (format!("- k {l}: t"), format!("k {shown}: t")),
            (
                format!("| h | i |\n|---|---:|\n| {l} | 1 |"),
                format!("hi{}1", shown.trim()),
            ),
        ] {
            match rendered(&md) {
                Ok((text, cells)) => {
                    assert_eq!(text, want, "{md:?}");
                    assert!(cells == 0 || cells == 4, "{cells} cells: {md:?}");
                }
                Err(e) => panic!("{value:?} is not text: {e}"),
            }
        }
    }

    #[test]
    fn hostile_label_values_read_as_themselves() {
        for v in [
            "[open](javascript&#58;alert(1))",
            "[open](javascript:alert(1))",
            "![x](//host/p.png)",
            "<img src=x onerror=alert(1)>",
            "<script>alert(1)</script>",
            "| a | b |",
            "*bold*",
            "**strong**",
            "_em_",
            "`code`",
            "``co`de``",
            "# h",
            "<https://evil.example>",
            "https://evil.example",
            "www.evil.example",
            "<a@evil.example>",
            "[ref]\n\n[ref]: javascript:alert(1)",
            "~~gone~~",
            "&lt;b&gt;",
            "a\\",
            "a \"quoted\" \\ value\nover two lines",
            "line\r\nbreaks\n# h\n- item\n1. item\n> quote\n    code\n|---|",
            r#"<div data-chart="latency"></div>"#,
        ] {
            reads_as_itself(v);
        }
    }

    #[test]
    fn every_ascii_punctuation_reads_as_itself_alone_doubled_and_around_words() {
        let all: String = (0x21u8..0x7f)
            .map(char::from)
            .filter(char::is_ascii_punctuation)
            .collect();
        reads_as_itself(&all);
        for c in all.chars() {
            for v in [
                format!("{c}"),
                format!("{c}{c}"),
                format!("{c}{c}{c}"),
                format!("a{c}b"),
                format!("{c}a{c}"),
                format!("{c}{c}a{c}{c}"),
                format!("{c}a b{c}"),
                format!("a{c}{c}b{c}"),
                format!("{c}[a]{c}(b){c}"),
            ] {
                reads_as_itself(&v);
            }
        }
    }

    #[test]
    fn a_plain_value_stays_as_it_is() {
        for v in [
            "/api/users",
            "claude-haiku-4-5",
            "SELECT orders",
            "db 0 300 s (1.645·√L)",
        ] {
            assert_eq!(literal(v), v);
        }
        assert_eq!(literal("a|b"), r"a\|b");
    }
}
