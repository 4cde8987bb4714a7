//! The replies inbox: texts families sent back that were no keyword (STOP,
//! START, HELP), kept for the district's staff, newest first. They carry
//! phone numbers, so only district admins and staff who may see the
//! clean-up list read them — and a school-level reader only the replies of
//! families of the schools where they may (each reply keeps the schools of
//! the people at its number when it arrived).

use crate::domain::Principal;
use crate::services::ServiceError;
use crate::services::roles::RoleService;
use crate::store::{ReplyStore, StoredReply, Stores};

/// Most replies one read answers.
pub const MAX_INBOX_PAGE: u32 = 500;

/// The inbox use case.
#[derive(Clone)]
pub struct InboxService {
    replies: ReplyStore,
    roles: RoleService,
}

impl InboxService {
    /// The service over the stores; `roles` answers who may read numbers.
    pub fn new(stores: &Stores, roles: RoleService) -> Self {
        Self { replies: stores.replies.clone(), roles }
    }

    /// The newest replies, `{from, to, body, provider, received_at}` each.
    pub async fn recent(&self, caller: &Principal, limit: u32) -> Result<Vec<StoredReply>, ServiceError> {
        let grants = self.roles.grants(caller).await?;
        if !grants.is_district_admin() && !grants.schools().iter().any(|s| grants.may_view_cleanup(s)) {
            return Err(ServiceError::Forbidden("your role may not read SMS replies".into()));
        }
        let replies = self.replies.recent(&caller.district, limit.clamp(1, MAX_INBOX_PAGE)).await?;
        if grants.is_district_admin() {
            return Ok(replies);
        }
        Ok(replies.into_iter().filter(|reply| reply.schools.iter().any(|s| grants.may_view_cleanup(s))).collect())
    }
}
