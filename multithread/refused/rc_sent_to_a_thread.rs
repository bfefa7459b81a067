// Sharing a value with a thread through `Rc`, Rust's single-threaded shared pointer.
// Refused: `Rc`'s count is not atomic, so two threads cloning or dropping at once could
// corrupt it; `Rc` is not `Send`. `Arc` is the one that crosses threads.
use std::rc::Rc;
use std::thread;

fn main() {
    let counter = Rc::new(0);
    let for_thread = Rc::clone(&counter);
    let t = thread::spawn(move || println!("the thread sees {for_thread}"));
    t.join().unwrap();
    println!("main sees {counter}");
}
