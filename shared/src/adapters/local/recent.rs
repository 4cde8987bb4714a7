//! `Recent`: the most recent records of a simulated provider, at most a
//! fixed number, so a local gateway that runs for weeks keeps bounded memory
//! while tests and the demo can still look at what was sent.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// The last `capacity` records pushed, oldest first.
#[derive(Debug)]
pub(super) struct Recent<T> {
    records: Mutex<VecDeque<T>>,
    capacity: usize,
}

impl<T: Clone> Recent<T> {
    /// Keeps at most `capacity` records (at least one).
    pub(super) fn new(capacity: usize) -> Self {
        Self { records: Mutex::new(VecDeque::new()), capacity: capacity.max(1) }
    }

    /// Adds a record, forgetting the oldest when full.
    pub(super) fn push(&self, record: T) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        while records.len() >= self.capacity {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// How many records are kept at most.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The records kept, oldest first.
    pub(super) fn to_vec(&self) -> Vec<T> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_most_recent_records_are_kept_oldest_first() {
        let recent = Recent::new(3);
        (1..=5).for_each(|n| recent.push(n));
        assert_eq!(recent.to_vec(), [3, 4, 5]);
    }
}
