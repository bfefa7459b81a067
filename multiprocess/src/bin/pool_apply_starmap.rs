//! 使用Pool进行进程池管理, continued: the tutorial says a `Pool` hands out work "through
//! apply, map, starmap and so on" (通过apply, map, starmap等方法来分配任务) but shows only
//! `map`. These are the other two.
//!
//! Python's `p.apply(square, (7,))` runs one call on a worker and waits for its result;
//! here it is [`Pool::apply`](shared::Pool::apply) with `(7,)`. Python's
//! `p.starmap(power, [(2, 3), (3, 2), (10, 3)])` unpacks each tuple into the arguments,
//! `power(2, 3)` and so on; [`Pool::starmap`](shared::Pool::starmap) does the same. Both
//! calls go to the same four workers. `shared::main_guard()` is Python's
//! `if __name__ == '__main__':`. As with `map`, the results come in input order, and a worker
//! that dies is an error rather than a hang. The same program in Python (`square` and
//! `power` as functions, both calls in a `with Pool(4) as p:` block, each result printed)
//! prints `49` and `[8, 9, 1000]`, as this one does.
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
