// 基本示例, with the target a closure that uses a local of `main`, as Python's
// `Process(target=lambda: print(total))` does. Refused: the closure borrows `total`, and
// a process's target must own what it uses (`'static`), as a thread's closure must.
use shared::Process;

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let total = 10;
    let p = Process::start(|| println!("child sees {total}"), ())?;
    p.join()?;
    Ok(())
}
