// 使用Thread子类, with the thread type holding its name in an `Rc<str>`. Refused: the
// `Thread` trait asks for `Send`, because `start` moves the value to a new thread, and a
// type that holds an `Rc` is not `Send`.
use std::rc::Rc;
use std::thread::{self, JoinHandle};

fn main() {
    let t = MyThread {
        name: Rc::from("Thread 0"),
    }
    .start();
    t.join().unwrap();
}

struct MyThread {
    name: Rc<str>,
}

impl Thread for MyThread {
    fn run(&self) {
        println!("{} is running", self.name);
    }
}

trait Thread: Send + Sized + 'static {
    fn run(&self);

    fn start(self) -> JoinHandle<()> {
        thread::spawn(move || self.run())
    }
}
