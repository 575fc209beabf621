//! One tokio runtime per process for all network work and the background scheduler, with
//! a bounded number of threads (a till has few cores and other work to do). The browser
//! build has the same functions in `runtime_wasm.rs`.

use crate::error::{Error, Result};
use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pos-sync")
            .enable_all()
            .build()
            .expect("the pos-sync runtime must start")
    })
}

/// Runs `future` on the engine's runtime and waits for it from any executor (a Kotlin
/// coroutine, a Swift task, a test's runtime). `on_abandon` runs if the caller stops waiting
/// (a cancelled coroutine drops this future): it asks the work to stop at its next safe point.
pub async fn run_on_engine<T, F>(future: F, on_abandon: impl FnOnce() + Send) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let guard = scopeguard::guard(on_abandon, |abandon| abandon());
    let result = runtime().spawn(future).await;
    scopeguard::ScopeGuard::into_inner(guard); // finished: nothing to abandon
    result.map_err(|e| Error::Cancelled(format!("the sync task stopped unexpectedly: {e}")))
}

/// A task spawned on the current runtime that is aborted when dropped: its result is used
/// only by a caller that waits for it (work started ahead, such as the next download page).
pub struct OwnedTask<T>(tokio::task::JoinHandle<Result<T>>);

impl<T: Send + 'static> OwnedTask<T> {
    pub fn spawn(work: impl Future<Output = Result<T>> + Send + 'static) -> OwnedTask<T> {
        OwnedTask(tokio::spawn(work))
    }

    /// The task's result; `what` names the work in the error if the task itself died.
    pub async fn wait(&mut self, what: &str) -> Result<T> {
        (&mut self.0)
            .await
            .map_err(|e| Error::Cancelled(format!("{what} stopped unexpectedly: {e}")))?
    }
}

impl<T> Drop for OwnedTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A long-lived task (the foreground scheduler), stopped by `abort`.
pub struct BackgroundTask(tokio::task::JoinHandle<()>);

impl BackgroundTask {
    pub fn abort(&mut self) {
        self.0.abort();
    }

    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

pub fn spawn_background(work: impl Future<Output = ()> + Send + 'static) -> BackgroundTask {
    BackgroundTask(runtime().spawn(work))
}

pub async fn sleep(duration: Duration) {
    tokio::time::sleep(duration).await;
}

/// `future`'s output, or `None` once `duration` has passed.
pub async fn timeout<T>(duration: Duration, future: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(duration, future).await.ok()
}

/// Runs `future` to completion on the calling thread, inside the engine's runtime (its timers
/// and spawned tasks work), for a caller that is not itself async. `None` when the caller is
/// one of a runtime's threads, where blocking would stall the runtime.
pub fn block_on<T>(future: impl Future<Output = T>) -> Option<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return None;
    }
    Some(runtime().block_on(future))
}

/// Runs blocking work (a SQLite transaction) so that the runtime's other tasks keep running:
/// a task just spawned waits in this thread's local slot, which other threads do not take
/// from, so without this it would not start until the blocking work was done. Only on a
/// multi-threaded runtime, such as the engine's; a single-threaded one has no other thread.
pub fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}
