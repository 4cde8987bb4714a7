//! Implementations of the ports: `local` for one process on a laptop,
//! `aws` (feature `aws`) for Lambda. Services never know which is which.

#[cfg(feature = "aws")]
pub mod aws;
pub mod local;
