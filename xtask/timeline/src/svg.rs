//! The trace as an SVG picture: one lane per thread, grouped by process, a bar from its
//! birth to its end; task and request lanes under the thread they ran on; each printed
//! line a tick carrying its text; a time axis in ms with the run's total.
//!
//! Tick labels never overlap: each lane stacks its labels in as many rows as they need,
//! each label beside its tick (or just before it, near the right edge). A process with
//! many threads that print nothing draws them as one lane: how many were alive at each
//! moment.

use std::fmt::Write as _;
use std::time::Duration;

use super::labels;
use super::model::{End, Line, Thread, Trace};
use super::tasks::{self, Span};

const WIDTH: f64 = 900.0;
/// The plot: left of it, the lanes' labels.
const PLOT_X0: f64 = 250.0;
const PLOT_X1: f64 = 884.0;
/// Monospace text: the width of one character at 11 px, with a little to spare.
const FONT: f64 = 11.0;
const CHAR_W: f64 = 6.7;
const BAR_H: f64 = 10.0;
const ROW_H: f64 = 14.0;
/// Characters of a printed line shown beside its tick.
const MAX_TEXT: usize = 52;
/// A process with more threads than this draws the ones that print nothing as a crowd.
const MAX_THREAD_LANES: usize = 16;
const PALETTE: [&str; 6] = [
    "#4e79a7", "#59a14f", "#b07aa1", "#76b7b2", "#9c755f", "#7f7f7f",
];
const TASK: &str = "#e8a33d";
const REQUEST: &str = "#2a9d8f";
const ALERT: &str = "#c0392b";

/// One label beside a tick on a lane.
struct Tick {
    at: Duration,
    text: String,
    alert: bool,
}

enum Body {
    /// A bar from birth to end.
    Bar { from: Duration, to: Duration },
    /// Threads alive over time: (time, how many) steps.
    Crowd {
        steps: Vec<(Duration, usize)>,
        most: usize,
    },
}

struct Lane {
    label: String,
    color: &'static str,
    body: Body,
    ticks: Vec<Tick>,
}

struct Group {
    header: String,
    lanes: Vec<Lane>,
}

