//! How figures read in Markdown and HTML: one place, so both say the same.

/// Missing figures.
pub const NONE: &str = "–";

pub fn ms(seconds: Option<f64>) -> String {
    match seconds {
        Some(s) if s < 0.01 => format!("{:.2} ms", s * 1000.0),
        Some(s) => format!("{:.1} ms", s * 1000.0),
        None => NONE.to_owned(),
    }
}

pub fn pct(ratio: Option<f64>) -> String {
    ratio
        .map(|r| format!("{:.2} %", r * 100.0))
        .unwrap_or(NONE.to_owned())
}

pub fn usd(v: Option<f64>) -> String {
    match v {
        Some(v) if v.abs() < 1.0 => format!("${v:.4}"),
        Some(v) => format!("${v:.2}"),
        None => NONE.to_owned(),
    }
}

pub fn count(v: Option<f64>) -> String {
    match v {
        Some(v) if v.abs() >= 1e6 => format!("{:.2}M", v / 1e6),
        Some(v) if v.abs() >= 1e4 => format!("{:.1}k", v / 1e3),
        Some(v) if v.fract().abs() < 1e-9 || v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => NONE.to_owned(),
    }
}

pub fn rate(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}/s")).unwrap_or(NONE.to_owned())
}

pub fn bytes(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 1024.0 * 1024.0 * 1024.0 => {
            format!("{:.2} GiB", v / (1024.0 * 1024.0 * 1024.0))
        }
        Some(v) if v >= 1024.0 * 1024.0 => format!("{:.1} MiB", v / (1024.0 * 1024.0)),
        Some(v) => format!("{:.0} KiB", v / 1024.0),
        None => NONE.to_owned(),
    }
}

/// `2h 5m`, `45m`, `30s`.
pub fn duration(seconds: Option<f64>) -> String {
    let Some(s) = seconds else {
        return NONE.to_owned();
    };
    if s < 10.0 && s.fract() != 0.0 {
        return format!("{s:.2}s");
    }
    let s = s.round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (h, 0, 0) if h >= 24 && h % 24 == 0 => format!("{}d", h / 24),
        (h, m, _) if h >= 24 => format!("{}d {}h {m}m", h / 24, h % 24),
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m {sec}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// The change on the previous window: `+75.0 %`, `−20.0 %`, `new`, `–`.
pub fn change(c: Option<f64>) -> String {
    match c {
        Some(c) if c.abs() < 0.0005 => "±0 %".to_owned(),
        Some(c) => format!("{:+.1} %", c * 100.0),
        None => NONE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_the_report_prints_them() {
        assert_eq!(ms(Some(0.175)), "175.0 ms");
        assert_eq!(pct(Some(0.125)), "12.50 %");
        assert_eq!(usd(Some(12.5)), "$12.50");
        assert_eq!(usd(Some(0.0125)), "$0.0125");
        assert_eq!(change(Some(0.75)), "+75.0 %");
        assert_eq!(change(None), "–");
        assert_eq!(duration(Some(10_800.0)), "3h 0m");
        assert_eq!(duration(Some(90.0)), "1m 30s");
        assert_eq!(duration(Some(7.0 * 86_400.0)), "7d");
        assert_eq!(duration(Some(0.234)), "0.23s");
        assert_eq!(count(Some(12_345.0)), "12.3k");
    }
}
