// 进程间通信 with a pipe, the child's end still used in the parent after it is handed
// over, as Python's parent keeps it. Refused: `Process::start` takes the end by value, so
// only the child has it, and when the child ends the parent's `recv` returns `None`.
use shared::Process;
use shared::pipe::{Connection, Pipe};

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let (mut parent_conn, child_conn) = Pipe::new()?.split();
    let p = Process::start(squarer, (child_conn,))?;
    parent_conn.send(&3)?;
    println!("got back {:?}", parent_conn.recv()?);
    drop(child_conn);
    drop(parent_conn);
    p.join()?;
    Ok(())
}

fn squarer(mut conn: Connection<i32>) -> std::io::Result<()> {
    while let Some(n) = conn.recv()? {
        conn.send(&(n * n))?;
    }
    Ok(())
}