pub fn write(name: &str, trace: &Trace, spans: &[Span]) -> String {
    let groups = groups(trace, spans);
    let total = spans
        .iter()
        .map(|s| s.end)
        .chain([trace.end])
        .max()
        .unwrap_or_default()
        .max(Duration::from_millis(1));
    let scale = Scale::new(trace, total);
    let scale = |t: Duration| scale.x(t);

    let mut body = String::new();
    let mut y = 76.0;
    for group in &groups {
        y += 8.0;
        let top = y;
        let _ = writeln!(
            body,
            r#"<text x="8" y="{:.1}" class="group">{}</text>"#,
            y + 10.0,
            esc(&group.header)
        );
        y += 16.0;
        for lane in &group.lanes {
            y = draw_lane(&mut body, lane, y, &scale);
        }
        let _ = writeln!(
            body,
            r##"<rect x="4" y="{:.1}" width="{:.1}" height="{:.1}" rx="4" fill="none" stroke="#d8d8d8"/>"##,
            top - 2.0,
            WIDTH - 8.0,
            y - top + 4.0
        );
        y += 4.0;
    }
    let plot_bottom = y + 4.0;
    y += 4.0;
    // The legend: what the marks mean, for the ones this picture has.
    let scale_ = Scale::new(trace, total);
    let mut legend = vec![
        "bar: a thread, from its creation to its end",
        "tick: a line it printed",
    ];
    if trace.lines.iter().any(|l| l.fd == 2) {
        legend.push("red: stderr");
    }
    if spans.iter().any(|s| s.tid.is_some()) {
        legend.push("orange: a task, from its starting line to its finished line");
    }
    if spans.iter().any(|s| s.tid.is_none()) {
        legend.push("green: a request, from arrival to answer");
    }
    if scale_.head > 0.0 || scale_.tail < scale_.total {
        legend.push("grey: time squeezed to fit");
    }
    let mut legend_lines = vec![String::new()];
    for item in legend {
        let last = legend_lines.last_mut().expect("one line at least");
        if !last.is_empty()
            && (last.chars().count() + item.chars().count() + 3) as f64 * CHAR_W > WIDTH - 16.0
        {
            legend_lines.push(item.to_string());
        } else if last.is_empty() {
            *last = item.to_string();
        } else {
            *last = format!("{last} · {item}");
        }
    }
    for line in &legend_lines {
        y += 14.0;
        let _ = writeln!(
            body,
            r#"<text x="8" y="{y:.1}" class="dim">{}</text>"#,
            esc(line)
        );
    }
    let height = y + 10.0;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{FONT}">"#
    );
    let _ = writeln!(
        svg,
        r##"<style>text {{ fill: #222; }} .group {{ font-weight: bold; }} .lane {{ fill: #444; }} .dim {{ fill: #777; }} .alert {{ fill: {ALERT}; }} .tick {{ paint-order: stroke; stroke: #fff; stroke-width: 3px; }}</style>"##
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    let (processes, threads) = (trace.processes().len(), trace.threads.len());
    let tasks = spans.iter().filter(|s| s.tid.is_some()).count();
    let requests = spans.len() - tasks;
    let mut summary = format!(
        "{} process{}, {} thread{}",
        processes,
        plural(processes, "es"),
        threads,
        plural(threads, "s")
    );
    if tasks > 0 {
        let _ = write!(summary, ", {tasks} task{}", plural(tasks, "s"));
    }
    if requests > 0 {
        let _ = write!(summary, ", {requests} request{}", plural(requests, "s"));
    }
    let _ = writeln!(
        svg,
        r#"<text x="8" y="18" font-size="14" class="group">{} — {summary}, {} in all</text>"#,
        esc(name),
        ms(total)
    );
    let command = clip(&trace.command.join(" "), 120);
    let _ = writeln!(
        svg,
        r#"<text x="8" y="34" class="dim">$ {}</text>"#,
        esc(&command)
    );
    axis(&mut svg, &scale_, plot_bottom);
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

/// Where a time goes across the plot. When a run starts threads or processes, the time
/// before the first starts and after the last ends (an interpreter starting up and
/// shutting down) can be most of it: each such stretch, if long, is squeezed into a short
/// grey segment at its end of the axis, so what ran at the same time gets the width.
struct Scale {
    total: f64,
    /// Seconds squeezed into the first [`SQUEEZED`] pixels; 0 for none.
    head: f64,
    /// Seconds from which the rest is squeezed into the last [`SQUEEZED`] pixels;
    /// `total` for none.
    tail: f64,
}

const SQUEEZED: f64 = 56.0;

impl Scale {
    fn new(trace: &Trace, total: Duration) -> Scale {
        let total = total.as_secs_f64();
        let mut scale = Scale {
            total,
            head: 0.0,
            tail: total,
        };
        // A run that starts no thread, such as an async one, has nothing to squeeze:
        // its waits are the lesson.
        let others: Vec<&Thread> = trace
            .threads
            .iter()
            .filter(|t| t.tid != trace.root)
            .collect();
        if others.is_empty() {
            return scale;
        }
        let times = others
            .iter()
            .flat_map(|t| [t.born, t.ended])
            .chain(trace.lines.iter().map(|l| l.at));
        let first = times.clone().min().unwrap_or_default().as_secs_f64();
        let last = times.max().unwrap_or_default().as_secs_f64();
        let margin = 0.08 * (last - first);
        // Long: more than half the rest, and more than a tenth of the whole.
        let long =
            |stretch: f64| stretch > 0.5 * (last - first + 2.0 * margin) && stretch > 0.1 * total;
        if long(first - margin) {
            scale.head = first - margin;
        }
        if long(total - last - margin) {
            scale.tail = last + margin;
        }
        scale
    }

    fn x(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        let left = if self.head > 0.0 { SQUEEZED } else { 0.0 };
        let right = if self.tail < self.total {
            SQUEEZED
        } else {
            0.0
        };
        let (x0, x1) = (PLOT_X0 + left, PLOT_X1 - right);
        if t < self.head {
            PLOT_X0 + t / self.head * SQUEEZED
        } else if t > self.tail {
            x1 + (t - self.tail) / (self.total - self.tail) * SQUEEZED
        } else {
            x0 + (t - self.head) / (self.tail - self.head) * (x1 - x0)
        }
    }
}

/// "3012 ms", or "2.9 ms" below 10 ms.
fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The time axis along the top, in ms, with light grid lines down to `bottom`.
fn axis(svg: &mut String, scale: &Scale, bottom: f64) {
    let (head_ms, tail_ms) = (scale.head * 1000.0, scale.tail * 1000.0);
    let step = nice_step((tail_ms - head_ms) / 8.0);
    let y = 62.0;
    let _ = writeln!(
        svg,
        r##"<line x1="{PLOT_X0}" y1="{y}" x2="{PLOT_X1}" y2="{y}" stroke="#333"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{}" text-anchor="end" class="dim">time (ms)</text>"#,
        PLOT_X0 - 10.0,
        y - 4.0
    );
    let at = |v: f64| scale.x(Duration::from_secs_f64(v / 1000.0));
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let tick = |svg: &mut String, v: f64| {
        let x = at(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><line x1="{x:.1}" y1="{y}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            y + 1.0,
            bottom,
            y - 5.0,
            y - 6.0,
            format_args!("{v:.*}", if v == 0.0 { 0 } else { decimals })
        );
    };
    tick(svg, 0.0);
    let squeezed = |svg: &mut String, x: f64| {
        let _ = writeln!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{SQUEEZED}" height="{:.1}" fill="#f3f3f3"/><text x="{:.1}" y="{:.1}" text-anchor="middle" class="dim" font-size="9">squeezed</text><path d="M{:.1},{:.1} l4,-8 M{:.1},{:.1} l4,-8" stroke="#333"/>"##,
            y + 1.0,
            bottom - y - 1.0,
            x + SQUEEZED / 2.0,
            y + 12.0,
            x + SQUEEZED / 2.0 - 4.0,
            y + 4.0,
            x + SQUEEZED / 2.0,
            y + 4.0
        );
    };
    if scale.head > 0.0 {
        squeezed(svg, PLOT_X0);
    }
    if scale.tail < scale.total {
        squeezed(svg, PLOT_X1 - SQUEEZED);
    }
    // Ticks where the axis is not squeezed, not crowding the first or the total's label.
    let mut n = (head_ms / step).ceil().max(1.0);
    while n * step <= tail_ms {
        let v = n * step;
        let x = at(v);
        if x > at(head_ms) + if head_ms > 0.0 { 20.0 } else { 30.0 } && x < PLOT_X1 - 40.0 {
            tick(svg, v);
        }
        n += 1.0;
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{PLOT_X1}" y1="{y}" x2="{PLOT_X1}" y2="{:.1}" stroke="#bbb" stroke-dasharray="3 3"/><line x1="{PLOT_X1}" y1="{:.1}" x2="{PLOT_X1}" y2="{y}" stroke="#333"/><text x="{PLOT_X1}" y="{:.1}" text-anchor="end" class="group">{}</text>"##,
        bottom,
        y - 5.0,
        y - 6.0 - 12.0,
        ms(Duration::from_secs_f64(scale.total))
    );
}

