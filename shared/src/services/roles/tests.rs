//! The role use cases over the embedded table: grants read fresh on every
//! call, custom roles, assignments and the bulk CSV.

use serde_json::json;

use super::*;
use crate::adapters::local::EmbeddedTable;
use crate::domain::roles::Permissions;
use crate::domain::{ContactReason, DistrictId, Person};
use crate::ports::{FixedClock, Table as _};
use crate::store::PeopleStore;
use crate::store::Stores;
use crate::store::keys::schools_pk;

fn district() -> DistrictId {
    DistrictId::parse("d-1").unwrap()
}

fn school(id: &str) -> SchoolId {
    SchoolId::parse(id).unwrap()
}

fn principal(subject: &str, roles: &[Role], schools: &[&str]) -> Principal {
    Principal {
        subject: subject.into(),
        district: district(),
        roles: roles.to_vec(),
        schools: schools.iter().map(|s| school(s)).collect(),
    }
}

fn admin() -> Principal {
    principal("admin", &[Role::DistrictAdmin], &[])
}

fn input(staff: &str, at: &str, role: &str) -> AssignmentInput {
    AssignmentInput { staff_id: staff.into(), school: Some(at.into()), role: role.into() }
}

/// Schools s-1 and s-2; staff t-1, t-2 (s-1) and t-3 (s-2); guardian g-1.
async fn service() -> Result<(Arc<EmbeddedTable>, RoleService), ServiceError> {
    let table = Arc::new(EmbeddedTable::in_memory().unwrap());
    for id in ["s-1", "s-2"] {
        let item = json!({"pk": schools_pk(&district()), "sk": id, "id": id, "name": "School"});
        table.put(item.as_object().cloned().unwrap_or_default(), Default::default()).await.map_err(StoreError::from)?;
    }
    let people = PeopleStore::new(table.clone());
    for (id, role, at) in [
        ("t-1", PersonRole::Staff, "s-1"),
        ("t-2", PersonRole::Staff, "s-1"),
        ("t-3", PersonRole::Staff, "s-2"),
        ("g-1", PersonRole::Guardian, "s-1"),
    ] {
        let person = Person {
            id: PersonId::parse(id).unwrap(),
            role,
            given_name: "Given".into(),
            family_name: "Family".into(),
            schools: vec![school(at)],
            contacts: vec![],
        };
        people.create(&district(), &person).await?;
    }
    Ok((table.clone(), RoleService::new(&Stores::new(table), Arc::new(FixedClock::midday_today()))))
}

fn role_input(id: &str, permissions: &[&str]) -> RoleInput {
    RoleInput {
        id: Some(id.into()),
        name: format!("Role {id}"),
        permissions: Permissions::parse(permissions.iter().copied()).unwrap(),
    }
}

#[tokio::test]
async fn a_revoked_role_takes_effect_at_once() -> Result<(), ServiceError> {
    let (_, service) = service().await?;
    let teacher = principal("t-1", &[Role::Teacher], &["s-1"]);
    assert!(!service.grants(&teacher).await?.may_send_personal(&school("s-2")));
    service.assign(&admin(), &input("t-1", "s-2", "school_admin")).await?;
    let grants = service.grants(&teacher).await?;
    assert!(grants.may_send_personal(&school("s-2")) && grants.may_manage_roles(&school("s-2")));
    assert!(grants.may_send_broadcast(ContactReason::Teacher, &school("s-1")), "the token's roles still count");
    service.unassign(&admin(), &input("t-1", "s-2", "School Admin")).await?;
    let grants = service.grants(&teacher).await?;
    assert!(!grants.may_send_personal(&school("s-2")) && !grants.may_manage_roles(&school("s-2")));
    let again = service.unassign(&admin(), &input("t-1", "s-2", "school_admin")).await;
    assert!(matches!(again, Err(ServiceError::NotFound(_))), "{again:?}");
    Ok(())
}

