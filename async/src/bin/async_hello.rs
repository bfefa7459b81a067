//! 使用async和await定义异步函数 (async functions with async and await): an async function
//! sleeps a second without blocking, then prints `Hello`.
//!
//! Python's `async def` and `await asyncio.sleep(1)` become `async fn` and
//! `tokio::time::sleep(..).await`; `asyncio.run(main())` becomes `#[tokio::main]`, which
//! builds a runtime and blocks on `main`'s future. Like asyncio's loop, the runtime here is
//! tokio's `current_thread` flavour: every task runs on the main thread, taking turns at
//! each `.await`. Calling `say_hello()` without `.await` does nothing: futures are lazy.
//! Python notices only at run time (`RuntimeWarning: coroutine 'say_hello' was never
//! awaited`); rustc's `unused_must_use` lint catches it at compile time, as a warning by
//! default and as an error in this workspace, whose `Cargo.toml` denies that lint.
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
