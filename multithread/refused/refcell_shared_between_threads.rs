// 线程同步 with `Arc<RefCell<i32>>`: each thread gets an `Arc`, and `RefCell` allows the
// mutation. Refused: `RefCell` checks its borrows with a plain counter, which two threads
// could update at once; it is not `Sync`. `Mutex` is the `RefCell` for threads.
use std::cell::RefCell;
use std::sync::Arc;
use std::thread;

fn main() {
    let counter = Arc::new(RefCell::new(0));
    let mut threads = Vec::new();
    for _ in 0..1000 {
        let counter = Arc::clone(&counter);
        threads.push(thread::spawn(move || *counter.borrow_mut() += 1));
    }
    for t in threads {
        t.join().unwrap();
    }
    println!("Final counter value: {}", counter.borrow());
}
