//! The batch tool's answer: how many people it matched and changed, and the
//! reason × channel grid of changed counts (`"no_change"` where not asked).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{CellAction, Channel, ContactReason};

/// A results grid cell: how many changed, or `"no_change"` when not asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum GridCell {
    /// Preferences changed.
    Changed(u64),
    /// The cell asked for no change.
    NoChange(NoChange),
}

/// Serializes as the string `"no_change"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoChange;

impl Serialize for NoChange {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("no_change")
    }
}

/// The batch tool's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchResult {
    /// People the mode and filter matched.
    pub matched_people: u64,
    /// Reason → channel → changed count or `"no_change"`.
    pub grid: BTreeMap<ContactReason, BTreeMap<Channel, GridCell>>,
    /// Self-set choices the batch overwrote.
    pub self_set_overwritten: u64,
    /// Self-set choices the batch left alone (`preserve_self_set`).
    pub self_set_preserved: u64,
    /// People whose preferences changed.
    pub people_changed: u64,
    /// Whether nothing was written.
    pub dry_run: bool,
}

impl BatchResult {
    /// Nothing counted yet: every reason × channel, zero where a cell asks
    /// for On or Off, `"no_change"` elsewhere (so callers always read a full grid).
    pub(super) fn start(
        matched_people: u64,
        cells: &BTreeMap<ContactReason, BTreeMap<Channel, CellAction>>,
        dry_run: bool,
    ) -> Self {
        let grid = ContactReason::ALL
            .iter()
            .map(|reason| {
                let row = Channel::ALL
                    .iter()
                    .map(|channel| {
                        let asked =
                            cells.get(reason).and_then(|c| c.get(channel)).is_some_and(|a| *a != CellAction::NoChange);
                        (*channel, if asked { GridCell::Changed(0) } else { GridCell::NoChange(NoChange) })
                    })
                    .collect();
                (*reason, row)
            })
            .collect();
        Self { matched_people, grid, self_set_overwritten: 0, self_set_preserved: 0, people_changed: 0, dry_run }
    }

    /// Counts one person's cell changed (cells not asked stay `"no_change"`).
    pub(super) fn count_changed(&mut self, reason: ContactReason, channel: Channel) {
        if let Some(GridCell::Changed(count)) = self.grid.get_mut(&reason).and_then(|row| row.get_mut(&channel)) {
            *count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn asked() -> BTreeMap<ContactReason, BTreeMap<Channel, CellAction>> {
        BTreeMap::from([(
            ContactReason::Behavior,
            BTreeMap::from([(Channel::Email, CellAction::On), (Channel::CellPhone, CellAction::NoChange)]),
        )])
    }

    #[test]
    fn a_fresh_grid_has_every_reason_and_channel_and_zero_only_where_a_change_was_asked() {
        let result = BatchResult::start(4, &asked(), true);
        assert_eq!(result.grid.len(), ContactReason::ALL.len());
        assert!(result.grid.values().all(|row| row.len() == Channel::ALL.len()));
        let asked: Vec<_> = result
            .grid
            .iter()
            .flat_map(|(reason, row)| row.iter().map(move |(channel, cell)| (*reason, *channel, *cell)))
            .filter(|(_, _, cell)| *cell != GridCell::NoChange(NoChange))
            .collect();
        assert_eq!(asked, [(ContactReason::Behavior, Channel::Email, GridCell::Changed(0))]);
        assert_eq!((result.matched_people, result.people_changed, result.dry_run), (4, 0, true));
    }

    #[test]
    fn counting_a_change_moves_only_cells_that_were_asked() {
        let mut result = BatchResult::start(1, &asked(), false);
        result.count_changed(ContactReason::Behavior, Channel::Email);
        result.count_changed(ContactReason::Behavior, Channel::Email);
        result.count_changed(ContactReason::Behavior, Channel::CellPhone);
        let row = &result.grid[&ContactReason::Behavior];
        assert_eq!(row[&Channel::Email], GridCell::Changed(2));
        assert_eq!(row[&Channel::CellPhone], GridCell::NoChange(NoChange));
    }

    #[test]
    fn grid_cells_serialize_as_a_count_or_the_word_no_change() {
        let cells = [GridCell::Changed(3), GridCell::NoChange(NoChange)];
        assert_eq!(serde_json::to_value(cells).unwrap(), json!([3, "no_change"]));
    }
}
