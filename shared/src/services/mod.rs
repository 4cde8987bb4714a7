//! Use cases, one a module. Each takes a `domain::Principal` (who asks),
//! checks what they may do, and works through the store and the ports.
//!
//! - `people`: create and read people with their contact points.

mod error;
mod people;

pub use error::ServiceError;
pub use people::PeopleService;
