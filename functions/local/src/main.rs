//! `schoolbell`: the local gateway and the command line.
//!
//! - `schoolbell serve [--data DIR] [--addr 127.0.0.1:8080]`
//! - `schoolbell token [--data DIR] --district D --role ROLE [--person P] [--school S]`
//! - `schoolbell bench table [--items N] [--in-memory]`

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use schoolbell::domain::Region;
use schoolbell_local::token::{TokenRequest, mint};
use schoolbell_local::{DataDir, LocalGateway};

#[derive(Parser)]
#[command(name = "schoolbell", version, about = "schoolbell's local gateway and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every function in one process until Ctrl-C or SIGTERM.
    Serve {
        /// Data directory (store, secret, outbox, files); created on first run.
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Region that resolves national phone numbers (ISO 3166 code).
        #[arg(long, default_value = "US")]
        phone_region: String,
    },
    /// Print a bearer token that `serve --data DIR` accepts.
    Token {
        /// Data directory whose secret signs the token.
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
        /// District the token is for.
        #[arg(long)]
        district: String,
        /// Role (repeatable): district_admin, school_admin, technical_school_admin,
        /// school_viewer, teacher, guardian, student.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The user's person id.
        #[arg(long)]
        person: Option<String>,
        /// School the school-level roles cover (repeatable).
        #[arg(long = "school")]
        schools: Vec<String>,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 12)]
        hours: u32,
    },
    /// Measure a capability (release build recommended).
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Subcommand)]
enum Bench {
    /// The embedded table: batch puts, gets, paged index queries,
    /// conditional puts, transactions; prints JSON with the request counts.
    Table {
        /// Items to write.
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        /// Keep the table in memory instead of a file in a temp directory.
        #[arg(long)]
        in_memory: bool,
    },
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    schoolbell::telemetry::init_local();
    match Cli::parse().command {
        Command::Serve { data, addr, phone_region } => {
            let region = Region::parse(&phone_region).context("--phone-region")?;
            let data = DataDir::open(data)?;
            let gateway = LocalGateway::open(&data, region)?;
            let listener =
                tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
            gateway.serve(listener, shutdown_signal()).await
        }
        Command::Token { data, district, roles, person, schools, hours } => {
            let data = DataDir::open(data)?;
            println!("{}", mint(&data, &TokenRequest { district, roles, person, schools, hours })?);
            Ok(())
        }
        Command::Bench(Bench::Table { items, in_memory }) => {
            let dir = std::env::temp_dir().join(format!("schoolbell-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let report = schoolbell_local::bench::table(items, (!in_memory).then_some(dir.as_path())).await;
            let _ = std::fs::remove_dir_all(&dir);
            println!("{}", serde_json::to_string_pretty(&report?)?);
            Ok(())
        }
    }
}
