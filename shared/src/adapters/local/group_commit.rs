//! Group commit for the embedded table: one writer thread takes every
//! write request waiting at the moment and runs them in a single durable
//! redb transaction, in arrival order, then answers each. A redb commit
//! costs an fsync whatever it holds, so concurrent small writes (claims
//! and marks of many send workers, receipts) share it instead of queueing
//! for one each.
//!
//! Each request keeps its own semantics: a request's conditions are checked
//! against the state its predecessors in the group left, and a request
//! whose condition fails writes nothing while the others commit (exactly as
//! if they had run one after another). Items are encoded and checked on
//! the caller's thread before they get here (`prepared_write`), so a
//! malformed item never reaches a group; should a request still fail
//! otherwise (a stored item that no longer reads), the group is abandoned
//! and every request runs alone, so one bad write never takes others down
//! with it.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use redb::Database;
use tokio::sync::oneshot;

use super::embedded_table::{Tables, backend, now};
use super::prepared_write::PreparedOp;
use super::snapshot::Snapshots;
use crate::ports::table::{Condition, TableError};

/// Most requests one transaction takes.
const MAX_GROUP: usize = 512;

/// What one request writes (made ready on the caller's thread).
pub(super) enum Writes {
    /// Conditional operations, all or nothing (`report_index`: name the failing one).
    Ops(Vec<(PreparedOp, Condition)>, bool),
    /// Unconditional puts and deletes.
    Batch(Vec<PreparedOp>),
}

struct Request {
    writes: Writes,
    reply: oneshot::Sender<Result<(), TableError>>,
}

/// The writer thread and the way to it. Dropping it waits for the thread
/// to finish what it holds, so the database file is closed when the table is.
pub(super) struct Writer {
    sender: Option<Sender<Request>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread over the database; each commit ends the
    /// reads' shared snapshot before its writers are answered.
    pub(super) fn start(db: Arc<Database>, snapshots: Arc<Snapshots>) -> Result<Self, TableError> {
        let (sender, receiver) = channel();
        let thread = std::thread::Builder::new()
            .name("embedded-table-writer".into())
            .spawn(move || run(&db, &snapshots, &receiver))
            .map_err(backend)?;
        Ok(Self { sender: Some(sender), thread: Some(thread) })
    }

    /// Hands the writes to the writer thread and waits for their commit.
    pub(super) async fn write(&self, writes: Writes) -> Result<(), TableError> {
        let (reply, answer) = oneshot::channel();
        let sender = self.sender.as_ref().ok_or_else(|| backend("the table is closed"))?;
        sender.send(Request { writes, reply }).map_err(|_| backend("the writer thread stopped"))?;
        answer.await.map_err(|_| backend("the writer thread stopped"))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(db: &Database, snapshots: &Snapshots, receiver: &Receiver<Request>) {
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
        let outcomes = match commit(db, &group) {
            Ok(outcomes) => outcomes,
            Err(_) if group.len() > 1 => {
                group.iter().map(|request| commit(db, std::slice::from_ref(request)).and_then(single)).collect()
            }
            Err(error) => vec![Err(error)],
        };
        snapshots.committed();
        for (request, outcome) in group.into_iter().zip(outcomes) {
            let _ = request.reply.send(outcome);
        }
    }
}

fn single(mut outcomes: Vec<Result<(), TableError>>) -> Result<(), TableError> {
    outcomes.pop().unwrap_or(Ok(()))
}

/// Runs the requests in one transaction: `Ok` with each request's outcome
/// once committed; `Err` when the transaction as a whole failed.
fn commit(db: &Database, group: &[Request]) -> Result<Vec<Result<(), TableError>>, TableError> {
    let txn = db.begin_write().map_err(backend)?;
    let now = now();
    let mut outcomes = Vec::with_capacity(group.len());
    {
        let mut tables = Tables::open(&txn)?;
        for request in group {
            match &request.writes {
                Writes::Ops(ops, report_index) => {
                    let mut failed = None;
                    for (i, (op, condition)) in ops.iter().enumerate() {
                        if !tables.holds(condition, op.key(), now)? {
                            failed = Some(TableError::ConditionFailed { operation: report_index.then_some(i) });
                            break;
                        }
                    }
                    if let Some(failed) = failed {
                        outcomes.push(Err(failed));
                        continue;
                    }
                    for (op, _) in ops {
                        tables.apply(op)?;
                    }
                }
                Writes::Batch(ops) => {
                    for op in ops {
                        tables.apply(op)?;
                    }
                }
            }
            outcomes.push(Ok(()));
        }
    }
    txn.commit().map_err(backend)?;
    Ok(outcomes)
}
