// 使用Pool进行进程池管理, mapping a closure that uses a local, as Python's
// `p.map(lambda n: n * factor, ...)` does. `cargo build` refuses it: a worker finds the
// function by its place in the program, and a closure's captured `factor` is not there.
use shared::Pool;

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let factor = 10;
    let mut p = Pool::new(4)?;
    println!("{:?}", p.map(move |n: i32| n * factor, &[1, 2, 3, 4, 5])?);
    Ok(())
}
