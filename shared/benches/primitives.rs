//! `cargo bench -p shared`: the hot paths of `shared`'s primitives, measured with divan.
//!
//! Whole-pattern timings against Python are `cargo xtask bench`'s job; these show where the
//! time inside one primitive goes (per item, per call), to compare before and after a change.
//! The process benches run under both start methods. Fork is allowed only while the
//! process has one thread: divan runs each bench on the main thread, and the thread pool
//! benches join their threads. Spawn runs this program again: `main_guard` comes first.

use divan::Bencher;
use shared::ThreadPool;
use shared::pool::Pool;
use shared::process::{Process, StartMethod};

const METHODS: [StartMethod; 2] = [StartMethod::Fork, StartMethod::Spawn];

fn main() {
    shared::main_guard();
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

fn nothing() {}

fn square(x: u64) -> u64 {
    x * x
}

fn some_square(x: u64) -> Option<u64> {
    Some(x * x)
}

/// `Process::start` of a child that does nothing, then `join`: one fork (or exec), exit and
/// reap.
#[divan::bench(args = METHODS, sample_count = 30)]
fn process_start_join(method: StartMethod) {
    Process::start_by(method, nothing, ())
        .expect("starting a process")
        .join()
        .expect("the child ended well");
}

/// `Pool::map` of `x * x` over 100 000 items on 4 worker processes started once: the items
/// and results postcard-encoded through each worker's pipes.
#[divan::bench(args = METHODS, sample_count = 20)]
fn pool_map_100_000(bencher: Bencher<'_, '_>, method: StartMethod) {
    let mut pool = Pool::new_by(method, 4).expect("starting the pool");
    let items: Vec<u64> = (0..100_000).collect();
    bencher
        .counter(divan::counter::ItemsCount::new(100_000u32))
        .bench_local(|| pool.map(square, &items).expect("pool map"));
}

/// The same squares as `Some(x * x)`: what a result type of more than a number costs.
#[divan::bench(sample_count = 20)]
fn pool_map_option_100_000(bencher: Bencher<'_, '_>) {
    let mut pool = Pool::new_by(StartMethod::Fork, 4).expect("starting the pool");
    let items: Vec<u64> = (0..100_000).collect();
    bencher
        .counter(divan::counter::ItemsCount::new(100_000u32))
        .bench_local(|| pool.map(some_square, &items).expect("pool map"));
}

/// `Pool::apply` of one call on a pool that is already running: one task, one result.
#[divan::bench(sample_count = 50)]
fn pool_apply(bencher: Bencher<'_, '_>) {
    let mut pool = Pool::new_by(StartMethod::Fork, 4).expect("starting the pool");
    bencher.bench_local(|| pool.apply(square, (7,)).expect("pool apply"));
}
