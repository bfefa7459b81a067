//! 线程同步, checked for every interleaving by loom: two threads each add one to a counter.
//! With the read-add-write under the lock, the counter always ends at 2. Without the lock,
//! loom finds the run in which both threads read 0 and the counter ends at 1: the update
//! that Python's lock is there to keep from being lost.
//!
//! Run: `cargo test --manifest-path multithread/loom/Cargo.toml`

use loom::sync::atomic::AtomicI32;
use loom::sync::atomic::Ordering::SeqCst;
use loom::sync::{Arc, Mutex};
use loom::thread;

#[test]
fn the_locked_counter_always_ends_at_two() {
    loom::model(|| {
        let counter = Arc::new(Mutex::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    let mut counter = counter.lock().unwrap();
                    let temp = *counter;
                    *counter = temp + 1;
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*counter.lock().unwrap(), 2);
    });
}

#[test]
#[should_panic(expected = "lost an update")]
fn without_the_lock_loom_finds_the_lost_update() {
    loom::model(|| {
        let counter = Arc::new(AtomicI32::new(0));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    let temp = counter.load(SeqCst);
                    counter.store(temp + 1, SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let total = counter.load(SeqCst);
        assert_eq!(
            total, 2,
            "lost an update: two threads added one each, and the counter is {total}"
        );
    });
}
