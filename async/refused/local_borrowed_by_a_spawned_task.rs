// A task that reads a local variable, as a Python coroutine reads one from its enclosing
// function. Refused: `tokio::spawn` may run the task after `main`'s frame has moved on,
// so the task must own what it uses (`'static`).
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let name = String::from("Worker 0");
    let task = tokio::spawn(async {
        println!("{name} is starting");
    });
    task.await.unwrap();
}
