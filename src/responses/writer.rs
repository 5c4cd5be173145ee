//! Group commit: every submission goes through one writer task per process, which commits
//! whatever has queued up while the previous commit ran in one transaction and only then
//! acknowledges each. Under load, batches grow by themselves; when idle, a submission is
//! committed at once. The writer also loads rounds into the tallies, between batches, so a
//! load never races a commit.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::tally::{Held, Tallies};
use crate::ids::{ActivityId, ParticipantId};
use crate::kinds::{Prepared, Reference};
use crate::model::activity::Activity;
use crate::model::changes::{Change, Changes};
use crate::storage::{ResponseWrite, Store, StoreError, WriteOutcome, WriteThread};

/// Most submissions committed in one transaction.
pub const MAX_BATCH: usize = 512;
/// Submissions that may wait for the writer before senders wait too.
const QUEUE: usize = 16_384;

enum Job {
    Write {
        write: ResponseWrite,
        answer: Held,
        done: oneshot::Sender<Result<WriteOutcome, StoreError>>,
    },
    Load {
        activity: Activity,
        prepared: Arc<dyn Prepared>,
        replace: bool,
        done: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// The handle request handlers use; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// For reads that must see what other instances committed (see [`Writer::has_reference`]).
    store: Arc<dyn Store>,
}

impl Writer {
    /// Starts the writer task on `thread`; `hub` hears of every activity a batch changed.
    pub fn start(
        thread: &WriteThread,
        store: Arc<dyn Store>,
        tallies: Arc<Tallies>,
        fan_out: Arc<dyn Changes>,
    ) -> Writer {
        let (jobs, queue) = mpsc::channel(QUEUE);
        thread.spawn(run(store.clone(), tallies, fan_out, queue));
        Writer { jobs, store }
    }

