//! Nothing left behind: every change set a run creates is recorded here *before* the request is
//! sent (its name is unique, so it can be deleted even if the answer never arrives), and
//! forgotten once it is executed, discarded or deliberately kept (`deploy --prepare`). Whatever
//! is still recorded when a run fails or is interrupted is deleted, together with the empty
//! `REVIEW_IN_PROGRESS` stack a `CREATE` change set made. Stacks being executed are recorded too,
//! so an interrupted run can say which operations go on in CloudFormation.

use crate::aws::Aws;
use crate::stack::change_set::{delete_change_set, delete_review_stack};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// How long an unanswered `CreateChangeSet` is given to land before its change set is looked up.
const UNANSWERED_GRACE: Duration = Duration::from_millis(500);

/// A change set the run created and has not executed, discarded or kept yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChangeSet {
    /// Region.
    pub region: String,
    /// Stack.
    pub stack: String,
    /// Its name, or its ARN once CloudFormation answered.
    pub change_set: String,
    /// CloudFormation answered its creation (else the request may still be on its way).
    pub answered: bool,
    /// A `CREATE` change set, which made a `REVIEW_IN_PROGRESS` stack.
    pub creates_stack: bool,
    /// Created by this run (else adopted: someone else's, never deleted here).
    pub owned: bool,
}

#[derive(Debug, Default)]
struct Ledger {
    next: u64,
    pending: BTreeMap<u64, PendingChangeSet>,
    executing: BTreeMap<u64, (String, String)>,
}

/// The run's record of what it created; cheap to clone, shared by every task of the run.
#[derive(Debug, Clone)]
pub struct Guard {
    ledger: Arc<Mutex<Ledger>>,
    created: Arc<watch::Sender<usize>>,
}

/// One recorded change set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

impl Default for Guard {
    fn default() -> Self {
        Guard { ledger: Arc::default(), created: Arc::new(watch::channel(0).0) }
    }
}

impl Guard {
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // A panic while holding the lock cannot leave the ledger half-written (each operation is
        // one insert or remove), so a poisoned lock is still usable.
        self.ledger.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a change set about to be created.
    pub fn record(&self, region: &str, stack: &str, change_set: &str, creates_stack: bool) -> Ticket {
        self.insert(PendingChangeSet {
            region: region.into(),
            stack: stack.into(),
            change_set: change_set.into(),
            answered: false,
            creates_stack,
            owned: true,
        })
    }

    /// Records a change set someone else created (`deploy --prepare`) that this run may execute:
    /// tracked while it executes, never deleted.
    pub fn adopt(&self, region: &str, stack: &str, arn: &str) -> Ticket {
        self.insert(PendingChangeSet {
            region: region.into(),
            stack: stack.into(),
            change_set: arn.into(),
            answered: true,
            creates_stack: false,
            owned: false,
        })
    }

    fn insert(&self, change_set: PendingChangeSet) -> Ticket {
        let mut ledger = self.ledger();
        let id = ledger.next;
        ledger.next += 1;
        ledger.pending.insert(id, change_set);
        self.created.send_modify(|count| *count += 1);
        Ticket(id)
    }

    /// The change set's ARN, once CloudFormation returned it.
    pub fn identify(&self, ticket: Ticket, arn: &str) {
        if let Some(pending) = self.ledger().pending.get_mut(&ticket.0) {
            pending.change_set = arn.to_owned();
            pending.answered = true;
        }
    }

    /// The change set is gone or kept on purpose: nothing to clean up.
    pub fn forget(&self, ticket: Ticket) {
        self.ledger().pending.remove(&ticket.0);
    }

    /// The change set is about to be executed: no longer ours to delete, and its stack is busy.
    pub fn executing(&self, ticket: Ticket) {
        let mut ledger = self.ledger();
        if let Some(pending) = ledger.pending.remove(&ticket.0) {
            ledger.executing.insert(ticket.0, (pending.region, pending.stack));
        }
    }

    /// Its execution was followed to the end.
    pub fn executed(&self, ticket: Ticket) {
        self.ledger().executing.remove(&ticket.0);
    }

    /// Change sets this run created and must still clean up.
    pub fn pending(&self) -> Vec<PendingChangeSet> {
        self.ledger().pending.values().filter(|p| p.owned).cloned().collect()
    }

    /// `(region, stack)` of operations started and not followed to the end.
    pub fn in_flight(&self) -> Vec<(String, String)> {
        self.ledger().executing.values().cloned().collect()
    }

    /// Counts every change set ever recorded (for callers that act once some exist).
    pub fn created(&self) -> watch::Receiver<usize> {
        self.created.subscribe()
    }

    /// Deletes every pending change set (and the review stack of a `CREATE` one). Returns what
    /// could not be deleted, one line each; everything else is forgotten.
    pub async fn clean_up(&self, aws: &Aws) -> Vec<String> {
        let pending: Vec<(u64, PendingChangeSet)> =
            self.ledger().pending.iter().map(|(id, p)| (*id, p.clone())).collect();
        let mut problems = Vec::new();
        for (id, change_set) in pending {
            if !change_set.owned {
                self.forget(Ticket(id));
                continue;
            }
            let cfn = aws.cloudformation(&change_set.region);
            if !change_set.answered {
                // Its creation was never answered: the request may still be on its way, so give
                // it a moment to land before looking it up by name.
                tokio::time::sleep(UNANSWERED_GRACE).await;
            }
            let mut deleted = delete_change_set(&cfn, &change_set.stack, &change_set.change_set).await;
            if deleted.is_ok() && change_set.creates_stack {
                deleted = delete_review_stack(&cfn, &change_set.stack).await;
            }
            match deleted {
                Ok(()) => self.forget(Ticket(id)),
                Err(error) => problems.push(format!(
                    "{} of {} in {}: {error:#}",
                    change_set.change_set, change_set.stack, change_set.region
                )),
            }
        }
        problems
    }
}
