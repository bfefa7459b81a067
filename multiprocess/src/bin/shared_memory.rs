//! 共享内存 (shared memory): five processes add to a shared number and a shared array.
//!
//! Python's `Value('i', 0)` and `Array('i', [1, 2, 3, 4, 5])` become [`shared::Value`] and
//! [`shared::Array`] of `i32`, and `shared_num.value += num` becomes `fetch_add`, one
//! atomic step, so no update is lost. `shared::main_guard()` is Python's
//! `if __name__ == '__main__':`.
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
