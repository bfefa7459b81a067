// 共享内存, shared as threads share it: an `Arc<AtomicI32>` handed to each child. Refused:
// a child is another process, with memory of its own, so an argument must be serialisable
// and an `Arc` is not. `shared::Value` is the number in memory both processes map.
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use shared::Process;

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let shared_num = Arc::new(AtomicI32::new(0));
    let p = Process::start(worker, (1, Arc::clone(&shared_num)))?;
    p.join()?;
    println!("shared_num: {}", shared_num.load(Ordering::SeqCst));
    Ok(())
}

fn worker(num: i32, shared_num: Arc<AtomicI32>) {
    shared_num.fetch_add(num, Ordering::SeqCst);
}
