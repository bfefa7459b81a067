//! 共享内存 (shared memory): five processes add to a shared number and a shared array.
//!
//! Python's `Value('i', 0)` and `Array('i', [1, 2, 3, 4, 5])` become
//! [`shared::Value`] and [`shared::Array`] of `i32`: atomics in a shared-memory object,
//! which each child maps again when its handle arrives as an argument (a clone is another
//! handle to the same memory), so all of them see the same numbers. The
//! Python worker's `shared_num.value += num` (and `shared_arr[i] += num`) is a read and
//! then a write, and two processes that both read before either writes lose an update
//! (CPython bpo-16998): the snippet's five quick updates rarely collide, but four
//! processes adding 1 a hundred thousand times each reached 208 013, not 400 000, here.
//! `fetch_add` is one atomic operation, so the total is always right.
//! `shared::main_guard()` is Python's `if __name__ == '__main__':`.
//!
//! Run: `cargo run -p multiprocess --bin shared_memory`
//!
//! Prints:
//!
//! ```text
//! shared_num: 10
//! shared_arr: [11, 12, 13, 14, 15]
//! ```

use anyhow::Context;
use shared::{Array, Process, Value};

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    shared::closed_stdout::end_quietly();
    let shared_num = Value::new(0).context("mapping the shared number")?;
    let shared_arr = Array::new([1, 2, 3, 4, 5]).context("mapping the shared array")?;
    let mut processes = Vec::new();
    for i in 0..5 {
        let p = Process::start(worker, (i, shared_num.clone(), shared_arr.clone()))?;
        processes.push(p);
    }
    for p in processes {
        p.join()?;
    }
    println!("shared_num: {}", shared_num.get());
    println!("shared_arr: {:?}", shared_arr.to_vec());
    Ok(())
}

fn worker(num: i32, shared_num: Value<i32>, shared_arr: Array<i32>) {
    shared_num.fetch_add(num);
    for i in 0..shared_arr.len() {
        shared_arr.fetch_add(i, num);
    }
}
