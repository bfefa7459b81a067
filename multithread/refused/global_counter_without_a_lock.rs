// 线程同步, written as the Python is: a global counter that every thread adds to, with no
// lock. Refused: a `static mut` is reachable from every thread at once, so touching it
// needs `unsafe`, and this would be a data race.
use std::thread;

static mut COUNTER: i32 = 0;

fn main() {
    let mut threads = Vec::new();
    for _ in 0..1000 {
        threads.push(thread::spawn(|| COUNTER += 1));
    }
    for t in threads {
        t.join().unwrap();
    }
    println!("Final counter value: {}", COUNTER);
}
