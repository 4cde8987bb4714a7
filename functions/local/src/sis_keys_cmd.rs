//! `schoolbell sis-keys create --data DIR --district D`: a SIS key for a
//! district of the local store, printed once as JSON `{"id", "key"}`, for
//! trying the SIS routes against `schoolbell serve --data DIR` without
//! first minting an admin token. The act of whoever holds the data
//! directory (as `schoolbell numbers` is); the key is sealed with the data
//! directory's `cursor.key`, so `serve` verifies its signatures too.

use std::path::PathBuf;

use anyhow::Context as _;
use schoolbell::domain::DistrictId;
use schoolbell_local::{DataDir, GatewayOptions, LocalGateway};

/// Who the key's record says made it.
const CREATED_BY: &str = "schoolbell sis-keys create";

/// Makes a key for `district` in the store under `data`; answers the JSON
/// line to print (the only place the key is ever shown).
pub async fn create(data: PathBuf, district: &str) -> anyhow::Result<String> {
    let district = DistrictId::parse(district).context("--district")?;
    let gateway = LocalGateway::open(&DataDir::open(data)?, GatewayOptions::default())?;
    let issued = gateway.services.sis_keys().issue(&district, CREATED_BY).await?;
    Ok(serde_json::to_string(&issued)?)
}
