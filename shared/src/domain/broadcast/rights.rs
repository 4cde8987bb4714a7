//! Who may send a broadcast: the rule checked when it is accepted and
//! again when it is planned (a sender who lost a role since scheduling
//! sends nothing), and whether the sender reaches only their own sections.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::BroadcastKind;
use crate::domain::roles::{Grants, Permission};
use crate::domain::{ContactReason, DistrictId, Principal, Role, SchoolId};

/// What the sender's token said at acceptance. Planning resolves it again
/// with the sender's stored assignments as they are then, so a revoked
/// assignment stops a broadcast still waiting to go.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Acceptance {
    /// The token's roles.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// The schools of the token's school-level roles.
    #[serde(default)]
    pub schools: Vec<SchoolId>,
}

impl Acceptance {
    /// What the caller's token says.
    pub fn of(caller: &Principal) -> Self {
        Self { roles: caller.roles.clone(), schools: caller.schools.clone() }
    }

    /// The sender as a principal again (token roles as accepted), for
    /// reading their grants at plan time.
    pub fn principal(&self, district: &DistrictId, subject: &str) -> Principal {
        Principal {
            subject: subject.to_string(),
            district: district.clone(),
            roles: self.roles.clone(),
            schools: self.schools.clone(),
        }
    }
}

/// A message the sender's grants do not allow: what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unallowed {
    /// The contact reason not allowed.
    pub reason: ContactReason,
    /// Broadcast or personal message.
    pub kind: BroadcastKind,
    /// The audience is district-wide.
    pub district_wide: bool,
}

impl fmt::Display for Unallowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, place) = match (self.kind, self.district_wide) {
            (BroadcastKind::Personal, _) => ("messages", "in this school"),
            (BroadcastKind::Broadcast, true) => ("broadcasts", "district-wide"),
            (BroadcastKind::Broadcast, false) => ("broadcasts", "in these schools"),
        };
        write!(f, "`{}` {what} {place}", self.reason)
    }
}

/// Checks the sender's grants against a message to `schools` (empty:
/// district-wide). A broadcast needs its reason (and, for an emergency, the
/// `emergency` reason too) in every school; a district-wide one needs a
/// district admin. A personal message needs the personal-message
/// permission in one of its schools and, unless its reason is `general`,
/// that reason there too.
pub fn unallowed(
    grants: &Grants,
    kind: BroadcastKind,
    reason: ContactReason,
    emergency: bool,
    schools: &[SchoolId],
) -> Option<Unallowed> {
    let refuse = |reason| Some(Unallowed { reason, kind, district_wide: schools.is_empty() });
    match kind {
        BroadcastKind::Broadcast => {
            let reasons = if emergency { vec![reason, ContactReason::Emergency] } else { vec![reason] };
            reasons.into_iter().find_map(|reason| {
                let allowed = grants.is_district_admin()
                    || (!schools.is_empty() && schools.iter().all(|s| grants.may_send_broadcast(reason, s)));
                if allowed { None } else { refuse(reason) }
            })
        }
        BroadcastKind::Personal => {
            let writes = |s: &&SchoolId| grants.may_send_personal(s);
            let allowed = schools
                .iter()
                .filter(writes)
                .any(|s| reason == ContactReason::General || grants.may_send_broadcast(reason, s));
            if allowed { None } else { refuse(reason) }
        }
    }
}

/// Whether a broadcast reaches only the students of the sender's own
/// sections and their families: the sender holds, in one of its schools,
/// no broadcast reason but `teacher` (a teacher's role). Since every
/// other reason needs its own permission there, only `teacher`-reason
/// broadcasts of teachers are bound.
pub fn reaches_only_own_sections(grants: &Grants, kind: BroadcastKind, schools: &[SchoolId]) -> bool {
    kind == BroadcastKind::Broadcast
        && !grants.is_district_admin()
        && schools.iter().any(|school| {
            let held = grants.permissions_at(school);
            ContactReason::ALL
                .iter()
                .all(|reason| *reason == ContactReason::Teacher || !held.contains(Permission::Broadcast(*reason)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::test_principal;

    fn grants(roles: &[Role], schools: &[&str]) -> Grants {
        Grants::from_token(&test_principal("u-1", roles, schools))
    }

    fn schools(ids: &[&str]) -> Vec<SchoolId> {
        ids.iter().map(|s| SchoolId::parse(*s).unwrap()).collect()
    }

    #[test]
    fn a_broadcast_needs_its_reason_and_emergency_in_every_school_and_district_wide_a_district_admin() {
        let admin = grants(&[Role::SchoolAdmin], &["s-1"]);
        let general = ContactReason::General;
        assert_eq!(unallowed(&admin, BroadcastKind::Broadcast, general, true, &schools(&["s-1"])), None);
        let elsewhere = unallowed(&admin, BroadcastKind::Broadcast, general, false, &schools(&["s-1", "s-2"]));
        assert_eq!(elsewhere.map(|u| u.to_string()).as_deref(), Some("`general` broadcasts in these schools"));
        let everywhere = unallowed(&admin, BroadcastKind::Broadcast, general, false, &[]);
        assert_eq!(everywhere.map(|u| u.to_string()).as_deref(), Some("`general` broadcasts district-wide"));
        let teacher = grants(&[Role::Teacher], &["s-1"]);
        let emergency = unallowed(&teacher, BroadcastKind::Broadcast, ContactReason::Teacher, true, &schools(&["s-1"]));
        assert_eq!(emergency.map(|u| u.reason), Some(ContactReason::Emergency));
        let lost = grants(&[], &[]);
        assert!(unallowed(&lost, BroadcastKind::Broadcast, general, false, &schools(&["s-1"])).is_some());
    }

    #[test]
    fn a_personal_message_needs_the_permission_and_beyond_general_its_reason() {
        let admin = grants(&[Role::SchoolAdmin], &["s-1"]);
        let at = schools(&["s-1"]);
        assert_eq!(unallowed(&admin, BroadcastKind::Personal, ContactReason::Behavior, false, &at), None);
        let viewer = grants(&[Role::SchoolViewer], &["s-1"]);
        assert!(unallowed(&viewer, BroadcastKind::Personal, ContactReason::General, false, &at).is_some());
    }

    #[test]
    fn only_a_teacher_s_grants_bind_a_broadcast_to_their_own_sections() {
        let at = schools(&["s-1"]);
        assert!(reaches_only_own_sections(&grants(&[Role::Teacher], &["s-1"]), BroadcastKind::Broadcast, &at));
        let admin = grants(&[Role::Teacher, Role::SchoolAdmin], &["s-1"]);
        assert!(!reaches_only_own_sections(&admin, BroadcastKind::Broadcast, &at));
        assert!(!reaches_only_own_sections(&grants(&[Role::DistrictAdmin], &[]), BroadcastKind::Broadcast, &at));
    }
}
