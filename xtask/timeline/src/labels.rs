//! The names the pictures and the JSON give processes, threads and endings.

use super::model::{End, Process, Trace};

/// "process 4242: process_pool", who forked it if that was not the tracer, and whether it
/// then ran a program anew (a spawned child: "forked by 4240, exec'd").
pub fn process(trace: &Trace, process: &Process<'_>) -> String {
    let name = &process.main().name;
    let execed = if trace.execed(process.pid) {
        ", exec'd"
    } else {
        ""
    };
    match process.parent(trace) {
        Some(parent) => format!(
            "process {}: {name}, forked by {parent}{execed}",
            process.pid
        ),
        None => format!("process {}: {name}{execed}", process.pid),
    }
}

/// "main thread" for a process's first thread, else "thread N" (counting from 1 in
/// birth order), with its name when it has one of its own.
pub fn thread(process: &Process<'_>, index: usize) -> String {
    if index == 0 {
        return "main thread".to_string();
    }
    let name = &process.threads[index].name;
    if name.is_empty() || *name == process.main().name || name == "?" {
        format!("thread {}", index + 1)
    } else {
        format!("thread {}: {name}", index + 1)
    }
}

pub fn end(end: &End) -> String {
    match end {
        End::Exit => "returned".to_string(),
        End::ExitGroup => "exited".to_string(),
        End::TakenDown => "still running when its process exited".to_string(),
        End::Signal(signal) => format!("killed by {signal}"),
        End::LeftRunning => "left running after the program ended (killed)".to_string(),
    }
}
