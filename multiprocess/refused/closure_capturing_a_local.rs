// 基本示例, with the target a `move` closure that takes a copy of a local, as rustc's help
// for the borrowing closure suggests. `cargo check` passes it; `cargo build` refuses it:
// under spawn the child is this program run again, without `main`'s locals, so a target
// may capture nothing. The values it needs go in the arguments.
use shared::Process;

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let total = 10;
    let p = Process::start(move || println!("child sees {total}"), ())?;
    p.join()?;
    Ok(())
}
