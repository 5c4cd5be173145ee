//! Group commit for joins: one task per process stores whatever joins queued while the
//! previous batch committed, in one transaction, and only then answers each. A session's
//! row (its participant count, which is the capacity check) is then locked and written once
//! per batch, not once per join, so a crowd joining at once does not queue on that row.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::model::participant::Participant;
use crate::storage::{JoinOutcome, Store, StoreError, WriteThread};

/// Most joins stored in one transaction.
const MAX_BATCH: usize = 512;
/// Joins that may wait for the task before senders wait too.
const QUEUE: usize = 4_096;

struct Job {
    participant: Participant,
    done: oneshot::Sender<Result<JoinOutcome, StoreError>>,
}

/// The handle request handlers use; cheap to clone.
#[derive(Clone)]
pub struct Joiner {
    jobs: mpsc::Sender<Job>,
}

impl Joiner {
    /// Starts the joining task on `thread`.
    pub fn start(thread: &WriteThread, store: Arc<dyn Store>) -> Joiner {
        let (jobs, queue) = mpsc::channel(QUEUE);
        thread.spawn(run(store, queue));
        Joiner { jobs }
    }

    /// Queues one join and waits until its batch has committed.
    pub async fn join(&self, participant: Participant) -> Result<JoinOutcome, StoreError> {
        let (done, outcome) = oneshot::channel();
        self.jobs
            .send(Job { participant, done })
            .await
            .map_err(|_| StoreError::Internal("the joining task has stopped".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Internal("the joining task dropped a join".into()))?
    }
}

async fn run(store: Arc<dyn Store>, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (participants, waiting): (Vec<Participant>, Vec<_>) = jobs
            .drain(..)
            .map(|job| (job.participant, job.done))
            .unzip();
        let started = std::time::Instant::now();
        let result = store.join_sessions(&participants).await;
        metrics::histogram!("join_batch_commit_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        match result {
            Ok(outcomes) => {
                for (done, outcome) in waiting.into_iter().zip(outcomes) {
                    let _ = done.send(Ok(outcome));
                }
            }
            Err(error) => {
                tracing::error!(error = %error, cause = ?std::error::Error::source(&error), batch = participants.len(), "a join batch failed; nobody in it joined");
                for done in waiting {
                    let _ = done.send(Err(error.for_each_in_batch()));
                }
            }
        }
    }
}