    /// Queues one submission and waits until its batch has committed.
    pub async fn write(
        &self,
        write: ResponseWrite,
        answer: Held,
    ) -> Result<WriteOutcome, StoreError> {
        let (done, outcome) = oneshot::channel();
        self.jobs
            .send(Job::Write {
                write,
                answer,
                done,
            })
            .await
            .map_err(|_| StoreError::Internal("the response writer has stopped".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Internal("the response writer dropped a submission".into()))?
    }

    /// Whether storage holds what an answer refers to: asked when this instance's tallies do
    /// not, since another instance may have committed it a moment ago.
    pub async fn has_reference(
        &self,
        activity: ActivityId,
        round: i32,
        participant: ParticipantId,
        reference: &Reference,
    ) -> Result<bool, StoreError> {
        self.store
            .slot_filled(
                activity,
                round,
                &reference.slot,
                reference.own.then_some(participant),
            )
            .await
    }

    /// Loads a round into the tallies if it is not there yet.
    pub async fn load(
        &self,
        activity: Activity,
        prepared: Arc<dyn Prepared>,
    ) -> Result<(), StoreError> {
        self.load_job(activity, prepared, false).await
    }

    /// Reads a round from storage again, replacing what memory holds: after another
    /// instance committed answers to it, or after missed notices.
    pub async fn reload(
        &self,
        activity: Activity,
        prepared: Arc<dyn Prepared>,
    ) -> Result<(), StoreError> {
        self.load_job(activity, prepared, true).await
    }

    async fn load_job(
        &self,
        activity: Activity,
        prepared: Arc<dyn Prepared>,
        replace: bool,
    ) -> Result<(), StoreError> {
        let (done, outcome) = oneshot::channel();
        self.jobs
            .send(Job::Load {
                activity,
                prepared,
                replace,
                done,
            })
            .await
            .map_err(|_| StoreError::Internal("the response writer has stopped".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Internal("the response writer dropped a load".into()))?
    }
}

async fn run(
    store: Arc<dyn Store>,
    tallies: Arc<Tallies>,
    fan_out: Arc<dyn Changes>,
    mut queue: mpsc::Receiver<Job>,
) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    loop {
        if queue.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            return; // every handle is gone: the app has stopped
        }
        let mut writes = Batch::default();
        for job in jobs.drain(..) {
            match job {
                Job::Write {
                    write,
                    answer,
                    done,
                } => writes.push(write, answer, done),
                Job::Load {
                    activity,
                    prepared,
                    replace,
                    done,
                } => {
                    // Commit what came before the load, so the load reads it.
                    commit(
                        store.as_ref(),
                        &tallies,
                        &fan_out,
                        std::mem::take(&mut writes),
                    )
                    .await;
                    let loaded = load(store.as_ref(), &tallies, &activity, prepared, replace).await;
                    let _ = done.send(loaded);
                }
            }
        }
        commit(store.as_ref(), &tallies, &fan_out, writes).await;
    }
}

/// Submissions waiting for the next commit: the rows, and beside them (same order) the
/// typed answers and the senders waiting for the outcome.
#[derive(Default)]
struct Batch {
    writes: Vec<ResponseWrite>,
    waiting: Vec<(Held, oneshot::Sender<Result<WriteOutcome, StoreError>>)>,
}

impl Batch {
    fn push(
        &mut self,
        write: ResponseWrite,
        answer: Held,
        done: oneshot::Sender<Result<WriteOutcome, StoreError>>,
    ) {
        self.writes.push(write);
        self.waiting.push((answer, done));
    }
}

async fn commit(store: &dyn Store, tallies: &Tallies, fan_out: &dyn Changes, pending: Batch) {
    let Batch {
        writes: batch,
        waiting,
    } = pending;
    if batch.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let result = store.write_responses(&batch).await;
    metrics::histogram!("response_batch_commit_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    #[expect(clippy::cast_precision_loss, reason = "batch sizes are small")]
    metrics::histogram!("response_batch_size").record(batch.len() as f64);
    match result {
        Ok(outcomes) => {
            let mut stored = 0u64;
            for ((write, (answer, done)), outcome) in batch.into_iter().zip(waiting).zip(outcomes) {
                if outcome == WriteOutcome::Stored {
                    // In submission order, so the last answer for a slot wins, as in storage.
                    // The tallies hold the answer before the hub hears of it: the publisher
                    // runs on another thread and must never fold results without it.
                    tallies.apply(
                        write.activity_id,
                        write.round,
                        write.participant_id,
                        &write.slot,
                        answer,
                        &write.answer,
                    );
                    fan_out.changed(write.session_id, Change::Results(write.activity_id));
                    stored += 1;
                }
                let _ = done.send(Ok(outcome));
            }
            metrics::counter!("responses_stored_total").increment(stored);
        }
        Err(error) => {
            tracing::error!(error = %error, cause = ?std::error::Error::source(&error), batch = batch.len(), "a response batch failed; nothing in it was stored");
            for (_, done) in waiting {
                let _ = done.send(Err(error.for_each_in_batch()));
            }
        }
    }
}

async fn load(
    store: &dyn Store,
    tallies: &Tallies,
    activity: &Activity,
    prepared: Arc<dyn Prepared>,
    replace: bool,
) -> Result<(), StoreError> {
    if !replace && tallies.is_loaded(activity.id, activity.round) {
        return Ok(());
    }
    let rows = store.round_answers(activity.id, activity.round).await?;
    let mut answers = HashMap::with_capacity(rows.len());
    let mut names: HashMap<String, Arc<str>> = HashMap::new();
    for (row, nickname, team) in rows {
        let answer = prepared.decode_stored(&row.answer).ok_or_else(|| {
            StoreError::Corrupt(format!("response {} does not fit its kind", row.id))
        })?;
        let nickname = names
            .entry(nickname)
            .or_insert_with_key(|name| Arc::from(name.as_str()))
            .clone();
        let held = Held {
            answer,
            nickname,
            at: row.updated_at,
            since: row.answerable_since(),
            team,
        };
        answers.insert((row.participant_id, row.slot), held);
    }
    tallies.insert(activity, prepared, answers);
    Ok(())
}