/// 1, 2 or 5 times a power of ten, at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let rough = rough.max(0.001);
    // The power of ten by multiplying (exact) and one division (correctly rounded), not
    // powf or powi: on Windows both call the C library's pow, and Wine's makes 10^-2
    // 0.010000000000000002, so a 0.05 step came out 0.05000000000000001.
    let exp = rough.log10().floor() as i32;
    let ten_to = |n: u32| (0..n).fold(1.0, |power, _| power * 10.0);
    let mut step = if exp >= 0 {
        ten_to(exp.unsigned_abs())
    } else {
        1.0 / ten_to(exp.unsigned_abs())
    };
    loop {
        for m in [1.0, 2.0, 5.0] {
            if step * m >= rough {
                return step * m;
            }
        }
        step *= 10.0;
    }
}

/// Draws one lane from `y` down; returns where the next lane starts.
fn draw_lane(svg: &mut String, lane: &Lane, y: f64, scale: &dyn Fn(Duration) -> f64) -> f64 {
    let _ = writeln!(
        svg,
        r#"<text x="20" y="{:.1}" class="lane">{}</text>"#,
        y + BAR_H - 1.0,
        esc(&clip(&lane.label, 34))
    );
    let bar_bottom = match &lane.body {
        Body::Bar { from, to } => {
            let (x0, x1) = (scale(*from), scale(*to));
            let _ = writeln!(
                svg,
                r#"<rect x="{x0:.1}" y="{y:.1}" width="{:.1}" height="{BAR_H}" rx="2" fill="{}"/>"#,
                (x1 - x0).max(2.0),
                lane.color
            );
            y + BAR_H
        }
        Body::Crowd { steps, most } => {
            let h = 30.0;
            let base = y + h;
            let level = |n: usize| base - h * n as f64 / (*most).max(1) as f64;
            // One step per pixel column: the most alive in it, then how many at its end.
            let mut columns: Vec<(f64, usize, usize)> = Vec::new();
            for &(at, alive) in steps {
                let x = scale(at).round();
                match columns.last_mut() {
                    Some(last) if last.0 == x => {
                        last.1 = last.1.max(alive);
                        last.2 = alive;
                    }
                    _ => columns.push((x, alive, alive)),
                }
            }
            let mut path = format!("M{PLOT_X0:.1},{base:.1}");
            let mut before = 0;
            for (x, most_here, after) in columns {
                let _ = write!(
                    path,
                    " L{x},{:.1} L{x},{:.1}",
                    level(before),
                    level(most_here)
                );
                if after != most_here {
                    let _ = write!(
                        path,
                        " L{},{:.1} L{},{:.1}",
                        x + 1.0,
                        level(most_here),
                        x + 1.0,
                        level(after)
                    );
                }
                before = after;
            }
            let _ = write!(path, " L{PLOT_X1:.1},{base:.1} Z");
            let _ = writeln!(
                svg,
                r#"<path d="{path}" fill="{}" fill-opacity="0.6"/><text x="{:.1}" y="{:.1}" class="dim" text-anchor="end">{most} alive</text><text x="{:.1}" y="{:.1}" class="dim" text-anchor="end">0</text>"#,
                lane.color,
                PLOT_X0 - 4.0,
                y + 9.0,
                PLOT_X0 - 4.0,
                base
            );
            base
        }
    };

    let mut ticks: Vec<&Tick> = lane.ticks.iter().collect();
    ticks.sort_by_key(|t| t.at);
    let texts: Vec<String> = ticks.iter().map(|t| clip(&t.text, MAX_TEXT)).collect();
    let boxes: Vec<(f64, f64)> = ticks
        .iter()
        .zip(&texts)
        .map(|(t, text)| (scale(t.at), text.chars().count() as f64 * CHAR_W))
        .collect();
    let placed = place(&boxes);
    let rows = placed.iter().map(|p| p.row + 1).max().unwrap_or(0);
    for ((tick, text), (&(x, _), p)) in ticks.iter().zip(&texts).zip(boxes.iter().zip(&placed)) {
        let text_y = bar_bottom + ROW_H * (p.row as f64 + 1.0);
        let (tx, anchor) = if p.right {
            (x + GAP, "start")
        } else {
            (x - GAP, "end")
        };
        let color = if tick.alert { ALERT } else { "#333" };
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{color}" stroke-width="1.5"/><line x1="{x:.1}" y1="{bar_bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#bbb" stroke-width="0.8"/><text x="{tx:.1}" y="{text_y:.1}" text-anchor="{anchor}" class="tick{}">{}</text>"##,
            bar_bottom - BAR_H - 2.0,
            bar_bottom + 2.0,
            text_y - 3.0,
            if tick.alert { " alert" } else { "" },
            esc(text)
        );
    }
    bar_bottom + ROW_H * rows as f64 + 8.0
}

