//! Global fair-use gates: at most N pieces of one kind of heavy work (image
//! renders, speech runs) run at once; a bounded number wait; more
//! are refused at once with "busy, try again" (HTTP 429) instead of piling up
//! memory and time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Gate {
    what: &'static str,
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

/// Holding it is holding one of the gate's slots.
#[derive(Debug)]
pub struct Pass(#[allow(dead_code)] OwnedSemaphorePermit);

/// Counts a waiter for as long as it waits (also when its request is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gate {
    /// `what` names the work in the refusal ("image renders").
    pub fn new(what: &'static str, slots: usize, max_waiting: usize) -> Self {
        Self {
            what,
            slots: Arc::new(Semaphore::new(slots.max(1))),
            waiting: Arc::default(),
            max_waiting,
        }
    }

    /// Waits for a slot, or refuses when too many already wait.
    pub async fn enter(&self) -> Result<Pass> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(Pass(permit));
        }
        let waiting = Waiting(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            drop(waiting);
            return Err(Error::too_many(
                format!(
                    "the studio is busy: too many {} are running and waiting; try again shortly",
                    self.what
                ),
                5,
            ));
        }
        let pass = self.queue().await;
        drop(waiting);
        pass
    }

    /// Waits for a slot however many wait.
    async fn queue(&self) -> Result<Pass> {
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Internal("a gate was closed".into()))?;
        Ok(Pass(permit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_beyond_the_slots_waits_and_beyond_the_queue_is_refused() {
        let gate = Gate::new("tests", 1, 1);
        let first = gate.enter().await.unwrap();
        let g = gate.clone();
        let waiter = tokio::spawn(async move { g.enter().await.map(|_| ()) });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let refused = gate.enter().await.unwrap_err();
        assert!(matches!(refused, Error::TooMany { .. }), "{refused:?}");
        drop(first);
        waiter.await.unwrap().unwrap();
        // The waiter has left the queue: there is room again.
        gate.enter().await.unwrap();
    }
}
