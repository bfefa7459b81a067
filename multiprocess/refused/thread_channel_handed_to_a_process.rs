// 进程间通信, with a thread's channel: `std::sync::mpsc`'s sender handed to the producer
// process. Refused: the channel lives in this process's memory, and a `Sender` cannot be
// serialised to reach another. `shared::Queue` is the channel that crosses processes.
use std::sync::mpsc::{self, Sender};

use shared::Process;

fn main() -> anyhow::Result<()> {
    shared::main_guard();
    let (tx, rx) = mpsc::channel();
    let p = Process::start(producer, (tx,))?;
    p.join()?;
    for item in rx {
        println!("Consumed {item}");
    }
    Ok(())
}

fn producer(q: Sender<i32>) {
    for i in 0..5 {
        q.send(i).unwrap();
        println!("Produced {i}");
    }
}
