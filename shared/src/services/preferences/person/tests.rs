//! Tests of one person's preferences: view, update, audit trail, text verdicts.

use super::super::fixture::{World, admin, district, guardian, id, principal};
use super::*;
use crate::domain::Role;

fn update(channel: Channel, reason: ContactReason, on: bool) -> PreferencesUpdate {
    PreferencesUpdate { channels: BTreeMap::from([(channel, BTreeMap::from([(reason, on)]))]), consent: None }
}

fn cell(view: &PreferencesView, channel: Channel, reason: ContactReason) -> Option<&Effective> {
    view.channels.get(&channel).and_then(|reasons| reasons.get(&reason))
}

#[tokio::test]
async fn an_admin_update_records_an_audit_entry_with_the_admin_as_source() {
    let world = World::new().await;
    let view = world.service.update(&admin(), "g-1", &update(Channel::Email, ContactReason::General, false)).await;
    let general = cell(&view.unwrap(), Channel::Email, ContactReason::General).cloned().unwrap();
    assert_eq!((general.on, general.source), (false, PreferenceSource::Admin));
    let history = world.service.history(&admin(), "g-1", 10).await.unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!((history[0].source, history[0].by.as_str()), (PreferenceSource::Admin, "admin"));
    let changed = ChangedCell { channel: Channel::Email, reason: ContactReason::General, from: true, to: false };
    assert_eq!(history[0].cells, [changed]);
}

