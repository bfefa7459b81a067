// 基本示例, with main reading a list after handing it to a thread. Refused: `move` gave the
// thread the `Vec` itself, so `main` has nothing left to read.
use std::thread;

fn main() {
    let names = vec!["Worker 0".to_string(), "Worker 1".to_string()];
    let t = thread::spawn(move || {
        for name in &names {
            println!("{name} is running");
        }
    });
    t.join().unwrap();
    println!("{} workers ran", names.len());
}
