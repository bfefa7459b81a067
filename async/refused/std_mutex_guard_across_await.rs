// A lock held across an `.await`, with std's `Mutex`, in a task given to `tokio::spawn`.
// Refused: the task may move to another thread at the `.await`, and a std `MutexGuard`
// must be unlocked on the thread that locked it, so it is not `Send`.
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let counter = Arc::new(Mutex::new(0));
    let for_task = Arc::clone(&counter);
    let task = tokio::spawn(async move {
        let mut guard = for_task.lock().unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        *guard += 1;
    });
    task.await.unwrap();
    println!("{}", counter.lock().unwrap());
}