#[tokio::test]
async fn asking_again_for_what_is_already_so_writes_no_audit_entry() {
    let world = World::new().await;
    let off = update(Channel::Email, ContactReason::General, false);
    world.service.update(&admin(), "g-1", &off).await.unwrap();
    world.service.update(&admin(), "g-1", &off).await.unwrap();
    assert_eq!(world.service.history(&admin(), "g-1", 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_person_who_switches_texts_on_records_their_own_consent() {
    let world = World::new().await;
    let texts = update(Channel::Text, ContactReason::General, true);
    let view = world.service.update(&guardian("g-1"), "g-1", &texts).await.unwrap();
    let consent = view.text_consent.as_ref().map(|c| (c.source.as_str(), c.recorded_by.as_str()));
    assert_eq!(consent, Some(("self", "g-1")));
    let general = cell(&view, Channel::Text, ContactReason::General).map(|e| e.source);
    assert_eq!(general, Some(PreferenceSource::SelfSet));
    let history = world.service.history(&guardian("g-1"), "g-1", 10).await.unwrap();
    assert_eq!(history[0].source, PreferenceSource::SelfSet);
}

#[tokio::test]
async fn an_admin_switches_texts_on_only_with_a_recorded_consent() {
    let world = World::new().await;
    let mut texts = update(Channel::Text, ContactReason::Attendance, true);
    let refused = world.service.update(&admin(), "g-3", &texts).await;
    assert!(matches!(refused, Err(ServiceError::Invalid(_))), "{refused:?}");
    let at = DateTime::UNIX_EPOCH;
    texts.consent = Some(ConsentInput { source: "  ".into(), at });
    let blank = world.service.update(&admin(), "g-3", &texts).await;
    assert!(matches!(blank, Err(ServiceError::Invalid(_))), "{blank:?}");
    assert!(world.service.history(&admin(), "g-3", 10).await.unwrap().is_empty(), "refusals write nothing");
    texts.consent = Some(ConsentInput { source: " paper form ".into(), at });
    let view = world.service.update(&admin(), "g-3", &texts).await.unwrap();
    let consent = TextConsent { source: "paper form".into(), at, recorded_by: "admin".into() };
    assert_eq!(view.text_consent, Some(consent));
}

#[tokio::test]
async fn the_view_says_per_reason_whether_a_text_goes_and_why_not() {
    let world = World::new().await;
    let view = world.service.view(&admin(), "g-3").await.unwrap();
    assert_eq!(view.text_consent_policy, TextConsentPolicy::OptIn);
    assert_eq!(view.text_verdicts.get(&ContactReason::Attendance), Some(&TextVerdict::NoConsent));
    let mut texts = update(Channel::Text, ContactReason::General, true);
    texts.consent = Some(ConsentInput { source: "phone call".into(), at: DateTime::UNIX_EPOCH });
    let view = world.service.update(&admin(), "g-3", &texts).await.unwrap();
    let verdict = |reason| view.text_verdicts.get(&reason).copied();
    assert_eq!(verdict(ContactReason::General), Some(TextVerdict::On), "switched on");
    assert_eq!(verdict(ContactReason::Attendance), Some(TextVerdict::On), "the text default, now consented");
    assert_eq!(verdict(ContactReason::Behavior), Some(TextVerdict::Off), "no default for behavior");
    let history = world.service.history(&admin(), "g-3", 10).await.unwrap();
    assert_eq!(history[0].text_consent, Some(ConsentChange::Recorded));
    let no_cell = world.service.view(&admin(), "g-2").await.unwrap();
    assert!(no_cell.text_verdicts.is_empty(), "{:?}", no_cell.text_verdicts);
}

#[tokio::test]
async fn household_phone_settings_reach_every_member_of_the_household() {
    let world = World::new().await;
    let household = update(Channel::HouseholdPhone, ContactReason::General, true);
    world.service.update(&admin(), "g-1", &household).await.unwrap();
    let other = world.service.view(&admin(), "g-2").await.unwrap();
    assert_eq!(cell(&other, Channel::HouseholdPhone, ContactReason::General).map(|e| e.on), Some(true));
    assert_eq!(world.service.history(&admin(), "g-2", 10).await.unwrap().len(), 1);
    let student = world.service.history(&admin(), "st-1", 10).await.unwrap();
    assert!(student.is_empty(), "a member without a household phone is skipped: {student:?}");
}

#[tokio::test]
async fn a_parent_changes_only_their_own_and_only_channels_they_have() {
    let world = World::new().await;
    let email = update(Channel::Email, ContactReason::General, false);
    let other = world.service.update(&guardian("g-1"), "g-3", &email).await;
    assert!(matches!(other, Err(ServiceError::NotFound(_))), "as if g-3 did not exist: {other:?}");
    let missing = world.service.update(&guardian("g-3"), "g-3", &email).await;
    assert!(matches!(missing, Err(ServiceError::Invalid(_))), "g-3 has no email: {missing:?}");
    let nobody = world.service.view(&admin(), "nobody").await;
    assert!(matches!(nobody, Err(ServiceError::NotFound(_))), "{nobody:?}");
}

#[tokio::test]
async fn staff_read_the_preferences_of_their_schools_people_only() {
    let world = World::new().await;
    let teacher = principal("t-1", &[Role::Teacher], &["s-1"]);
    assert!(world.service.view(&teacher, "g-1").await.is_ok());
    let elsewhere = world.service.view(&principal("t-9", &[Role::Teacher], &["s-2"]), "g-1").await;
    assert!(matches!(elsewhere, Err(ServiceError::NotFound(_))), "{elsewhere:?}");
    let change = world.service.update(&teacher, "g-1", &update(Channel::Email, ContactReason::General, false)).await;
    assert!(matches!(change, Err(ServiceError::Forbidden(_))), "teachers do not manage preferences: {change:?}");
}

#[tokio::test]
async fn setting_cells_skips_channels_the_person_lacks_and_what_is_already_so() {
    let world = World::new().await;
    let person = world.service.load(&district(), &id("g-3")).await.unwrap().unwrap();
    let defaults = PreferenceDefaults::default();
    let district = district();
    let edit = Edit {
        service: &world.service,
        district: &district,
        defaults: &defaults,
        source: PreferenceSource::Admin,
        by: "admin",
    };
    let cells = BTreeMap::from([
        (Channel::Email, BTreeMap::from([(ContactReason::General, false)])),
        (Channel::CellPhone, BTreeMap::from([(ContactReason::Emergency, true), (ContactReason::General, true)])),
    ]);
    let (record, changed) = edit.set_cells(&person, &cells, DateTime::UNIX_EPOCH);
    let cell_phone = |reason, from| ChangedCell { channel: Channel::CellPhone, reason, from, to: true };
    assert_eq!(
        changed,
        [cell_phone(ContactReason::Emergency, true), cell_phone(ContactReason::General, false)],
        "g-3 has no email; a default becomes the admin's own setting"
    );
    assert_eq!(record.version, person.record.version, "the caller bumps the version when it saves");
    let person = Loaded { record, ..person };
    let (_, again) = edit.set_cells(&person, &cells, DateTime::UNIX_EPOCH);
    assert!(again.is_empty(), "{again:?}");
}
