//! 使用async和await定义异步函数 (async functions with async and await): an async function
//! sleeps a second without blocking, then prints `Hello`.
//!
//! Python's `async def` and `await asyncio.sleep(1)` become `async fn` and
//! `tokio::time::sleep(..).await`; `asyncio.run(main())` becomes `#[tokio::main]`, which
//! builds a runtime and blocks on `main`'s future. Like asyncio's loop, the runtime here is
//! tokio's `current_thread` flavour: every task runs on the main thread, taking turns at
//! each `.await`. Calling `say_hello()` without `.await` does nothing: futures are lazy, and
//! the compiler warns about the unused future, where Python only warns at run time that the
//! coroutine was never awaited.
//!
//! Run: `cargo run -p async --bin async_hello`
//!
//! Prints, after about a second:
//!
//! ```text
//! Hello
//! ```

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    shared::closed_stdout::end_quietly();
    say_hello().await;
}

async fn say_hello() {
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!("Hello");
}
