//! The speedup chart: one horizontal bar per pattern on a log scale, hand-written SVG.
//!
//! The coloured bar is Python's median time over Rust's (green: target met, red: missed);
//! the thin bars under it are each Rust peer's time over the workspace code's (orange: the
//! same-model peer, grey: the limit), so a thin bar left of 1× means that peer is faster.

use std::fmt::Write as _;

use super::Kind;
use super::report::{Bar, fmt_ratio};

const WIDTH: f64 = 1060.0;
const PLOT_LEFT: f64 = 330.0;
const PLOT_RIGHT: f64 = 860.0;
const TOP: f64 = 78.0;
const ROW: f64 = 66.0;
const GREEN: &str = "#2e7d32";
const RED: &str = "#c62828";
const BLUE: &str = "#1565c0";
const GREY: &str = "#8a8a8a";
const ORANGE: &str = "#e07b00";

/// XML-escaped, without Markdown's backticks.
fn escape(text: &str) -> String {
    text.replace('`', "")
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn chart(bars: &[Bar], quick: bool, runs: usize) -> String {
    let ratios: Vec<f64> = bars
        .iter()
        .flat_map(|b| {
            [b.vs_python, Some(b.target)]
                .into_iter()
                .flatten()
                .chain(b.peers.iter().map(|p| p.2))
        })
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    let lo = ratios
        .iter()
        .map(|r| r.log10().floor() as i32)
        .min()
        .unwrap_or(0)
        .clamp(-3, -1);
    let hi = ratios
        .iter()
        .map(|r| r.log10().ceil() as i32)
        .max()
        .unwrap_or(1)
        .clamp(1, 5);
    let x = |r: f64| {
        let f = (r.log10() - f64::from(lo)) / f64::from(hi - lo);
        PLOT_LEFT + f.clamp(0.0, 1.0) * (PLOT_RIGHT - PLOT_LEFT)
    };
    let bottom = TOP + ROW * bars.len() as f64;
    let height = bottom + 70.0;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">"##
    );
    let _ = writeln!(
        s,
        r##"<rect width="100%" height="100%" fill="white"/>
<text x="16" y="30" font-size="19" font-weight="bold">How many times faster Rust is than Python{}</text>
<text x="16" y="52" font-size="12.5" fill="#444">Python's median time ÷ Rust's, {runs} runs each, log scale. Thin bars: a Rust peer's time ÷ the workspace code's (left of 1×: the peer is faster).</text>"##,
        if quick {
            " (quick sizes: smoke test)"
        } else {
            ""
        }
    );
    for e in lo..=hi {
        let gx = x(10f64.powi(e));
        let (stroke, w) = if e == 0 { ("#333", 1.5) } else { ("#ddd", 1.0) };
        let label = if e < 0 {
            format!("{}×", 10f64.powi(e))
        } else {
            format!("{}×", 10u64.pow(e as u32))
        };
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{:.1}" x2="{gx:.1}" y2="{bottom:.1}" stroke="{stroke}" stroke-width="{w}"/>
<text x="{gx:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#444">{label}</text>"##,
            TOP - 8.0,
            bottom + 16.0
        );
    }
    let one = x(1.0);
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let _ = writeln!(
            s,
            r##"<g class="row"><text x="16" y="{:.1}" font-size="14" font-weight="bold">{}</text>
<text x="16" y="{:.1}" font-size="11.5" fill="#555">{}</text>"##,
            y + 20.0,
            escape(&bar.label),
            y + 37.0,
            escape(&bar.sublabel)
        );
        let target = if bar.target > 1.0 {
            format!(" (target ≥ {}×)", bar.target)
        } else {
            String::new()
        };
        match bar.vs_python {
            Some(r) => {
                let colour = match bar.met {
                    Some(true) => GREEN,
                    Some(false) => RED,
                    None => BLUE,
                };
                let end = x(r);
                let _ = writeln!(
                    s,
                    r##"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="20" fill="{colour}"><title>{}: {}</title></rect>
<text x="{:.1}" y="{:.1}" font-size="13" font-weight="bold" fill="{colour}">{}{}</text>"##,
                    one.min(end),
                    y + 6.0,
                    (end - one).abs().max(1.0),
                    escape(&bar.label),
                    fmt_ratio(r),
                    one.max(end) + 6.0,
                    y + 21.0,
                    fmt_ratio(r),
                    escape(&target)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" font-size="13" fill="{RED}">not measured{}</text>"##,
                    one + 6.0,
                    y + 21.0,
                    escape(&target)
                );
            }
        }
        if bar.target > 1.0 {
            let tx = x(bar.target);
            let _ = writeln!(
                s,
                r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="black" stroke-width="2" stroke-dasharray="3,2"/>"##,
                y + 2.0,
                y + 30.0
            );
        }
        for (i, (kind, label, r)) in bar.peers.iter().enumerate() {
            let end = x(*r);
            let top = y + 31.0 + 13.0 * i as f64;
            let colour = match kind {
                Kind::SameModel => ORANGE,
                Kind::Limit => GREY,
            };
            let _ = writeln!(
                s,
                r##"<rect class="peer" x="{:.1}" y="{top:.1}" width="{:.1}" height="9" fill="{colour}"/>
<text x="{:.1}" y="{:.1}" font-size="11.5" fill="#555">vs {} ({}): {}</text>"##,
                one.min(end),
                (end - one).abs().max(1.0),
                one.max(end) + 6.0,
                top + 9.0,
                escape(label),
                kind.name(),
                fmt_ratio(*r)
            );
        }
        s.push_str("</g>\n");
    }
    let ly = bottom + 42.0;
    let _ = writeln!(
        s,
        r##"<rect x="16" y="{:.1}" width="14" height="12" fill="{GREEN}"/><text x="36" y="{ly:.1}" font-size="12">target met</text>
<rect x="130" y="{:.1}" width="14" height="12" fill="{RED}"/><text x="150" y="{ly:.1}" font-size="12">target missed</text>
<line x1="262" y1="{:.1}" x2="262" y2="{:.1}" stroke="black" stroke-width="2" stroke-dasharray="3,2"/><text x="270" y="{ly:.1}" font-size="12">target</text>
<rect x="330" y="{:.1}" width="14" height="8" fill="{ORANGE}"/><text x="350" y="{ly:.1}" font-size="12">vs the same-model Rust peer</text>
<rect x="540" y="{:.1}" width="14" height="8" fill="{GREY}"/><text x="560" y="{ly:.1}" font-size="12">vs the limit (a cheaper model)</text>
</svg>"##,
        ly - 10.0,
        ly - 10.0,
        ly - 12.0,
        ly + 2.0,
        ly - 8.0,
        ly - 8.0
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, vs_python: Option<f64>, peers: &[(Kind, f64)]) -> Bar {
        Bar {
            label: label.to_string(),
            sublabel: "n items".to_string(),
            vs_python,
            target: 10.0,
            met: vs_python.map(|r| r >= 10.0),
            peers: peers
                .iter()
                .map(|&(kind, r)| {
                    let label = match kind {
                        Kind::SameModel => "procspawn",
                        Kind::Limit => "rayon",
                    };
                    (kind, label.to_string(), r)
                })
                .collect(),
        }
    }

    #[test]
    fn every_row_gets_a_bar_and_its_label() {
        let bars = [
            bar(
                "pool map",
                Some(35.0),
                &[(Kind::SameModel, 4.5), (Kind::Limit, 0.2)],
            ),
            bar("queue <fast> & co", Some(4.0), &[(Kind::Limit, 0.5)]),
            bar("broken", None, &[]),
        ];
        let svg = chart(&bars, false, 5);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="row""#).count(), 3);
        assert_eq!(svg.matches(r#"class="bar""#).count(), 2);
        assert_eq!(svg.matches(r#"class="peer""#).count(), 3);
        assert!(svg.contains("35.0×") && svg.contains("vs rayon (limit): 0.20×"));
        assert!(svg.contains("vs procspawn (same-model peer): 4.50×"));
        assert!(svg.contains(ORANGE) && svg.contains(GREY));
        assert!(svg.contains("queue &lt;fast&gt; &amp; co"));
        assert!(svg.contains(GREEN) && svg.contains(RED));
        assert!(svg.contains("not measured"));
    }

    #[test]
    fn bars_grow_with_the_ratio_on_a_log_scale() {
        let svg = chart(
            &[bar("a", Some(10.0), &[]), bar("b", Some(100.0), &[])],
            false,
            5,
        );
        let widths: Vec<f64> = svg
            .split(r#"class="bar""#)
            .skip(1)
            .map(|w| {
                let w = &w[w.find("width=\"").unwrap() + 7..];
                w[..w.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(widths.len(), 2);
        assert!((widths[1] - 2.0 * widths[0]).abs() < 1.0, "{widths:?}");
    }
}
