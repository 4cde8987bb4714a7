//! `schoolbell receipts parse --dialect D FILE`: the operator's tool to see
//! what a provider's receipt body means, as the normalized JSON array the
//! webhooks would act on.

use std::path::Path;

use anyhow::Context as _;
use schoolbell::receipts::{Dialect, parse};

/// Reads the body in `path` as `dialect` (a `--dialect` name such as
/// `twilio` or `aws-eum`) and returns its receipts as a pretty JSON array.
pub fn parse_file(dialect: &str, path: &Path) -> anyhow::Result<String> {
    let dialect: Dialect = dialect.parse()?;
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let receipts = parse(dialect, &body)?;
    Ok(serde_json::to_string_pretty(&receipts)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_prints_as_the_contract_json_array() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("dlr.txt");
        std::fs::write(
            &path,
            "id:4411 sub:001 dlvrd:000 submit date:2402011200 done date:2402011201 stat:EXPIRED err:000",
        )?;
        let printed: serde_json::Value = serde_json::from_str(&parse_file("smpp", &path)?)?;
        assert_eq!(printed[0]["provider_message_id"], "4411");
        assert_eq!(printed[0]["status"], "turned_off");
        assert_eq!(printed[0]["final"], true);
        assert_eq!(printed[0]["kind"], "sms");
        Ok(())
    }

    #[test]
    fn an_unknown_dialect_or_a_missing_file_is_an_error() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("absent.json");
        assert!(parse_file("carrier-pigeon", &path).is_err());
        assert!(parse_file("twilio", &path).is_err());
        Ok(())
    }
}
