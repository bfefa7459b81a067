//! 使用Pool进行进程池管理 (managing a process pool with Pool): square five numbers on a
//! pool of four worker processes.
//!
//! Python's `with Pool(4) as p:` and `p.map(square, [...])` become
//! [`shared::Pool::new(4)`](shared::Pool) and its [`map`](shared::Pool::map): results in
//! input order, and a worker that dies is an error, not a hang.
//! `shared::main_guard()` is Python's `if __name__ == '__main__':`.
//!
//! Run: `cargo run -p multiprocess --bin process_pool`
//!
//! Prints:
//!
//! ```text
//! [1, 4, 9, 16, 25]
//! ```

use shared::Pool;

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let mut p = Pool::new(4)?;
    let results = p.map(square, &[1, 2, 3, 4, 5])?;
    println!("{results:?}");
    Ok(())
}

fn square(n: i32) -> i32 {
    n * n
}
