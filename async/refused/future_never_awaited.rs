// Calling an async function without `.await`, as `say_hello()` without `await` in Python.
// The call only makes a future, which does nothing until awaited. Refused under this
// workspace's lints, which deny `unused_must_use` (rustc alone only warns).
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    say_hello();
}

async fn say_hello() {
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("Hello");
}
