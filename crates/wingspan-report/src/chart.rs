//! The HTML report's charts, drawn by plotters' SVG backend into strings
//! that the page inlines (no script, no font file, nothing fetched).

use plotters::prelude::*;

use crate::model::{Latency, Llm, Traffic};

const W: u32 = 860;
const H: u32 = 320;
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];

type Drawn = Result<(), Box<dyn std::error::Error>>;

fn svg(draw: impl FnOnce(&mut String) -> Drawn) -> Option<String> {
    let mut out = String::new();
    draw(&mut out).ok()?;
    Some(out)
}

/// Daily P95 of each route (the six slowest), with the latency line.
pub fn daily_p95(l: &Latency, line_seconds: f64) -> Option<String> {
    let routes: Vec<_> = l.routes.iter().take(PALETTE.len()).collect();
    let days = routes
        .first()?
        .daily
        .iter()
        .map(|d| d.date.clone())
        .collect::<Vec<_>>();
    let top = routes
        .iter()
        .flat_map(|r| r.daily.iter().filter_map(|d| d.p95))
        .fold(line_seconds, f64::max)
        * 1000.0
        * 1.15;
    svg(|out| {
        let root = SVGBackend::with_string(out, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = days.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption("Daily P95 per route (ms)", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..(n as f64 - 1.0).max(1.0), 0f64..top)?;
        let labels = days.clone();
        chart
            .configure_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                labels
                    .get(x.round() as usize)
                    .map(|d| d[5..].to_owned())
                    .unwrap_or_default()
            })
            .y_desc("ms")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        let line = line_seconds * 1000.0;
        chart
            .draw_series(LineSeries::new(
                [(0.0, line), ((n as f64 - 1.0).max(1.0), line)],
                RED.stroke_width(1),
            ))?
            .label(format!("{line:.0} ms line"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED));
        for (i, r) in routes.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let pts: Vec<(f64, f64)> = r
                .daily
                .iter()
                .enumerate()
                .filter_map(|(x, d)| d.p95.map(|v| (x as f64, v * 1000.0)))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
                .label(r.route.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

/// Requests and errors per day, as bars.
pub fn daily_requests(t: &Traffic) -> Option<String> {
    if t.daily.is_empty() {
        return None;
    }
    let top = t.daily.iter().map(|d| d.requests).fold(1.0, f64::max) * 1.1;
    svg(|out| {
        let root = SVGBackend::with_string(out, (W, H)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = t.daily.len();
        let mut chart = ChartBuilder::on(&root)
            .caption("Requests and errors per day", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)?;
        let dates: Vec<String> = t.daily.iter().map(|d| d.date[5..].to_owned()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .y_label_formatter(&|v| crate::fmt::count(Some(v.round())))
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 {
                    dates.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .draw()?;
        let blue = PALETTE[0];
        chart
            .draw_series(t.daily.iter().enumerate().map(|(i, d)| {
                Rectangle::new(
                    [(i as f64 - 0.35, 0.0), (i as f64 + 0.35, d.requests)],
                    blue.filled(),
                )
            }))?
            .label("requests")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], blue.filled()));
        chart
            .draw_series(t.daily.iter().enumerate().map(|(i, d)| {
                Rectangle::new(
                    [(i as f64 - 0.35, 0.0), (i as f64 + 0.35, d.errors)],
                    RED.filled(),
                )
            }))?
            .label("errors")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], RED.filled()));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

/// LLM cost by model and task, this window against the previous one.
pub fn llm_cost(l: &Llm) -> Option<String> {
    let rows: Vec<_> = l.by_model_task.iter().take(8).collect();
    if rows.is_empty() {
        return None;
    }
    let top = rows
        .iter()
        .flat_map(|r| [r.cost_usd.current, r.cost_usd.previous])
        .flatten()
        .fold(0.01, f64::max)
        * 1.15;
    let height = 60 + 40 * rows.len() as u32;
    svg(|out| {
        let root = SVGBackend::with_string(out, (W, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = rows.len();
        let mut chart = ChartBuilder::on(&root)
            .caption("LLM cost by model and task (USD)", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(25)
            .y_label_area_size(260)
            .build_cartesian_2d(0f64..top, -0.5f64..(n as f64 - 0.5))?;
        let names: Vec<String> = rows
            .iter()
            .map(|r| format!("{} / {}", r.model, r.task))
            .collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_label_formatter(&|v| format!("${v:.2}"))
            .y_labels(n)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 0.01 && i >= 0.0 {
                    names.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .draw()?;
        let (now, before) = (PALETTE[1], PALETTE[0].mix(0.35));
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let y = i as f64;
                Rectangle::new(
                    [
                        (0.0, y + 0.02),
                        (r.cost_usd.previous.unwrap_or(0.0), y + 0.32),
                    ],
                    before.filled(),
                )
            }))?
            .label("previous window")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], before.filled()));
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                let y = i as f64;
                Rectangle::new(
                    [
                        (0.0, y - 0.32),
                        (r.cost_usd.current.unwrap_or(0.0), y - 0.02),
                    ],
                    now.filled(),
                )
            }))?
            .label("this window")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], now.filled()));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Daily, ModelTask, RouteLatency, Trend};

    const HOSTILE: [&str; 4] = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "a\"b'c&d",
        "]]></text><a href=\"javascript:alert(1)\">x</a>",
    ];

    /// The element names of `svg`: every `<` plotters writes opens or
    /// closes one of its own elements (text is XML-escaped).
    fn elements(svg: &str) -> std::collections::BTreeSet<String> {
        svg.split('<')
            .skip(1)
            .map(|t| {
                t.trim_start_matches(['/', '?'])
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect()
            })
            .collect()
    }

    fn assert_escaped(svg: &str) {
        let own = [
            "svg", "rect", "text", "polyline", "path", "line", "circle", "xml",
        ];
        for e in elements(svg) {
            assert!(own.contains(&e.as_str()), "<{e}> in {svg}");
        }
        assert!(!svg.contains("javascript:alert(1)\">"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{svg}"
        );
        assert!(svg.contains("a&quot;b&apos;c&amp;d"), "{svg}");
    }

    #[test]
    fn label_values_in_legends_and_axes_are_xml_escaped() {
        let routes = HOSTILE
            .iter()
            .map(|r| RouteLatency {
                route: (*r).to_owned(),
                requests: Trend::default(),
                p50: Trend::default(),
                p95: Trend::default(),
                p99: Trend::default(),
                daily: (0..3)
                    .map(|d| Daily {
                        end: d as f64,
                        date: format!("2026-11-2{d}"),
                        p50: None,
                        p95: Some(0.1),
                        p99: None,
                    })
                    .collect(),
                regressed: false,
            })
            .collect();
        let latency = Latency {
            routes,
            regressed: Vec::new(),
        };
        assert_escaped(&daily_p95(&latency, 0.3).expect("a chart"));

        let by_model_task = HOSTILE
            .iter()
            .map(|v| ModelTask {
                model: (*v).to_owned(),
                task: (*v).to_owned(),
                calls: Trend::default(),
                input_tokens: Trend::default(),
                output_tokens: Trend::default(),
                cost_usd: Trend::new(Some(1.0), Some(0.5)),
                cost_per_call_usd: Trend::default(),
            })
            .collect();
        let llm = Llm {
            by_model_task,
            calls: Trend::default(),
            cost_usd: Trend::default(),
            llm_route_requests: Trend::default(),
            cost_per_llm_request_usd: Trend::default(),
        };
        assert_escaped(&llm_cost(&llm).expect("a chart"));
    }
}
