//! The SIS key service on the embedded table, at a time the test sets.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::adapters::local::EmbeddedTable;
use crate::domain::Role;
use crate::ports::{FixedClock, SequentialIds};
use crate::root::{Ports, Services, Wiring};

const BODY: &[u8] = br#"{"events": [{"id": "e-1", "type": "attendance.absent"}]}"#;

struct World {
    services: Services,
    clock: Arc<FixedClock>,
}

fn world_with_key(cursor_key: CursorKey, table: Arc<EmbeddedTable>) -> World {
    // Near the real date: the embedded table ages index entries by the system's time.
    let clock = Arc::new(FixedClock::midday_today());
    let wiring = Wiring { cursor_key, ..Wiring::default() };
    let services = Services::new(Ports::new(table, clock.clone(), Arc::new(SequentialIds::new("t"))), wiring);
    World { services, clock }
}

fn world() -> World {
    world_with_key(CursorKey::new([7; 32]), Arc::new(EmbeddedTable::in_memory().unwrap()))
}

fn caller(district: &str, role: Role) -> Principal {
    Principal {
        subject: "staff-1".into(),
        district: DistrictId::parse(district).unwrap(),
        roles: vec![role],
        schools: vec![],
    }
}

fn admin(district: &str) -> Principal {
    caller(district, Role::DistrictAdmin)
}

