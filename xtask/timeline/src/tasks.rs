//! Lanes for what the OS does not see: asyncio-style tasks sharing one thread, and the
//! requests the test HTTP server answered.
//!
//! A task's lane runs from its `… is starting` line to its `… is finished` line (the
//! pairs the asyncio chapter prints, as the catalogue expects them), on the thread that
//! printed the first. A request's lane runs from when the server read it to when it
//! answered, taken from the server's own record.

use std::time::{Duration, Instant};

use super::model::Line;

/// The two lines that open and close one task's lane; what comes before them names it.
const OPENS: &str = " is starting";
const CLOSES: &str = " is finished";

/// A lane that is not a thread: a task, or a request the test server answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub label: String,
    /// The thread it ran on; `None` for the test server, which runs in xtask, untraced.
    pub tid: Option<i32>,
    pub start: Duration,
    pub end: Duration,
}

/// One request as the test server records it.
pub use xtask::http_server::Request;

/// A lane for each task that printed an opening line and then its closing line.
pub fn from_lines(lines: &[Line]) -> Vec<Span> {
    let mut spans = Vec::new();
    for (i, open) in lines.iter().enumerate() {
        let Some(name) = open.text.strip_suffix(OPENS) else {
            continue;
        };
        let close = lines[i + 1..]
            .iter()
            .find(|l| l.pid == open.pid && l.text.strip_suffix(CLOSES) == Some(name));
        if let Some(close) = close {
            spans.push(Span {
                label: name.to_string(),
                tid: Some(open.tid),
                start: open.at,
                end: close.at,
            });
        }
    }
    spans
}

/// Which lines belong on a task lane rather than on their thread's own: index into
/// `spans` for each line, if any.
pub fn line_owner(spans: &[Span], line: &Line) -> Option<usize> {
    spans.iter().position(|s| {
        s.tid == Some(line.tid)
            && (line.at == s.start || line.at == s.end)
            && [OPENS, CLOSES]
                .iter()
                .any(|end| line.text.strip_suffix(end) == Some(s.label.as_str()))
    })
}

/// A lane for each request the server answered while the run was going on; `origin` is
/// when the run started, `end` how long it ran.
pub fn from_requests(requests: &[Request], origin: Instant, end: Duration) -> Vec<Span> {
    let until = origin + end;
    let mut spans: Vec<Span> = requests
        .iter()
        .filter(|r| r.arrived >= origin && r.arrived <= until)
        .map(|r| Span {
            label: format!("GET {} → {}", r.path, r.status),
            tid: None,
            start: r.arrived - origin,
            end: r.answered.max(r.arrived) - origin,
        })
        .collect();
    spans.sort_by_key(|s| s.start);
    spans
}

/// The most spans that overlap at one time (a span ending as another starts does not
/// overlap it).
pub fn most_at_once(spans: &[Span]) -> usize {
    most_overlapping(spans.iter().map(|s| (s.start, s.end)))
}

/// The most `(start, end)` intervals that overlap at one time (one ending as another
/// starts does not overlap it).
pub fn most_overlapping(intervals: impl IntoIterator<Item = (Duration, Duration)>) -> usize {
    let mut edges: Vec<(Duration, i32)> = intervals
        .into_iter()
        .flat_map(|(start, end)| [(start, 1), (end, -1)])
        .collect();
    // At equal times, ends before starts.
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(tid: i32, ms: u64, text: &str) -> Line {
        Line {
            tid,
            pid: 1,
            at: Duration::from_millis(ms),
            fd: 1,
            text: text.to_string(),
        }
    }

    #[test]
    fn paired_lines_make_task_lanes() {
        let lines = [
            line(1, 0, "Worker 0 is starting"),
            line(1, 0, "Worker 1 is starting"),
            line(1, 5, "unrelated"),
            line(1, 1000, "Worker 1 is finished"),
            line(1, 1001, "Worker 0 is finished"),
            line(1, 1002, "Worker 2 is starting"),
        ];
        let spans = from_lines(&lines);
        let got: Vec<(&str, u128, u128)> = spans
            .iter()
            .map(|s| (s.label.as_str(), s.start.as_millis(), s.end.as_millis()))
            .collect();
        assert_eq!(got, [("Worker 0", 0, 1001), ("Worker 1", 0, 1000)]);
        assert_eq!(line_owner(&spans, &lines[3]), Some(1));
        assert_eq!(line_owner(&spans, &lines[2]), None);
        assert_eq!(most_at_once(&spans), 2);
    }

    #[test]
    fn back_to_back_spans_do_not_overlap() {
        let span = |start, end| Span {
            label: String::new(),
            tid: Some(1),
            start: Duration::from_millis(start),
            end: Duration::from_millis(end),
        };
        let two_at_a_time = [span(0, 10), span(0, 10), span(10, 20), span(10, 20)];
        assert_eq!(most_at_once(&two_at_a_time), 2);
        let three = [span(0, 10), span(5, 15), span(9, 20)];
        assert_eq!(most_at_once(&three), 3);
        assert_eq!(most_at_once(&[]), 0);
    }

    #[test]
    fn requests_during_the_run_make_lanes() {
        let origin = Instant::now();
        let at = |ms| origin + Duration::from_millis(ms);
        let request = |path: &str, arrived, answered, status| Request {
            path: path.to_string(),
            arrived: at(arrived),
            answered: at(answered),
            status,
        };
        let requests = [
            request("/page/1", 12, 1012, 200),
            request("/page/0", 10, 1510, 200),
            request("/fail", 5000, 5001, 500),
        ];
        let spans = from_requests(&requests, origin, Duration::from_millis(1600));
        let got: Vec<(&str, u128, u128)> = spans
            .iter()
            .map(|s| (s.label.as_str(), s.start.as_millis(), s.end.as_millis()))
            .collect();
        assert_eq!(
            got,
            [
                ("GET /page/0 → 200", 10, 1510),
                ("GET /page/1 → 200", 12, 1012)
            ]
        );
        assert!(spans.iter().all(|s| s.tid.is_none()));
    }
}
