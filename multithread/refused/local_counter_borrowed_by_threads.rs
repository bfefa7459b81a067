// 线程同步, with the counter a local variable that each thread's closure borrows. Refused:
// a spawned thread may outlive `main`'s frame, so it may not borrow from it, and 1000
// closures may not all borrow `counter` mutably at once.
use std::thread;

fn main() {
    let mut counter = 0;
    let mut threads = Vec::new();
    for _ in 0..1000 {
        threads.push(thread::spawn(|| counter += 1));
    }
    for t in threads {
        t.join().unwrap();
    }
    println!("Final counter value: {counter}");
}
