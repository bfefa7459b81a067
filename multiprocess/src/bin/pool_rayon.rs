//! 使用Pool进行进程池管理, the Rust way: threads, not processes. Rust has no GIL, so a
//! pool of threads runs `square` on every core at once; rayon's `par_iter` splits the
//! numbers among its threads and collects the squares in input order.
//!
//! Python `Pool(4).map(square, [1, 2, 3, 4, 5])` → Rust
//! `[1, 2, 3, 4, 5].par_iter().map(..).collect()`.
//!
//! Run: `cargo run -p multiprocess --bin pool_rayon`
//!
//! Prints:
//!
//! ```text
//! [1, 4, 9, 16, 25]
//! ```

use rayon::prelude::*;

fn main() {
    let squares: Vec<i32> = [1, 2, 3, 4, 5].par_iter().map(|&n| square(n)).collect();
    println!("{squares:?}");
}

fn square(n: i32) -> i32 {
    n * n
}
