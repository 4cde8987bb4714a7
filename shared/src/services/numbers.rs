//! The operator's sending numbers: assign a number to one district or mark
//! it shared, release it, list them. An operator act (the local command
//! line, on the machine that holds the data), never a district's: no
//! district token reaches it, so no district can take another's number and
//! with it that district's replies and opt-outs.

use serde::{Deserialize, Serialize};

use crate::domain::{DistrictId, PhoneNumber, Region};
use crate::services::ServiceError;
use crate::store::{NumberOwner, SendingNumberStore, StoreError, Stores};

/// A sending number and who owns it, as the operator reads and writes it:
/// `{"number", "district"}` or `{"number", "shared": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberAssignment {
    /// The number (E.164 in answers; national numbers resolve in the deployment's region).
    pub number: String,
    /// The district that texts from it and hears its replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<DistrictId>,
    /// Every district may text from it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl NumberAssignment {
    fn of(number: String, owner: NumberOwner) -> Self {
        match owner {
            NumberOwner::District(district) => Self { number, district: Some(district), shared: false },
            NumberOwner::Shared => Self { number, district: None, shared: true },
        }
    }
}

/// The operator's use cases over sending numbers.
#[derive(Clone)]
pub struct SendingNumberService {
    store: SendingNumberStore,
    region: Region,
}

impl SendingNumberService {
    /// The service over the stores; `region` resolves national numbers.
    pub fn new(stores: &Stores, region: Region) -> Self {
        Self { store: stores.sending_numbers.clone(), region }
    }

    /// Assigns a number to its district, or shares it; answers the
    /// assignment with the number in E.164. A number held by someone else is
    /// a conflict; naming both or neither of a district and `shared` is invalid.
    pub async fn assign(&self, request: &NumberAssignment) -> Result<NumberAssignment, ServiceError> {
        let number = PhoneNumber::parse(&request.number, self.region)?;
        let owner = match (&request.district, request.shared) {
            (Some(district), false) => NumberOwner::District(district.clone()),
            (None, true) => NumberOwner::Shared,
            _ => return Err(ServiceError::invalid("name either a `district` or `shared: true`")),
        };
        match self.store.assign(&number, &owner).await {
            Ok(()) => {
                tracing::info!(%number, shared = request.shared, "sending number assigned");
                Ok(NumberAssignment::of(number.as_e164().to_string(), owner))
            }
            Err(StoreError::AlreadyExists) => Err(ServiceError::Conflict(format!(
                "{} is assigned elsewhere already; release it first (`schoolbell numbers release`)",
                number.as_e164()
            ))),
            Err(other) => Err(other.into()),
        }
    }

    /// Releases a number: no district texts from it or hears its replies.
    pub async fn release(&self, number: &str) -> Result<PhoneNumber, ServiceError> {
        let number = PhoneNumber::parse(number, self.region)?;
        self.store.release(&number).await?;
        tracing::info!(%number, "sending number released");
        Ok(number)
    }

    /// Every assigned number (E.164) with its owner, in number order.
    pub async fn list(&self) -> Result<Vec<NumberAssignment>, ServiceError> {
        Ok(self.store.all().await?.into_iter().map(|(number, owner)| NumberAssignment::of(number, owner)).collect())
    }
}
