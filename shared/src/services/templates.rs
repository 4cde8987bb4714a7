//! A district's saved message templates: district admins create, replace
//! and delete them; the district's staff read them (to send with one).
//! At most one template words each SIS event type, and a broadcast names a
//! template in place of its content.

use std::sync::Arc;

use crate::domain::{MessageTemplate, Principal, TemplateInput};
use crate::ports::{Clock, Ids};
use crate::services::ServiceError;
use crate::services::roles::RoleService;
use crate::store::{Stores, TemplateStore};

/// The most templates a district keeps.
pub const MAX_TEMPLATES: usize = 200;

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no template `{}`", id.chars().take(40).collect::<String>()))
}

/// The template use cases.
#[derive(Clone)]
pub struct TemplateService {
    store: TemplateStore,
    roles: RoleService,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn Ids>,
}

impl TemplateService {
    /// The service over the stores.
    pub fn new(stores: &Stores, roles: RoleService, clock: Arc<dyn Clock>, ids: Arc<dyn Ids>) -> Self {
        Self { store: stores.templates.clone(), roles, clock, ids }
    }

    async fn district_admin(&self, caller: &Principal) -> Result<(), ServiceError> {
        if self.roles.grants(caller).await?.is_district_admin() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("only district admins change templates".into()))
        }
    }

    async fn staff(&self, caller: &Principal) -> Result<(), ServiceError> {
        let grants = self.roles.grants(caller).await?;
        if grants.is_district_admin() || !grants.schools().is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("templates are for the district's staff".into()))
        }
    }

    /// Checks a template against the district's others: one per event type.
    async fn fits(&self, caller: &Principal, template: &MessageTemplate) -> Result<(), ServiceError> {
        let all = self.store.all(&caller.district).await?;
        if all.len() >= MAX_TEMPLATES && !all.iter().any(|t| t.id == template.id) {
            return Err(ServiceError::Conflict(format!("a district keeps at most {MAX_TEMPLATES} templates")));
        }
        if let Some(kind) = template.event_type
            && let Some(other) = all.iter().find(|t| t.event_type == Some(kind) && t.id != template.id)
        {
            return Err(ServiceError::Conflict(format!("template `{}` already words `{kind}` events", other.id)));
        }
        Ok(())
    }

    /// Saves a new template (district admins); answers it with its id.
    pub async fn create(&self, caller: &Principal, input: &TemplateInput) -> Result<MessageTemplate, ServiceError> {
        self.district_admin(caller).await?;
        let template = input.validate(&self.ids.next_id(), &caller.subject, self.clock.now())?;
        self.fits(caller, &template).await?;
        if !self.store.save(&caller.district, &template, false).await? {
            return Err(ServiceError::Conflict("a template id collided; create it again".into()));
        }
        tracing::info!(district = %caller.district, template = %template.id, "template created");
        Ok(template)
    }

    /// Replaces a template (district admins).
    pub async fn replace(
        &self,
        caller: &Principal,
        id: &str,
        input: &TemplateInput,
    ) -> Result<MessageTemplate, ServiceError> {
        self.district_admin(caller).await?;
        let template = input.validate(id, &caller.subject, self.clock.now())?;
        self.fits(caller, &template).await?;
        if !self.store.save(&caller.district, &template, true).await? {
            return Err(not_found(id));
        }
        Ok(template)
    }

    /// One template (the district's staff).
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<MessageTemplate, ServiceError> {
        self.staff(caller).await?;
        self.store.get(&caller.district, id).await?.ok_or_else(|| not_found(id))
    }

    /// Every template of the district (the district's staff).
    pub async fn list(&self, caller: &Principal) -> Result<Vec<MessageTemplate>, ServiceError> {
        self.staff(caller).await?;
        Ok(self.store.all(&caller.district).await?)
    }

    /// Deletes a template (district admins). Broadcasts made with it keep
    /// their content.
    pub async fn delete(&self, caller: &Principal, id: &str) -> Result<(), ServiceError> {
        self.district_admin(caller).await?;
        if self.store.delete(&caller.district, id).await? { Ok(()) } else { Err(not_found(id)) }
    }
}
