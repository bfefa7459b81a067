//! `end_quietly`: one call at the top of `main` so that a program whose reader has gone
//! (`prog | head -1`) ends the way `cat` does, quietly, instead of panicking with "failed
//! printing to stdout: Broken pipe".
//!
//! ```no_run
//! shared::closed_stdout::end_quietly(); // the first line of `main`
//! for i in 0.. {
//!     println!("line {i}"); // `| head -1`: ends here, silently, once head has gone
//! }
//! ```
//!
//! # Copying it
//!
//! Copy `closed_stdout.rs` into your crate, and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["signal"] }
//! ```
//!
//! # Why it is needed, and what it does
//!
//! Writing to a pipe whose reader has closed raises SIGPIPE, whose default action ends the
//! process silently: that is how `cat` stops when `head` has read enough. Rust's runtime
//! sets SIGPIPE to "ignore" before `main`, so the write fails with `EPIPE` instead, and
//! `println!` panics on it. Stable Rust has no switch to keep the default
//! (rust-lang/rust#150588 tracks one).
//!
//! Restoring the default outright would also turn every other broken pipe into a silent
//! death: a queue whose reader died, a socket the server reset (std writes sockets with
//! `writev`, which raises SIGPIPE on Linux). So SIGPIPE gets a handler instead: if stdout is
//! the pipe no one reads, the process ends by SIGPIPE, as `cat` would; otherwise the
//! handler returns and the write fails with `EPIPE`, an error as before. Children that
//! `Process` forks inherit the handler, and those it spawns set it again. Where there is no SIGPIPE (Windows) this does
//! nothing.

/// Makes a write to a stdout whose reader has gone end the program there, quietly, as it
/// ends `cat`; see the [module docs](self).
pub fn end_quietly() {
    ON.store(true, std::sync::atomic::Ordering::Relaxed);
    #[cfg(unix)]
    {
        use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
        let action = SigAction::new(
            SigHandler::Handler(on_sigpipe),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        // SAFETY: `on_sigpipe` makes only async-signal-safe calls. Called at the top of
        // `main`, before any thread could be changing SIGPIPE's action at the same time.
        let _ = unsafe { sigaction(Signal::SIGPIPE, &action) };
    }
}

static ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether [`end_quietly`] was called: a child process started by spawn (a new run of the
/// program, with SIGPIPE as Rust sets it) calls it too, as a forked one inherits it.
pub fn is_on() -> bool {
    ON.load(std::sync::atomic::Ordering::Relaxed)
}

/// SIGPIPE's handler: ends the process by SIGPIPE if stdout is a pipe (or socket) no one
/// reads, else returns, and the write that raised it fails with `EPIPE`.
#[cfg(unix)]
extern "C" fn on_sigpipe(_: nix::libc::c_int) {
    use nix::libc;
    let errno = nix::errno::Errno::last_raw();
    let mut stdout = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: `poll` is async-signal-safe and gets one valid `pollfd`; it does not wait.
    let ready = unsafe { libc::poll(&mut stdout, 1, 0) };
    // Linux says POLLERR for a pipe without a reader, macOS POLLHUP.
    if ready == 1 && stdout.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
        // SAFETY: both calls are async-signal-safe. SIGPIPE is blocked while this handler
        // runs, so the one raised here waits, and ends the process (the default action)
        // as the handler returns.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
    }
    nix::errno::Errno::set_raw(errno);
}
