//! The trace in Chrome's trace event format, for Perfetto (ui.perfetto.dev) or
//! chrome://tracing: one `pid` per process and one `tid` per thread, an `X` event for
//! each thread's life, an instant event for each printed line, async `b`/`e` events for
//! task and request lanes, and flow arrows from each thread to those it created.

use serde_json::{Value, json};

use super::labels;
use super::model::Trace;
use super::tasks::Span;

/// The pid the test HTTP server's lanes are shown under: not a traced process.
const SERVER_PID: i32 = 0;

pub fn write(trace: &Trace, spans: &[Span]) -> Value {
    let us = |d: std::time::Duration| d.as_micros() as u64;
    let mut events = Vec::new();
    for (order, process) in trace.processes().iter().enumerate() {
        let pid = process.pid;
        events.push(
            json!({"ph": "M", "name": "process_name", "pid": pid, "tid": pid,
            "args": {"name": labels::process(trace, process)}}),
        );
        events.push(
            json!({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": pid,
            "args": {"sort_index": order}}),
        );
        for (i, thread) in process.threads.iter().enumerate() {
            let name = labels::thread(process, i);
            events.push(json!({"ph": "M", "name": "thread_name", "pid": pid,
                "tid": thread.tid, "args": {"name": name}}));
            events.push(json!({"ph": "X", "cat": "thread", "name": name, "pid": pid,
                "tid": thread.tid, "ts": us(thread.born),
                "dur": us(thread.ended.saturating_sub(thread.born)),
                "args": {"comm": thread.name, "created_by": thread.parent,
                         "ended": labels::end(&thread.end)}}));
            if let Some(parent) = thread.parent.and_then(|p| trace.thread(p)) {
                let id = thread.tid;
                events.push(json!({"ph": "s", "cat": "created", "name": "created",
                    "id": id, "pid": parent.pid, "tid": parent.tid, "ts": us(thread.born)}));
                events.push(
                    json!({"ph": "f", "bp": "e", "cat": "created", "name": "created",
                    "id": id, "pid": pid, "tid": thread.tid, "ts": us(thread.born)}),
                );
            }
        }
    }
    for line in &trace.lines {
        let stream = if line.fd == 2 { "stderr" } else { "stdout" };
        events.push(
            json!({"ph": "i", "s": "t", "cat": stream, "name": line.text,
            "pid": line.pid, "tid": line.tid, "ts": us(line.at),
            "args": {"fd": line.fd, "text": line.text}}),
        );
    }
    if spans.iter().any(|s| s.tid.is_none()) {
        events.push(json!({"ph": "M", "name": "process_name", "pid": SERVER_PID,
            "tid": SERVER_PID, "args": {"name": "test HTTP server (in xtask, not traced)"}}));
    }
    for (id, span) in spans.iter().enumerate() {
        let (pid, tid, cat) = match span.tid.and_then(|t| trace.thread(t)) {
            Some(thread) => (thread.pid, thread.tid, "task"),
            None => (SERVER_PID, SERVER_PID, "request"),
        };
        for (ph, ts) in [("b", span.start), ("e", span.end)] {
            events.push(json!({"ph": ph, "cat": cat, "name": span.label, "id": id,
                "pid": pid, "tid": tid, "ts": us(ts)}));
        }
    }
    json!({
        "displayTimeUnit": "ms",
        "traceEvents": events,
        "otherData": {
            "command": trace.command.join(" "),
            "exit_code": trace.code,
            "total_ms": trace.end.as_millis() as u64,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{End, Line, Thread};
    use std::time::Duration;

    #[test]
    fn one_pid_per_process_one_tid_per_thread_and_lines_as_instants() {
        let ms = Duration::from_millis;
        let thread = |tid, pid, parent, born, ended| Thread {
            tid,
            pid,
            parent,
            born: ms(born),
            ended: ms(ended),
            name: "demo".to_string(),
            end: End::ExitGroup,
        };
        let trace = Trace {
            command: vec!["demo".to_string()],
            root: 10,
            threads: vec![thread(10, 10, None, 0, 30), thread(11, 11, Some(10), 5, 20)],
            lines: vec![Line {
                tid: 11,
                pid: 11,
                at: ms(7),
                fd: 1,
                text: "hello \"there\"".to_string(),
            }],
            end: ms(30),
            code: Some(0),
            ..Trace::default()
        };
        let spans = [Span {
            label: "GET /page/0 → 200".to_string(),
            tid: None,
            start: ms(1),
            end: ms(2),
        }];
        let json = write(&trace, &spans);
        let text = serde_json::to_string(&json).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        let events = back["traceEvents"].as_array().unwrap();
        let of = |ph: &'static str| events.iter().filter(move |e| e["ph"] == ph);
        let lives: Vec<(i64, i64, i64, i64)> = of("X")
            .map(|e| {
                let n = |k: &str| e[k].as_i64().unwrap();
                (n("pid"), n("tid"), n("ts"), n("dur"))
            })
            .collect();
        assert_eq!(lives, [(10, 10, 0, 30_000), (11, 11, 5_000, 15_000)]);
        let line = of("i").next().unwrap();
        assert_eq!(line["args"]["text"], "hello \"there\"");
        assert_eq!(
            (line["pid"].as_i64(), line["ts"].as_i64()),
            (Some(11), Some(7000))
        );
        assert_eq!(of("b").count() + of("e").count(), 2);
        assert_eq!(of("s").count(), 1, "one flow arrow: 10 created 11");
    }
}