#[tokio::test]
async fn grants_of_built_in_assignments_cost_one_query() -> Result<(), ServiceError> {
    let (table, service) = service().await?;
    service.assign(&admin(), &input("t-1", "s-1", "teacher")).await?;
    let before = table.stats();
    let grants = service.grants(&principal("t-1", &[], &[])).await?;
    assert_eq!(table.stats().read_requests - before.read_requests, 1);
    assert_eq!(grants.schools(), [school("s-1")]);
    let before = table.stats();
    assert!(service.grants(&admin()).await?.is_district_admin());
    assert_eq!(table.stats().read_requests, before.read_requests, "a district admin's token says it all");
    Ok(())
}

#[tokio::test]
async fn a_custom_role_grants_personal_messages_and_its_changes_apply_at_the_next_request() -> Result<(), ServiceError>
{
    let (_, service) = service().await?;
    let made = service.create_role(&admin(), role_input("messenger", &["personal_messages"])).await?;
    assert!(!made.built_in && made.updated_at.is_some());
    let taken = service.create_role(&admin(), role_input("messenger", &[])).await;
    assert!(matches!(taken, Err(ServiceError::Conflict(_))), "{taken:?}");
    service.assign(&admin(), &input("t-2", "s-1", "messenger")).await?;
    let viewer = principal("t-2", &[Role::SchoolViewer], &["s-1"]);
    assert!(service.grants(&viewer).await?.may_send_personal(&school("s-1")));
    service.update_role(&admin(), "messenger", role_input("messenger", &["view_cleanup"])).await?;
    assert!(!service.grants(&viewer).await?.may_send_personal(&school("s-1")));
    service.update_role(&admin(), "messenger", role_input("messenger", &["personal_messages"])).await?;
    service.delete_role(&admin(), "messenger").await?;
    assert!(!service.grants(&viewer).await?.may_send_personal(&school("s-1")));
    service.create_role(&admin(), role_input("messenger", &["personal_messages"])).await?;
    assert!(!service.grants(&viewer).await?.may_send_personal(&school("s-1")), "old assignments died with the role");
    let roles: Vec<_> = service.roles(&admin()).await?.into_iter().map(|r| r.id).collect();
    assert_eq!(roles.len(), 6);
    assert_eq!(roles.last().map(String::as_str), Some("messenger"));
    Ok(())
}

#[tokio::test]
async fn only_district_admins_define_roles_and_built_ins_are_fixed() -> Result<(), ServiceError> {
    let (_, service) = service().await?;
    let school_admin = principal("t-1", &[Role::SchoolAdmin], &["s-1"]);
    let refused = service.create_role(&school_admin, role_input("x", &[])).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    let built_in = service.update_role(&admin(), "school_admin", role_input("school_admin", &[])).await;
    assert!(matches!(built_in, Err(ServiceError::Conflict(_))), "{built_in:?}");
    let missing = service.delete_role(&admin(), "nobody").await;
    assert!(matches!(missing, Err(ServiceError::NotFound(_))), "{missing:?}");
    service
        .assign(&admin(), &AssignmentInput { staff_id: "t-1".into(), school: None, role: "district_admin".into() })
        .await?;
    assert!(service.create_role(&principal("t-1", &[], &[]), role_input("x", &[])).await.is_ok());
    Ok(())
}

#[tokio::test]
async fn a_school_admin_assigns_within_their_schools_and_never_district_admin() -> Result<(), ServiceError> {
    let (_, service) = service().await?;
    let school_admin = principal("t-1", &[Role::SchoolAdmin], &["s-1"]);
    service.assign(&school_admin, &input("t-2", "s-1", "teacher")).await?;
    for (attempt, what) in [
        (input("t-3", "s-2", "teacher"), "another school"),
        (input("t-2", "s-1", "technical_school_admin"), "a role with more than they hold"),
        (AssignmentInput { staff_id: "t-2".into(), school: None, role: "district_admin".into() }, "district admin"),
    ] {
        let refused = service.assign(&school_admin, &attempt).await;
        assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{what}: {refused:?}");
    }
    let listed =
        service.assignments(&school_admin, &AssignmentFilter { staff: Some("t-2".into()), role: None }).await?;
    assert_eq!(listed.iter().map(|a| a.role.as_str()).collect::<Vec<_>>(), ["teacher"]);
    let viewer = principal("t-3", &[Role::SchoolViewer], &["s-2"]);
    let refused = service.assign(&viewer, &input("t-3", "s-2", "teacher")).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    Ok(())
}

