//! The batch tool's tests, over the small district of `fixture`.

use super::super::fixture::{World, admin, guardian};
use super::super::{GridCell, PreferencesUpdate};
use super::*;

fn request(mode: BatchMode, reason: ContactReason, cells: &[(Channel, CellAction)]) -> BatchRequest {
    BatchRequest {
        mode,
        filter: BatchFilter::default(),
        cells: BTreeMap::from([(reason, cells.iter().copied().collect())]),
        preserve_self_set: false,
        dry_run: false,
    }
}

fn count(result: &BatchResult, reason: ContactReason, channel: Channel) -> GridCell {
    result.grid[&reason][&channel]
}

async fn on(world: &World, person: &str, channel: Channel, reason: ContactReason) -> bool {
    let view = world.service.view(&admin(), person).await.unwrap();
    view.channels[&channel][&reason].on
}

#[tokio::test]
async fn a_batch_dry_run_changes_nothing() {
    let world = World::new().await;
    let mut off = request(BatchMode::Students, ContactReason::General, &[(Channel::Email, CellAction::Off)]);
    off.dry_run = true;
    let before = world.stats().items_written;
    let result = world.service.batch(&admin(), &off).await.unwrap();
    assert_eq!((result.matched_people, result.people_changed, result.dry_run), (3, 2, true), "st-3 has no email");
    assert_eq!(count(&result, ContactReason::General, Channel::Email), GridCell::Changed(2));
    assert_eq!(world.stats().items_written, before, "a dry run writes nothing");
    assert!(on(&world, "st-1", Channel::Email, ContactReason::General).await);
}

#[tokio::test]
async fn a_batch_rerun_writes_nothing() {
    let world = World::new().await;
    let calls = request(BatchMode::StudentContacts, ContactReason::Behavior, &[(Channel::CellPhone, CellAction::On)]);
    let first = world.service.batch(&admin(), &calls).await.unwrap();
    assert_eq!((first.matched_people, first.people_changed), (2, 2), "g-1 and g-3, the messengers");
    assert_eq!(count(&first, ContactReason::Behavior, Channel::CellPhone), GridCell::Changed(2));
    assert!(on(&world, "g-3", Channel::CellPhone, ContactReason::Behavior).await);
    let before = world.stats().items_written;
    let again = world.service.batch(&admin(), &calls).await.unwrap();
    assert_eq!(
        (again.people_changed, count(&again, ContactReason::Behavior, Channel::CellPhone)),
        (0, GridCell::Changed(0))
    );
    assert_eq!(world.stats().items_written, before, "a rerun writes nothing");
}

#[tokio::test]
async fn preserve_self_set_leaves_a_self_set_preference() {
    let world = World::new().await;
    let own = PreferencesUpdate {
        channels: BTreeMap::from([(Channel::Email, BTreeMap::from([(ContactReason::General, false)]))]),
        consent: None,
    };
    world.service.update(&guardian("g-1"), "g-1", &own).await.unwrap();
    let mut email = request(BatchMode::StudentContacts, ContactReason::General, &[(Channel::Email, CellAction::On)]);
    email.preserve_self_set = true;
    let kept = world.service.batch(&admin(), &email).await.unwrap();
    assert_eq!((kept.self_set_preserved, kept.self_set_overwritten, kept.people_changed), (1, 0, 0));
    assert!(!on(&world, "g-1", Channel::Email, ContactReason::General).await, "her own choice stays");
    email.preserve_self_set = false;
    let overwritten = world.service.batch(&admin(), &email).await.unwrap();
    assert_eq!((overwritten.self_set_preserved, overwritten.self_set_overwritten), (0, 1));
    assert!(on(&world, "g-1", Channel::Email, ContactReason::General).await);
}

#[tokio::test]
async fn household_members_of_matched_people_take_only_the_household_phone_cells() {
    let world = World::new().await;
    let cells = [(Channel::HouseholdPhone, CellAction::On), (Channel::Email, CellAction::Off)];
    let mut both = request(BatchMode::StudentContacts, ContactReason::General, &cells);
    both.filter.grade = Some("05".into());
    let result = world.service.batch(&admin(), &both).await.unwrap();
    assert_eq!(result.matched_people, 1, "g-1 only; g-2 is not a messenger");
    assert_eq!(count(&result, ContactReason::General, Channel::HouseholdPhone), GridCell::Changed(2));
    assert_eq!(count(&result, ContactReason::General, Channel::Email), GridCell::Changed(1), "st-1's email stays");
    assert!(on(&world, "g-2", Channel::HouseholdPhone, ContactReason::General).await);
    assert!(on(&world, "st-1", Channel::Email, ContactReason::General).await);
    let history = world.service.history(&admin(), "g-2", 10).await.unwrap();
    assert_eq!(history.iter().map(|c| c.source).collect::<Vec<_>>(), [PreferenceSource::Batch]);
}

#[tokio::test]
async fn a_batch_keeps_what_a_parent_set_between_its_read_and_its_write() {
    let world = World::new().await;
    let parent = world.direct.clone();
    world.before_next_write(Box::pin(async move {
        let own = PreferencesUpdate {
            channels: BTreeMap::from([(
                Channel::Email,
                BTreeMap::from([(ContactReason::General, true), (ContactReason::Attendance, false)]),
            )]),
            consent: None,
        };
        parent.update(&guardian("g-1"), "g-1", &own).await.unwrap();
    }));
    let mut email = request(BatchMode::StudentContacts, ContactReason::General, &[(Channel::Email, CellAction::Off)]);
    email.preserve_self_set = true;
    let result = world.service.batch(&admin(), &email).await.unwrap();
    assert!(on(&world, "g-1", Channel::Email, ContactReason::General).await, "her own choice, made meanwhile");
    assert!(!on(&world, "g-1", Channel::Email, ContactReason::Attendance).await, "a cell the batch never touched");
    assert_eq!((result.people_changed, result.self_set_preserved), (0, 1), "counted as written");
    assert_eq!(count(&result, ContactReason::General, Channel::Email), GridCell::Changed(0));
    let history = world.service.history(&admin(), "g-1", 10).await.unwrap();
    assert_eq!(history.iter().map(|c| c.source).collect::<Vec<_>>(), [PreferenceSource::SelfSet]);
}

#[tokio::test]
async fn text_cannot_be_set_in_batch() {
    let world = World::new().await;
    let texts = request(BatchMode::StudentContacts, ContactReason::General, &[(Channel::Text, CellAction::NoChange)]);
    let refused = world.service.batch(&admin(), &texts).await;
    assert!(matches!(refused, Err(ServiceError::Invalid(_))), "{refused:?}");
}
