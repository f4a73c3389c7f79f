//! Group commit: concurrent callers hand their writes to a queue, and whoever finds no batch in
//! flight writes everything queued so far in one go while the next batch gathers. At low load a
//! batch is one write, as before; under load one transaction carries many, so a hot row (a
//! partner's balance) is read and written once per batch instead of once per message, and the
//! transaction's own cost is shared.
//!
//! No background task: the caller that takes the turn leads. The batch runs on a spawned task
//! holding the turn, so a leader whose request is dropped does not abandon the others, and a
//! caller dropped while still queued takes its item back out.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;

/// Why a caller got no result.
#[derive(Debug, thiserror::Error)]
#[error("the batch carrying this write ended without a result (its task failed)")]
pub struct Abandoned;

#[derive(Debug)]
struct Queued<T, R> {
    ticket: u64,
    item: T,
    done: oneshot::Sender<R>,
}

#[derive(Debug)]
pub struct GroupCommit<T, R> {
    queue: Arc<Mutex<Vec<Queued<T, R>>>>,
    turn: Arc<tokio::sync::Mutex<()>>,
    tickets: AtomicU64,
}

impl<T, R> Default for GroupCommit<T, R> {
    fn default() -> Self {
        Self {
            queue: Arc::new(Mutex::new(Vec::new())),
            turn: Arc::new(tokio::sync::Mutex::new(())),
            tickets: AtomicU64::new(0),
        }
    }
}

/// Takes a caller's item back out of the queue if the caller goes away before a batch took it.
struct Withdraw<'a, T, R> {
    queue: &'a Mutex<Vec<Queued<T, R>>>,
    ticket: u64,
}

impl<T, R> Drop for Withdraw<'_, T, R> {
    fn drop(&mut self) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        queue.retain(|q| q.ticket != self.ticket);
    }
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Queue `item` and wait for its result. `run` writes a batch (in queue order) and answers
    /// one result per item, in the same order; it is called only if this caller leads.
    pub async fn submit<F, Fut>(&self, item: T, run: F) -> Result<R, Abandoned>
    where
        F: FnOnce(Vec<T>) -> Fut,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let (done, mut result) = oneshot::channel();
        self.lock_queue().push(Queued { ticket, item, done });
        let withdraw = Withdraw {
            queue: &self.queue,
            ticket,
        };
        let turn = self.turn.clone().lock_owned().await;
        // A batch that ran while we waited for the turn may have carried our item.
        match result.try_recv() {
            Ok(answer) => return Ok(answer),
            Err(oneshot::error::TryRecvError::Closed) => return Err(Abandoned),
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
        let batch = std::mem::take(&mut *self.lock_queue());
        drop(withdraw);
        let (items, dones): (Vec<T>, Vec<oneshot::Sender<R>>) =
            batch.into_iter().map(|q| (q.item, q.done)).unzip();
        let written = run(items);
        tokio::spawn(async move {
            let results = written.await;
            for (done, answer) in dones.into_iter().zip(results) {
                // A caller that went away meanwhile needs no answer.
                let _ = done.send(answer);
            }
            drop(turn);
        });
        result.await.map_err(|_| Abandoned)
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Vec<Queued<T, R>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_callers_share_batches_and_each_gets_its_own_result() {
        let group = Arc::new(GroupCommit::<u32, u32>::default());
        let batches = Arc::new(AtomicUsize::new(0));
        let mut callers = Vec::new();
        for n in 0..64u32 {
            let group = group.clone();
            let batches = batches.clone();
            callers.push(tokio::spawn(async move {
                group
                    .submit(n, move |items| async move {
                        batches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        items.into_iter().map(|i| i * 10).collect()
                    })
                    .await
                    .expect("a result")
            }));
        }
        for (n, caller) in callers.into_iter().enumerate() {
            assert_eq!(
                caller.await.expect("joined"),
                u32::try_from(n).unwrap() * 10
            );
        }
        let runs = batches.load(Ordering::SeqCst);
        assert!(
            runs < 64,
            "64 callers took {runs} batches: nothing was grouped"
        );
    }

    #[tokio::test]
    async fn a_caller_dropped_while_queued_takes_its_item_back() {
        let group = Arc::new(GroupCommit::<u32, u32>::default());
        let held = group.turn.clone().lock_owned().await;
        let queued = {
            let group = group.clone();
            tokio::spawn(async move { group.submit(1, |items| async move { items }).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(group.lock_queue().len(), 1);
        queued.abort();
        let _ = queued.await;
        assert!(
            group.lock_queue().is_empty(),
            "the dropped caller's item is gone"
        );
        drop(held);
        let seen = group
            .submit(2, |items| async move { items })
            .await
            .expect("a result");
        assert_eq!(seen, 2);
    }
}
