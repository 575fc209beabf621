//! The runtime seam in a browser (wasm32, a dedicated Web Worker): one thread and the
//! worker's event loop instead of tokio's runtime. Same functions as `runtime.rs`, without
//! its `Send` bounds: fetch futures live on this one thread. Spawned work runs as a
//! microtask (`spawn_local`); a timer is `setTimeout`.

use crate::error::{Error, Result};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Runs `future` in place (there is no other thread to hand it to). `on_abandon` runs if
/// the caller stops waiting, as on native.
pub async fn run_on_engine<T, F>(future: F, on_abandon: impl FnOnce()) -> Result<T>
where
    F: Future<Output = T>,
{
    let guard = scopeguard::guard(on_abandon, |abandon| abandon());
    let value = future.await;
    scopeguard::ScopeGuard::into_inner(guard); // finished: nothing to abandon
    Ok(value)
}

/// Spawns `work` on the worker's event loop; it stops at its next await once `stop` is
/// dropped. `done` is set when it ends either way.
fn spawn_stoppable<T: 'static>(
    work: impl Future<Output = T> + 'static,
    stop: oneshot::Receiver<()>,
    result: Option<oneshot::Sender<T>>,
    done: Arc<AtomicBool>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        tokio::select! {
            value = work => {
                if let Some(result) = result {
                    let _ = result.send(value);
                }
            }
            _ = stop => {}
        }
        done.store(true, Ordering::Relaxed);
    });
}

/// A task whose result only its owner waits for; dropping it stops the task.
pub struct OwnedTask<T> {
    result: oneshot::Receiver<Result<T>>,
    _stop: oneshot::Sender<()>,
}

impl<T: 'static> OwnedTask<T> {
    pub fn spawn(work: impl Future<Output = Result<T>> + 'static) -> OwnedTask<T> {
        let (stop, stopped) = oneshot::channel();
        let (sender, result) = oneshot::channel();
        spawn_stoppable(work, stopped, Some(sender), Arc::default());
        OwnedTask {
            result,
            _stop: stop,
        }
    }

    /// The task's result; `what` names the work in the error if the task itself died.
    pub async fn wait(&mut self, what: &str) -> Result<T> {
        (&mut self.result).await.map_err(|_| {
            Error::Cancelled(format!(
                "{what} stopped unexpectedly (a panic in the worker)"
            ))
        })?
    }
}

/// A long-lived task (the foreground scheduler), stopped by `abort`.
pub struct BackgroundTask {
    stop: Option<oneshot::Sender<()>>,
    done: Arc<AtomicBool>,
}

impl BackgroundTask {
    pub fn abort(&mut self) {
        self.stop = None;
    }

    pub fn is_finished(&self) -> bool {
        self.done.load(Ordering::Relaxed)
    }
}

pub fn spawn_background(work: impl Future<Output = ()> + 'static) -> BackgroundTask {
    let (stop, stopped) = oneshot::channel();
    let done = Arc::new(AtomicBool::new(false));
    spawn_stoppable(work, stopped, None, done.clone());
    BackgroundTask {
        stop: Some(stop),
        done,
    }
}

pub async fn sleep(duration: Duration) {
    gloo_timers::future::sleep(duration).await;
}

/// `future`'s output, or `None` once `duration` has passed (a `setTimeout`, as tokio's
/// timer does not exist here).
pub async fn timeout<T>(duration: Duration, future: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        value = future => Some(value),
        _ = sleep(duration) => None,
    }
}

/// Blocking work runs in place: the worker has one thread, and the page stays responsive
/// because the engine is not on its main thread.
pub fn blocking<T>(work: impl FnOnce() -> T) -> T {
    work()
}
