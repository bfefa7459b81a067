//! Linux: a thread that starts spawned children for the other threads, and lives as long
//! as one of them runs.
//!
//! A child asks the kernel for SIGKILL when its parent dies (`PR_SET_PDEATHSIG`, in
//! [`os::die_with_parent`](super::os::die_with_parent)), and Linux counts as the parent
//! the *thread* that started the child, not its process. A child started from the main
//! thread is fine: the main thread ends when the process does. A child started from any
//! other thread (a scoped thread, a worker, tokio's `spawn_blocking`) would be killed as
//! soon as that thread ended, while the program runs on. So such a thread hands the start
//! to this one, which ends only once every child it started has been reaped (each
//! [`Lease`] dropped). While it runs, the process has a second thread, so a fork is refused
//! then, as it would be on the thread that asked.
//!
//! # Copying it
//!
//! Copy `parent_thread.rs` into your crate (for Linux: `#[cfg(target_os = "linux")]`),
//! and add to `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! nix = { version = "0.32", features = ["process"] }
//! ```

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

/// A start to make on the lasting thread.
type Job = Box<dyn FnOnce() + Send>;

struct Starter {
    jobs: mpsc::Sender<Job>,
    thread: JoinHandle<()>,
    /// Children started on it and not yet reaped, counting one being started.
    children: usize,
}

static STARTER: Mutex<Option<Starter>> = Mutex::new(None);

fn starter() -> MutexGuard<'static, Option<Starter>> {
    STARTER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Held for as long as a child started by [`spawn`] has not been reaped: the thread that
/// started it lasts until then.
#[derive(Debug)]
pub struct Lease(());

impl Drop for Lease {
    fn drop(&mut self) {
        release();
    }
}

/// Starts `command` from a thread that outlives the child: this one if it is the main
/// thread, else the lasting thread (started if need be); the [`Lease`] keeps that thread
/// alive until it is dropped, after the child is reaped.
pub fn spawn(mut command: Command) -> io::Result<(Child, Option<Lease>)> {
    if nix::unistd::gettid() == nix::unistd::getpid() {
        return Ok((command.spawn()?, None));
    }
    let (reply, started) = mpsc::sync_channel(1);
    {
        let mut guard = starter();
        if guard.is_none() {
            let (jobs, queue) = mpsc::channel::<Job>();
            let thread = thread::Builder::new()
                .name("shared-starter".to_string())
                .spawn(move || queue.into_iter().for_each(|job| job()))?;
            *guard = Some(Starter {
                jobs,
                thread,
                children: 0,
            });
        }
        let starter = guard.as_mut().expect("made above");
        // Counted before the job is queued, so that no lease dropped meanwhile ends the
        // thread under it.
        starter.children += 1;
        let job: Job = Box::new(move || {
            let _ = reply.send(command.spawn());
        });
        starter
            .jobs
            .send(job)
            .expect("the starter thread runs while it has children");
    }
    match started
        .recv()
        .expect("the starter thread answers every job")
    {
        Ok(child) => Ok((child, Some(Lease(())))),
        Err(e) => {
            release();
            Err(e)
        }
    }
}

/// One child fewer; the last one ends the thread (and waits for it, so that a fork right
/// after finds one thread).
fn release() {
    let ended = {
        let mut guard = starter();
        let starter = guard.as_mut().expect("a lease or a start is counted");
        starter.children -= 1;
        if starter.children == 0 {
            guard.take()
        } else {
            None
        }
    };
    if let Some(Starter { jobs, thread, .. }) = ended {
        drop(jobs); // its loop ends
        let _ = thread.join();
    }
}