impl World {
    fn keys(&self) -> SisKeyService {
        self.services.sis_keys()
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn bearer(&self, key: &str) -> Result<DistrictId, ServiceError> {
        self.keys().authenticate(SisCredential::Bearer(key), BODY).await
    }

    async fn signed(&self, key: &str, at: DateTime<Utc>, body: &[u8]) -> Result<DistrictId, ServiceError> {
        let key = SisKey::parse(key).unwrap();
        let timestamp = at.timestamp().to_string();
        let signature = key.sign(&timestamp, body);
        let credential =
            SisCredential::Signed { key_id: key.id().as_str(), timestamp: &timestamp, signature: &signature };
        self.keys().authenticate(credential, BODY).await
    }
}

fn unauthorized(outcome: Result<DistrictId, ServiceError>) -> bool {
    matches!(outcome, Err(ServiceError::Unauthorized(_)))
}

#[tokio::test]
async fn a_bearer_key_authenticates_as_its_own_district() {
    let world = world();
    let a = world.keys().create(&admin("district-a")).await.unwrap();
    let b = world.keys().create(&admin("district-b")).await.unwrap();
    assert_eq!(world.bearer(&a.key).await.unwrap().as_str(), "district-a");
    assert_eq!(world.bearer(&format!("  {}\n", b.key)).await.unwrap().as_str(), "district-b");
    assert_eq!(format!("{a:?}"), format!("IssuedSisKey({}, ..)", a.id), "Debug shows no key");
}

#[tokio::test]
async fn a_wrong_or_unknown_key_is_unauthorized() {
    let world = world();
    let issued = world.keys().create(&admin("district-a")).await.unwrap();
    let same_id_other_secret = SisKey::new(issued.id.clone(), crate::domain::SisSecret::generate()).expose();
    assert!(unauthorized(world.bearer(&same_id_other_secret).await));
    assert!(unauthorized(world.bearer(&SisKey::generate().expose()).await), "never issued");
    assert!(unauthorized(world.bearer("").await));
    assert!(unauthorized(world.bearer(&issued.key[..issued.key.len() - 1]).await));
}

#[tokio::test]
async fn a_revoked_key_is_unauthorized_both_ways() {
    let world = world();
    let issued = world.keys().create(&admin("district-a")).await.unwrap();
    world.keys().revoke(&admin("district-a"), issued.id.as_str()).await.unwrap();
    assert!(unauthorized(world.bearer(&issued.key).await));
    assert!(unauthorized(world.signed(&issued.key, world.now(), BODY).await));
    world.keys().revoke(&admin("district-a"), issued.id.as_str()).await.unwrap();
    let listed = world.keys().list(&admin("district-a")).await.unwrap();
    assert_eq!(listed[0].revoked_at, Some(world.now()));
}

#[tokio::test]
async fn a_staff_jwt_presented_as_a_bearer_is_not_a_sis_key() {
    let world = world();
    world.keys().create(&admin("district-a")).await.unwrap();
    let claims = crate::auth::Claims {
        sub: "staff-1".into(),
        district: "district-a".into(),
        roles: vec!["district_admin".into()],
        schools: vec![],
        exp: world.now().timestamp() + 600,
        iat: None,
        iss: None,
    };
    let jwt = crate::auth::mint_hs256(b"a-local-secret-of-thirty-two-byte", &claims).unwrap();
    let outcome = world.bearer(&jwt).await;
    assert!(unauthorized(outcome), "a JWT is refused before any lookup");
}

#[tokio::test]
async fn a_signed_request_authenticates_within_five_minutes_either_way() {
    let world = world();
    let issued = world.keys().create(&admin("district-a")).await.unwrap();
    for offset in [0, -300, 300] {
        let at = world.now() + Duration::seconds(offset);
        assert_eq!(world.signed(&issued.key, at, BODY).await.unwrap().as_str(), "district-a", "{offset}");
    }
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_unauthorized() {
    let world = world();
    let issued = world.keys().create(&admin("district-a")).await.unwrap();
    for offset in [-301, 301, -86_400] {
        let outcome = world.signed(&issued.key, world.now() + Duration::seconds(offset), BODY).await;
        let Err(ServiceError::Unauthorized(message)) = outcome else { panic!("{offset}: {outcome:?}") };
        assert!(message.contains("5 minutes"), "{message}");
    }
}

#[tokio::test]
async fn a_signature_over_another_body_is_unauthorized() {
    let world = world();
    let issued = world.keys().create(&admin("district-a")).await.unwrap();
    let tampered = br#"{"events": [{"id": "e-1", "type": "attendance.tardy"}]}"#;
    assert!(unauthorized(world.signed(&issued.key, world.now(), tampered).await));
}

#[tokio::test]
async fn a_rotated_key_keeps_working_for_a_day_beside_its_successor_then_stops() {
    let world = world();
    let a = admin("district-a");
    let old = world.keys().create(&a).await.unwrap();
    let new = world.keys().rotate(&a, old.id.as_str()).await.unwrap();
    assert_ne!(new.id, old.id);
    assert_eq!(world.bearer(&new.key).await.unwrap().as_str(), "district-a");
    world.clock.advance(Duration::hours(23));
    assert_eq!(world.bearer(&old.key).await.unwrap().as_str(), "district-a", "in its grace");
    assert!(world.signed(&old.key, world.now(), BODY).await.is_ok());
    world.clock.advance(Duration::hours(1));
    assert!(unauthorized(world.bearer(&old.key).await), "the grace is over");
    assert!(world.signed(&new.key, world.now(), BODY).await.is_ok());
    let rotate_ended = world.keys().rotate(&a, old.id.as_str()).await;
    assert!(matches!(rotate_ended, Err(ServiceError::Conflict(_))), "{rotate_ended:?}");
}

#[tokio::test]
async fn only_district_admins_manage_keys_and_another_district_s_key_is_not_found() {
    let world = world();
    let issued = world.keys().create(&admin("district-a")).await.unwrap();
    for role in [Role::SchoolAdmin, Role::TechnicalSchoolAdmin, Role::Teacher, Role::Guardian, Role::Operator] {
        let who = caller("district-a", role);
        assert!(matches!(world.keys().create(&who).await, Err(ServiceError::Forbidden(_))), "{role:?}");
        assert!(matches!(world.keys().list(&who).await, Err(ServiceError::Forbidden(_))), "{role:?}");
        let revoke = world.keys().revoke(&who, issued.id.as_str()).await;
        assert!(matches!(revoke, Err(ServiceError::Forbidden(_))), "{role:?}");
    }
    let b = admin("district-b");
    for id in [issued.id.as_str(), "sk-000000000000000000000000", "nonsense", "sk-../x"] {
        assert!(matches!(world.keys().revoke(&b, id).await, Err(ServiceError::NotFound(_))), "{id}");
        assert!(matches!(world.keys().rotate(&b, id).await, Err(ServiceError::NotFound(_))), "{id}");
    }
    assert!(world.keys().list(&b).await.unwrap().is_empty());
    assert_eq!(world.bearer(&issued.key).await.unwrap().as_str(), "district-a", "untouched");
}

#[tokio::test]
async fn the_store_keeps_a_hash_and_a_sealed_secret_never_the_key() {
    let table = Arc::new(EmbeddedTable::in_memory().unwrap());
    let world = world_with_key(CursorKey::new([7; 32]), table.clone());
    let issued = world.keys().create(&admin("district-a")).await.unwrap();
    let key = SisKey::parse(&issued.key).unwrap();
    let district = DistrictId::parse("district-a").unwrap();
    let record = world.services.stores().sis_keys.get(&district, &issued.id).await.unwrap().unwrap();
    let stored = serde_json::to_string(&record).unwrap();
    let secret_text = &issued.key[issued.key.len() - 43..];
    assert!(!stored.contains(secret_text), "{stored}");
    assert_eq!(record.secret_hash, key.secret().hash());

    // Another deployment key cannot open the sealed secret: signatures fail, bearer keys still work.
    let elsewhere = world_with_key(CursorKey::new([8; 32]), table);
    elsewhere.clock.set(world.now());
    assert!(unauthorized(elsewhere.signed(&issued.key, world.now(), BODY).await));
    assert_eq!(elsewhere.bearer(&issued.key).await.unwrap(), district);
}