/// Where a label goes: right or left of its tick, and in which row under the bar.
#[derive(Debug)]
struct Placed {
    right: bool,
    row: usize,
}

/// Between a tick and its label's text.
const GAP: f64 = 4.0;

/// Places labels, given each one's tick position and text width, in tick order: right
/// of the tick where it fits in the picture, else left of it (and a label close after
/// one placed left goes left too, so a cluster reads as one column); each in the first
/// row where it overlaps no other label.
fn place(labels: &[(f64, f64)]) -> Vec<Placed> {
    let mut rows: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut placed: Vec<Placed> = Vec::new();
    let mut last: Option<(f64, bool)> = None;
    for &(x, w) in labels {
        let fits_right = x + GAP + w <= WIDTH - 4.0;
        let fits_left = x - GAP - w >= 4.0;
        let follows_left = last.is_some_and(|(lx, right)| !right && x - lx < 12.0);
        let right = fits_right && !(follows_left && fits_left);
        let (from, to) = if right {
            (x + GAP, x + GAP + w)
        } else {
            (x - GAP - w, x - GAP)
        };
        let free =
            |row: &Vec<(f64, f64)>| row.iter().all(|&(a, b)| to + 8.0 <= a || b + 8.0 <= from);
        let row = match rows.iter().position(free) {
            Some(r) => r,
            None => {
                rows.push(Vec::new());
                rows.len() - 1
            }
        };
        rows[row].push((from, to));
        placed.push(Placed { right, row });
        last = Some((x, right));
    }
    placed
}