#[tokio::test]
async fn assigning_checks_the_staff_member_the_school_and_the_role() -> Result<(), ServiceError> {
    let (_, service) = service().await?;
    for (attempt, expected) in [
        (input("t-1", "s-9", "teacher"), "unknown school"),
        (input("t-1", "s-1", "janitor"), "unknown role"),
        (input("t-1", "s-1", "guardian"), "portal role"),
        (input("t-1", "", "teacher"), "school is blank"),
        (input("t-1", "s-1", "district_admin"), "district-wide"),
    ] {
        match service.assign(&admin(), &attempt).await {
            Err(ServiceError::Invalid(e)) => assert!(e.to_string().contains(expected), "{e}"),
            other => panic!("{attempt:?}: expected `{expected}`, got {other:?}"),
        }
    }
    for nobody in ["nobody", "g-1"] {
        match service.assign(&admin(), &input(nobody, "s-1", "teacher")).await {
            Err(ServiceError::NotFound(e)) => assert!(e.contains("unknown staff id"), "{e}"),
            other => panic!("{nobody}: expected 404, got {other:?}"),
        }
    }
    let first = service.assign(&admin(), &input("t-1", "s-1", "teacher")).await?;
    let again = service.assign(&admin(), &input("t-1", "s-1", "Teacher")).await?;
    assert_eq!(first, again, "assigning a held role is fine and answers the first assignment");
    Ok(())
}

#[tokio::test]
async fn a_bulk_csv_applies_the_good_rows_and_reports_each_bad_one() -> Result<(), ServiceError> {
    let (_, service) = service().await?;
    let body = "staff_id,school,role\n\
        t-2,s-1,teacher\n\
        nobody,s-1,teacher\n\
        g-1,s-1,teacher\n\
        t-2,s-9,teacher\n\
        t-2,s-1,janitor\n\
        t-2,s-1\n\
        t-3,s-2,teacher\n\
        t-2,s-1,school_viewer\n\
        t-2,s-1,teacher\n";
    let outcome = service.assign_csv(&admin(), body.as_bytes()).await?;
    assert_eq!(outcome.applied, 4, "{outcome:?}");
    let rejected: Vec<_> = outcome.rejected.iter().map(|r| (r.row, r.message.as_str())).collect();
    let expected = [
        (3, "unknown staff id"),
        (4, "unknown staff id"),
        (5, "unknown school"),
        (6, "unknown role"),
        (7, "malformed row"),
    ];
    assert_eq!(rejected.len(), expected.len(), "{rejected:?}");
    for ((row, message), (want_row, want)) in rejected.iter().zip(expected) {
        assert!(*row == want_row && message.contains(want), "{row}: {message} (wanted {want_row}: {want})");
    }
    let held = service.assignments(&admin(), &AssignmentFilter { staff: Some("t-2".into()), role: None }).await?;
    assert_eq!(held.len(), 2);

    let school_admin = principal("t-1", &[Role::SchoolAdmin], &["s-1"]);
    let outcome =
        service.assign_csv(&school_admin, b"staff_id,school,role\nt-2,s-1,teacher\nt-3,s-2,teacher\n").await?;
    assert_eq!(outcome.applied, 1, "{outcome:?}");
    assert!(outcome.rejected.iter().all(|r| r.row == 3 && r.message.contains("may not grant")), "{outcome:?}");
    let viewer = principal("t-2", &[Role::SchoolViewer], &["s-1"]);
    let refused = service.assign_csv(&viewer, body.as_bytes()).await;
    assert!(matches!(refused, Err(ServiceError::Forbidden(_))), "{refused:?}");
    let headerless = service.assign_csv(&admin(), b"t-2,s-1,teacher\n").await;
    assert!(matches!(headerless, Err(ServiceError::Invalid(_))), "{headerless:?}");
    Ok(())
}
