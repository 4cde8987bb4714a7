//! `schoolbell import`: runs an import from a local file or folder into the
//! data directory's store, through the same service the API and the S3
//! trigger use.

use std::io::Write as _;
use std::path::Path;

use bytes::Bytes;
use schoolbell::domain::{DistrictId, ImportId, ImportMethod, ImportRun, ImportTrigger, RunState};
use schoolbell::ports::FileStore;
use schoolbell::services::{NewImport, ServiceError, counts_json, upload_key};
use serde_json::json;

use crate::LocalGateway;

/// What to import.
#[derive(Debug, Clone)]
#[allow(missing_docs)] // fields named for what they hold
pub struct ImportRequest {
    pub district: String,
    /// Import definition name (created on first use).
    pub name: String,
    /// OneRoster (folder or zip) or mapped CSV.
    pub method: ImportMethod,
    /// For mapped: a preset name or a TOML file path.
    pub mapping: Option<String>,
}

/// Zips a OneRoster folder's CSV files in memory (stored, not compressed),
/// so a folder travels through the file store like an uploaded zip.
pub fn zip_folder(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if path.is_file() && is_csv {
            writer.start_file(entry.file_name().to_string_lossy(), options)?;
            writer.write_all(&std::fs::read(&path)?)?;
        }
    }
    Ok(writer.finish()?.into_inner())
}

/// Runs the import and returns the run. The definition is created on first
/// use; later runs of the same name diff against the previous one.
pub async fn run(gateway: &LocalGateway, request: &ImportRequest, path: &Path) -> anyhow::Result<ImportRun> {
    let district = DistrictId::parse(request.district.clone())?;
    let import = ImportId::parse(request.name.clone())
        .map_err(|e| anyhow::anyhow!("--name: {e} (give --name when the file name is not a valid id)"))?;
    let service = gateway.import_service();
    let mapping = match &request.mapping {
        Some(m) if Path::new(m).is_file() => Some(std::fs::read_to_string(m)?),
        other => other.clone(),
    };
    let new = NewImport {
        name: import.to_string(),
        method: request.method,
        trigger: ImportTrigger::Manual,
        schedule: None,
        mapping,
        hold_threshold_percent: None,
    };
    match service.create_in(&district, new).await {
        Ok(_) | Err(ServiceError::Conflict(_)) => {}
        Err(other) => return Err(other.into()),
    }
    let (content, file_name) = if path.is_dir() {
        (zip_folder(path)?, "folder.zip".to_string())
    } else {
        (std::fs::read(path)?, path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
    };
    let stamp = gateway.clock().now().format("%Y%m%dT%H%M%S%.3f").to_string();
    let key = upload_key(&district, &import, &format!("{stamp}-{}", sanitize(&file_name)));
    gateway.files.put(&key, Bytes::from(content)).await?;
    service.file_arrived(&key).await?;
    Ok(service.run_in(&district, import.as_str()).await?)
}

fn sanitize(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

/// The run as the CLI contract prints it.
pub fn report(run: &ImportRun) -> serde_json::Value {
    let mut value = json!({
        "import": run.import,
        "run": run.id,
        "state": run.state,
        "held": run.state == RunState::Held,
        "hold_reason": run.hold_reason,
        "seconds": (run.seconds * 1000.0).round() / 1000.0,
        "rejected": run.rejected,
        "rejected_total": run.rejected_total,
        "warnings": run.warnings,
        "students_without_messenger": run.students_without_messenger,
    });
    if let (serde_json::Value::Object(map), serde_json::Value::Object(counts)) = (&mut value, counts_json(&run.counts))
    {
        map.extend(counts);
    }
    value
}