/// The lanes, process by process, then the test server's requests. In a process with
/// many threads, those that print nothing and end normally are drawn as one crowd lane.
fn groups(trace: &Trace, spans: &[Span]) -> Vec<Group> {
    let mut groups = Vec::new();
    for (n, process) in trace.processes().iter().enumerate() {
        let color = PALETTE[n % PALETTE.len()];
        let mut lanes = Vec::new();
        let mut crowd: Vec<&Thread> = Vec::new();
        let many = process.threads.len() > MAX_THREAD_LANES;
        for (i, thread) in process.threads.iter().enumerate() {
            let own_spans: Vec<(usize, &Span)> = spans
                .iter()
                .enumerate()
                .filter(|(_, s)| s.tid == Some(thread.tid))
                .collect();
            let lines: Vec<&Line> = trace
                .lines
                .iter()
                .filter(|l| l.tid == thread.tid && tasks::line_owner(spans, l).is_none())
                .collect();
            let quiet = lines.is_empty() && own_spans.is_empty() && end_note(&thread.end).is_none();
            if many && i > 0 && quiet {
                crowd.push(thread);
                continue;
            }
            let mut ticks: Vec<Tick> = lines.iter().map(|l| tick(l)).collect();
            if let Some(note) = end_note(&thread.end) {
                ticks.push(Tick {
                    at: thread.ended,
                    text: note,
                    alert: true,
                });
            }
            lanes.push(Lane {
                label: labels::thread(process, i),
                color,
                body: Body::Bar {
                    from: thread.born,
                    to: thread.ended,
                },
                ticks,
            });
            for (index, span) in own_spans {
                let ticks = trace
                    .lines
                    .iter()
                    .filter(|l| tasks::line_owner(spans, l) == Some(index))
                    .map(tick)
                    .collect();
                lanes.push(Lane {
                    label: format!("  task: {}", span.label),
                    color: TASK,
                    body: Body::Bar {
                        from: span.start,
                        to: span.end,
                    },
                    ticks,
                });
            }
        }
        if !crowd.is_empty() {
            lanes.push(crowd_lane(&crowd, color));
        }
        groups.push(Group {
            header: labels::process(trace, process),
            lanes,
        });
    }
    let requests: Vec<Lane> = spans
        .iter()
        .filter(|s| s.tid.is_none())
        .map(|s| Lane {
            label: s.label.clone(),
            color: REQUEST,
            body: Body::Bar {
                from: s.start,
                to: s.end,
            },
            ticks: Vec::new(),
        })
        .collect();
    if !requests.is_empty() {
        groups.push(Group {
            header: "test HTTP server (in xtask): each request, arrived → answered".to_string(),
            lanes: requests,
        });
    }
    groups
}

fn tick(line: &Line) -> Tick {
    Tick {
        at: line.at,
        text: line.text.clone(),
        alert: line.fd == 2,
    }
}

/// A note at the end of a thread that did not simply return or exit.
fn end_note(end: &End) -> Option<String> {
    match end {
        End::Exit | End::ExitGroup => None,
        other => Some(format!("✕ {}", labels::end(other))),
    }
}

/// Many threads as one lane: how many were alive at each moment.
fn crowd_lane(threads: &[&Thread], color: &'static str) -> Lane {
    let mut edges: Vec<(Duration, i64)> = threads
        .iter()
        .flat_map(|t| [(t.born, 1), (t.ended, -1)])
        .collect();
    edges.sort();
    let (mut alive, mut most) = (0i64, 0i64);
    let mut steps = Vec::new();
    for (at, step) in edges {
        alive += step;
        most = most.max(alive);
        steps.push((at, alive as usize));
    }
    Lane {
        label: format!("{} more threads", threads.len()),
        color,
        body: Body::Crowd {
            steps,
            most: most as usize,
        },
        ticks: Vec::new(),
    }
}

fn plural(n: usize, suffix: &str) -> &str {
    if n == 1 { "" } else { suffix }
}

