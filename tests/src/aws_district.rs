//! The family fixture imported into DynamoDB on moto (through S3 and the
//! import service, as the import-ingest function would), for AWS-path tests.

use std::sync::Arc;

use aws_config::SdkConfig;
use schoolbell::adapters::aws::{DynamoTable, S3FileStore, create_table};
use schoolbell::domain::DistrictId;
use schoolbell::ports::{FileStore, FixedClock, RandomIds};
use schoolbell::root::{Ports, Services, Wiring};
use schoolbell::services::{NewImport, upload_key};

use crate::family_fixture::{CSV, MAPPING};
use crate::moto;

/// A fresh table on moto holding the family fixture in `district`.
pub async fn family_district_on_dynamodb(config: &SdkConfig, district: &str) -> (Arc<DynamoTable>, DistrictId) {
    let dynamo = aws_sdk_dynamodb::Client::new(config);
    let table_name = moto::unique_name("district");
    create_table(&dynamo, &table_name).await.unwrap_or_else(|e| panic!("{e}"));
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build());
    let bucket = moto::unique_name("district");
    s3.create_bucket().bucket(&bucket).send().await.unwrap_or_else(|e| panic!("{e}"));
    let table = Arc::new(DynamoTable::new(dynamo, table_name));
    let files = Arc::new(S3FileStore::new(s3, bucket, None));
    let imports = Services::new(
        Ports::new(table.clone(), Arc::new(FixedClock::midday_today()), Arc::new(RandomIds)).with_files(files.clone()),
        Wiring::default(),
    )
    .imports()
    .unwrap_or_else(|e| panic!("{e}"));
    let district = DistrictId::parse(district).unwrap_or_else(|e| panic!("{e}"));
    let new = NewImport {
        name: "families".into(),
        method: "mapped".parse().unwrap_or_else(|e| panic!("{e}")),
        trigger: "manual".parse().unwrap_or_else(|e| panic!("{e}")),
        schedule: None,
        mapping: Some(MAPPING.into()),
        hold_threshold_percent: None,
    };
    imports.create_in(&district, new).await.unwrap_or_else(|e| panic!("{e}"));
    let key = upload_key(&district, &"families".parse().unwrap_or_else(|e| panic!("{e}")), "families.csv");
    files.put(&key, CSV.as_bytes().to_vec().into()).await.unwrap_or_else(|e| panic!("{e}"));
    imports.file_arrived(&key).await.unwrap_or_else(|e| panic!("{e}"));
    imports.run_in(&district, "families").await.unwrap_or_else(|e| panic!("{e}"));
    (table, district)
}
