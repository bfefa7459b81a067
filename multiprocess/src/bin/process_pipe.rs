//! 进程间通信 (communication between processes) with a pipe, which the tutorial names but
//! does not show: the parent sends 1, 2 and 3 to a child, which sends back each square;
//! then the parent closes its end, the child's `recv` sees it, and both end.
//!
//! Python's `parent_conn, child_conn = multiprocessing.Pipe()` becomes
//! [`shared::Pipe`]`::new()?.split()`: two ends that each `send` and `recv` any serde type,
//! the child's end handed over as its argument (Python's `args=`).
//! `shared::main_guard()` is Python's `if __name__ == '__main__':`.
//!
//! Run: `cargo run -p multiprocess --bin process_pipe`
//!
//! Prints:
//!
//! ```text
//! Sent 1, got back 1
//! Sent 2, got back 4
//! Sent 3, got back 9
//! Child: the parent closed its end
//! Done
//! ```

use std::io;

use anyhow::Context;
use shared::Process;
use shared::pipe::{Connection, Pipe};

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let (mut parent_conn, child_conn) = Pipe::new().context("opening the pipe")?.split();
    let p = Process::start(squarer, (child_conn,))?;
    for n in 1..=3 {
        parent_conn.send(&n)?;
        let square = parent_conn.recv()?.context("the child closed its end")?;
        println!("Sent {n}, got back {square}");
    }
    drop(parent_conn); // Python's `close()`
    p.join()?;
    println!("Done");
    Ok(())
}

fn squarer(mut conn: Connection<i32>) -> io::Result<()> {
    while let Some(n) = conn.recv()? {
        conn.send(&(n * n))?;
    }
    println!("Child: the parent closed its end");
    Ok(())
}
