//! Local development tokens, signed with the data directory's secret.

use schoolbell::auth::{Claims, mint_hs256};
use schoolbell::domain::{DistrictId, Role, SchoolId};

use crate::DataDir;

/// What a development token says.
#[derive(Debug, Clone)]
#[allow(missing_docs)] // fields named for what they hold
pub struct TokenRequest {
    pub district: String,
    /// Role names (`district_admin`, `school_admin` ...).
    pub roles: Vec<String>,
    /// The user id; defaults to `local-<first role>`.
    pub person: Option<String>,
    /// Schools of the school-level roles.
    pub schools: Vec<String>,
    /// Lifetime in hours.
    pub hours: u32,
}

/// Mints a token that `serve` over the same data directory accepts. Names
/// are checked so a typo fails here, not as a puzzling 403 later.
pub fn mint(data: &DataDir, request: &TokenRequest) -> anyhow::Result<String> {
    DistrictId::parse(request.district.clone())?;
    for role in &request.roles {
        role.parse::<Role>()?;
    }
    for school in &request.schools {
        SchoolId::parse(school.clone())?;
    }
    anyhow::ensure!(!request.roles.is_empty(), "give at least one --role");
    anyhow::ensure!((1..=24 * 30).contains(&request.hours), "--hours must be between 1 and 720");
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: request.person.clone().unwrap_or_else(|| format!("local-{}", request.roles[0])),
        district: request.district.clone(),
        roles: request.roles.clone(),
        schools: request.schools.clone(),
        exp: now + i64::from(request.hours) * 3600,
        iat: Some(now),
        iss: None,
    };
    Ok(mint_hs256(&data.signing_secret()?, &claims)?)
}