/// At most `max` characters, with `…` where it was cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// Text as SVG content: markup escaped, control characters (not allowed in XML) as spaces.
fn esc(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Line;

    fn overlaps(a: (f64, f64), b: (f64, f64)) -> bool {
        a.0 < b.1 && b.0 < a.1
    }

    #[test]
    fn axis_steps_are_round() {
        let steps: Vec<f64> = [0.03, 0.2, 0.9, 1.0, 3.0, 130.0].map(nice_step).to_vec();
        assert_eq!(steps, [0.05, 0.2, 1.0, 1.0, 5.0, 200.0]);
    }

    #[test]
    fn labels_never_overlap_and_stay_in_the_picture() {
        // Clusters of ticks at one moment, long and short texts, ticks at both edges.
        let labels: Vec<(f64, f64)> = (0..40)
            .map(|i| {
                let x = [PLOT_X0, 400.0, 401.0, 402.0, 870.0, PLOT_X1][i % 6];
                (x, CHAR_W * (5 + (i * 7) % 48) as f64)
            })
            .collect();
        let placed = place(&labels);
        let boxes: Vec<(usize, (f64, f64))> = labels
            .iter()
            .zip(&placed)
            .map(|(&(x, w), p)| {
                let span = if p.right {
                    (x + GAP, x + GAP + w)
                } else {
                    (x - GAP - w, x - GAP)
                };
                (p.row, span)
            })
            .collect();
        for (i, &(row, a)) in boxes.iter().enumerate() {
            assert!(
                a.0 >= 0.0 && a.1 <= WIDTH,
                "label {i} leaves the picture: {a:?}"
            );
            for &(other_row, b) in &boxes[i + 1..] {
                assert!(
                    row != other_row || !overlaps(a, b),
                    "two labels overlap in row {row}: {a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_picture_has_a_lane_per_thread_and_each_line_as_a_tick() {
        let ms = Duration::from_millis;
        let thread = |tid, born, ended, end| Thread {
            tid,
            pid: 10,
            parent: (tid != 10).then_some(10),
            born: ms(born),
            ended: ms(ended),
            name: "demo".to_string(),
            end,
        };
        let mut threads = vec![
            thread(10, 0, 100, End::ExitGroup),
            thread(11, 5, 50, End::Exit),
        ];
        // Enough silent threads to be drawn as one crowd lane.
        threads.extend((0..20).map(|i| thread(100 + i, 10 + i as u64, 40, End::Exit)));
        threads.push(thread(12, 60, 100, End::TakenDown));
        let trace = Trace {
            command: vec!["demo".to_string()],
            root: 10,
            threads,
            lines: vec![Line {
                tid: 11,
                pid: 10,
                at: ms(20),
                fd: 2,
                text: "a <b> & \"c\"".to_string(),
            }],
            end: ms(100),
            ..Trace::default()
        };
        let svg = write("demo", &trace, &[]);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        for text in [
            "main thread",
            "thread 2",
            "20 more threads",
            "a &lt;b&gt; &amp; &quot;c&quot;",
            "✕ still running when its process exited",
            "100 ms",
        ] {
            assert!(svg.contains(text), "no {text:?} in the picture");
        }
    }

    #[test]
    fn a_late_start_is_squeezed_and_times_stay_in_order() {
        let ms = Duration::from_millis;
        let trace = Trace {
            root: 1,
            threads: vec![
                Thread {
                    tid: 1,
                    pid: 1,
                    parent: None,
                    born: ms(0),
                    ended: ms(1000),
                    name: "python3".to_string(),
                    end: End::ExitGroup,
                },
                Thread {
                    tid: 2,
                    pid: 1,
                    parent: Some(1),
                    born: ms(900),
                    ended: ms(950),
                    name: "python3".to_string(),
                    end: End::Exit,
                },
            ],
            lines: vec![Line {
                tid: 1,
                pid: 1,
                at: ms(900),
                fd: 1,
                text: "late".to_string(),
            }],
            end: ms(1000),
            ..Trace::default()
        };
        let scale = Scale::new(&trace, ms(1000));
        assert!(scale.head > 0.8 && scale.tail > 0.95, "{}", scale.head);
        let xs: Vec<f64> = [0, 100, 890, 900, 1000].map(|t| scale.x(ms(t))).to_vec();
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
        assert_eq!((xs[0], xs[4]), (PLOT_X0, PLOT_X1));
        assert!(xs[3] - PLOT_X0 < 100.0, "the line is near the left: {xs:?}");
        // A thread in the middle of a long run: both ends are squeezed.
        let mut middle = trace.clone();
        middle.threads[1].born = ms(400);
        middle.threads[1].ended = ms(450);
        middle.lines[0].at = ms(420);
        let both = Scale::new(&middle, ms(1000));
        assert!(
            both.head > 0.35 && both.tail < 0.5,
            "{} {}",
            both.head,
            both.tail
        );
        assert_eq!(both.x(ms(1000)), PLOT_X1);
        // With no thread started, a late line is the lesson (a sleep), not startup.
        let mut asleep = trace.clone();
        asleep.threads.truncate(1);
        let asleep = Scale::new(&asleep, ms(1000));
        assert_eq!((asleep.head, asleep.tail), (0.0, 1.0));
    }
}
