//! `cargo bench -p shared`: the hot paths of `shared`'s primitives, measured with divan.
//!
//! Whole-pattern timings against Python are `cargo xtask bench`'s job; these show where the
//! time inside one primitive goes (per item, per call), to compare before and after a change.
//! The process benches fork, which `shared` allows only while the process has one thread:
//! divan runs each bench on the main thread, and the thread pool benches join their threads.

use divan::Bencher;
use shared::ThreadPool;

fn main() {
    divan::main();
}

/// `ThreadPool::map` of a trivial function: the pool's own cost per item (one boxed job,
/// two channel sends, one slot write).
#[divan::bench(args = [100, 10_000])]
fn thread_pool_map(bencher: Bencher<'_, '_>, items: u64) {
    let pool = ThreadPool::new(4);
    bencher
        .counter(divan::counter::ItemsCount::new(items))
        .bench(|| pool.map(|x: u64| x * x, 0..items));
}

/// Starting and stopping a pool of 4 threads.
#[divan::bench]
fn thread_pool_new_and_drop() {
    drop(divan::black_box(ThreadPool::new(4)));
}

/// `Value::fetch_add` on the shared mapping, one process: the atomic's uncontended cost.
#[divan::bench]
fn value_fetch_add(bencher: Bencher<'_, '_>) {
    let value = shared::shared_memory::Value::new(0u64).expect("mapping a shared value");
    bencher.bench(|| value.fetch_add(divan::black_box(1)));
}

/// `Queue` put + flush + get of 1000 integers in one process (they fit in the pipe's
/// buffer): the framing, encoding and decoding cost per item.
#[divan::bench]
fn queue_put_get_1000(bencher: Bencher<'_, '_>) {
    let (mut tx, mut rx) = shared::queue::Queue::<u64>::new()
        .expect("opening a queue")
        .split();
    bencher
        .counter(divan::counter::ItemsCount::new(1000u32))
        .bench_local(|| {
            for i in 0..1000u64 {
                tx.put(&i).expect("put");
            }
            tx.flush().expect("flush");
            let mut sum = 0;
            for _ in 0..1000 {
                sum += rx.get().expect("get").expect("an item");
            }
            sum
        });
}

/// `Process::start` of a child that does nothing, then `join`: one fork, exit and reap.
#[divan::bench(sample_count = 50)]
fn process_start_join() {
    shared::process::Process::start(|| ())
        .expect("starting a process")
        .join()
        .expect("the child ended well");
}

/// `Pool::map` of `x * x` over 100 000 items on 4 worker processes: forking the workers,
/// the chunk messages and the parent's decoding, per item.
#[divan::bench(sample_count = 20)]
fn pool_map_100_000(bencher: Bencher<'_, '_>) {
    let pool = shared::pool::Pool::new(4);
    let items: Vec<u64> = (0..100_000).collect();
    bencher
        .counter(divan::counter::ItemsCount::new(100_000u32))
        .bench_local(|| pool.map(|x| x * x, &items).expect("pool map"));
}
