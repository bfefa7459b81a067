//! 使用Pool进行进程池管理, continued: `apply` and `starmap`, which the tutorial names but
//! does not show, on the same four workers.
//!
//! Python's `p.apply(square, (7,))` becomes [`Pool::apply`](shared::Pool::apply), and
//! `p.starmap(power, [(2, 3), ...])` becomes [`Pool::starmap`](shared::Pool::starmap),
//! each tuple unpacked into the arguments. `shared::main_guard()` is Python's
//! `if __name__ == '__main__':`.
//!
//! Run: `cargo run -p multiprocess --bin pool_apply_starmap`
//!
//! Prints:
//!
//! ```text
//! 49
//! [8, 9, 1000]
//! ```

use shared::Pool;

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let mut p = Pool::new(4)?;
    println!("{}", p.apply(square, (7,))?);
    println!("{:?}", p.starmap(power, &[(2, 3), (3, 2), (10, 3)])?);
    Ok(())
}

fn square(n: i32) -> i32 {
    n * n
}

fn power(base: i32, exp: u32) -> i32 {
    base.pow(exp)
}
