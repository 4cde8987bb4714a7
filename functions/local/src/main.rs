//! `schoolbell`: the local gateway and the command line.
//!
//! - `schoolbell serve [--data DIR] [--addr 127.0.0.1:8080] [--phone-region US]`
//! - `schoolbell demo --data DIR`: the whole flow in a minute
//! - `schoolbell token [--data DIR] --district D --role ROLE [--person P] [--school S] [--hours H]`
//! - `schoolbell import --district D [--name N] [--format oneroster|mapped] [--mapping F] PATH [--json]`
//! - `schoolbell gen-district --students N --seed S OUT`
//! - `schoolbell numbers assign --number N (--district D | --shared)`, `numbers release`, `numbers list`
//! - `schoolbell sis-keys create [--data DIR] --district D`: a SIS key, printed once as JSON `{"id", "key"}`
//! - `schoolbell sis-event [--data DIR] [--district D] FILE`: SIS events posted to the local store, sent, answered as JSON
//! - `schoolbell replies classify "TEXT"`
//! - `schoolbell receipts parse --dialect D FILE`, `schoolbell receipts verify ...`
//! - `schoolbell bench table|import|preferences|fanout|receipts|sis-events ...` (release build; see the README)

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use schoolbell::domain::{DistrictId, Region};
use schoolbell::services::NumberAssignment;
use schoolbell_local::token::{TokenRequest, mint};
use schoolbell_local::{DataDir, GatewayOptions, LocalGateway};

mod sis_keys_cmd;

/// mimalloc: the gateway allocates per JSON item read and written, where
/// glibc's allocator spent a quarter of the SIS-event bench's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Generate a small district (id `demo`), import it, set its text consent
    /// policy to `number_provided`, send an emergency (voice, text, email) and
    /// a non-emergency broadcast, let the simulated providers answer, and print
    /// the delivery reports; the last line is JSON. `serve --data DIR` serves it after.
    Demo {
        /// Data directory (use a fresh one).
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
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
    /// Import a OneRoster folder or zip, or a mapped CSV, into the data directory.
    Import {
        /// Data directory (the one `serve` uses).
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
        /// District to import into.
        #[arg(long)]
        district: String,
        /// Import definition name; runs of the same name diff against each other.
        /// Default: the path's base name.
        #[arg(long)]
        name: Option<String>,
        /// `oneroster` (folder or zip) or `mapped` (flat CSV with --mapping).
        #[arg(long, default_value = "oneroster")]
        format: String,
        /// For `mapped`: a preset (`schoolmessenger`, `clever`) or a TOML mapping file.
        #[arg(long)]
        mapping: Option<String>,
        /// The file or folder.
        path: PathBuf,
        /// Print one JSON object (counts, rejected rows, held, seconds).
        #[arg(long)]
        json: bool,
    },
    /// Carrier and mail receipts: what a provider's payload means.
    #[command(subcommand)]
    Receipts(Receipts),
    /// SMS replies: what the inbound webhook makes of a text.
    #[command(subcommand)]
    Replies(Replies),
    /// The deployment's sending numbers (an operator act: districts cannot
    /// name numbers, so none can take another's replies).
    #[command(subcommand)]
    Numbers(Numbers),
    /// SIS API keys of a district (the key a SIS posts events with).
    #[command(subcommand)]
    SisKeys(SisKeys),
    /// Post SIS events from a JSON file (`{"events": [...]}` or one event)
    /// to the local store as the SIS would, send what they cause, and print
    /// the answer (`accepted`, `merged`, `duplicates`, `rejected`).
    SisEvent {
        /// Data directory (the one `serve` uses; stop `serve` first).
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
        /// The district the events are for (the demo's is `demo`).
        #[arg(long, default_value = "demo")]
        district: String,
        /// The JSON file.
        file: PathBuf,
    },
    /// Write a realistic, deterministic OneRoster 1.1 district into a folder.
    GenDistrict {
        /// Students.
        #[arg(long, default_value_t = 1_000)]
        students: usize,
        /// Seed: the same seed writes the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output folder (created).
        out: PathBuf,
    },
    /// Measure a capability (release build recommended).
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Subcommand)]
enum Receipts {
    /// Print the normalized receipts a provider's payload holds, as a JSON array.
    Parse {
        /// twilio, telnyx, vonage, bandwidth, kannel, jasmin, smpp, sns, aws-eum, ses, sns-sms-log.
        #[arg(long)]
        dialect: String,
        /// The body as the provider sends it.
        file: PathBuf,
    },
    /// Check an SNS message's signature: prints `valid` (exit 0), or the
    /// reason it is not (exit 1).
    Verify {
        /// Only `sns`: the other providers sign request headers with a secret.
        #[arg(long)]
        dialect: String,
        /// The SNS message (HTTPS body or Lambda SNS event), headers allowed.
        file: PathBuf,
        /// Signing certificates by the file name of their SigningCertURL; a
        /// certificate not there is fetched from AWS over HTTPS.
        #[arg(long, env = "SCHOOLBELL_SNS_CERT_DIR")]
        cert_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Numbers {
    /// Assign a number to one district (`--district`) or to every district (`--shared`).
    Assign {
        /// Data directory (the one `serve` uses).
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
        /// The number (E.164, or national in the US).
        #[arg(long)]
        number: String,
        /// The district that texts from it and hears its replies.
        #[arg(long, conflicts_with = "shared", required_unless_present = "shared")]
        district: Option<String>,
        /// Every district may text from it.
        #[arg(long)]
        shared: bool,
    },
    /// Release a number: no district texts from it any more.
    Release {
        /// Data directory.
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
        /// The number.
        #[arg(long)]
        number: String,
    },
    /// Print every assigned number and its owner, as JSON.
    List {
        /// Data directory.
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum SisKeys {
    /// Make a key for a district and print it once, as JSON `{"id", "key"}`.
    Create {
        /// Data directory (the one `serve` uses).
        #[arg(long, default_value = ".schoolbell")]
        data: PathBuf,
        /// The district the key authenticates as.
        #[arg(long)]
        district: String,
    },
}

#[derive(Subcommand)]
enum Replies {
    /// Print `opt_out`, `opt_in`, `help` or `none` for a reply's text.
    Classify {
        /// The reply as received.
        text: String,
    },
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
    /// Preferences: import a generated district, run the batch tool for every
    /// student contact and again, resolve a one-grade and a district list.
    Preferences {
        /// Students in the generated district.
        #[arg(long, default_value_t = 50_000)]
        students: usize,
        /// Accepted for symmetry: the output is always JSON.
        #[arg(long)]
        json: bool,
    },
    /// Fan-out: a district where every guardian takes calls, texts and email,
    /// one emergency voice + text + email broadcast to all of them, timed
    /// until every message is sent.
    Fanout {
        /// Students in the generated district.
        #[arg(long, default_value_t = 50_000)]
        students: usize,
        /// Accepted for symmetry: the output is always JSON.
        #[arg(long)]
        json: bool,
    },
    /// Receipts: signed Twilio status callbacks posted over HTTP to the
    /// local gateway; prints throughput, latency and the deliveries applied.
    Receipts {
        /// Receipts to post (one per sent text).
        #[arg(long, default_value_t = 20_000)]
        receipts: usize,
        /// Posts in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Keep the table in memory instead of the data directory's file.
        #[arg(long)]
        in_memory: bool,
        /// Accepted for symmetry: the output is always JSON.
        #[arg(long)]
        json: bool,
    },
    /// SIS events: 10,000 absences (with replays and same-day tardies) of a
    /// generated district, sent end to end; prints JSON.
    SisEvents {
        /// Students in the generated district.
        #[arg(long, default_value_t = 50_000)]
        students: usize,
        /// Accepted for symmetry: the output is always JSON.
        #[arg(long)]
        json: bool,
    },
    /// Imports: generate a district, import it into a fresh file-backed
    /// store, re-import unchanged and with 1 % changed; prints JSON.
    Import {
        /// Students in the generated district.
        #[arg(long, default_value_t = 50_000)]
        students: usize,
        /// Accepted for symmetry: the output is always JSON.
        #[arg(long)]
        json: bool,
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

async fn import(
    data: PathBuf,
    district: String,
    name: Option<String>,
    format: String,
    mapping: Option<String>,
    path: PathBuf,
    json: bool,
) -> anyhow::Result<()> {
    use schoolbell::domain::{ImportMethod, RunState};
    use schoolbell_local::import_cmd::{ImportRequest, report, run};

    let method: ImportMethod = format.parse().context("--format")?;
    anyhow::ensure!(path.exists(), "{} does not exist", path.display());
    let name = match name {
        Some(name) => name,
        None => path
            .canonicalize()?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .context("give --name: the path has no base name")?,
    };
    let gateway = LocalGateway::open(&DataDir::open(data)?, GatewayOptions::default())?;
    let spinner = (!json && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
        let bar = indicatif::ProgressBar::new_spinner().with_message(format!("importing {}", path.display()));
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        bar
    });
    let outcome = run(&gateway, &ImportRequest { district, name, method, mapping }, &path).await;
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let run = outcome?;
    let summary = report(&run);
    if json {
        println!("{summary}");
    } else {
        eprintln!("import {} run {}: {} in {:.2}s", run.import, run.id, run.state, run.seconds);
        for (kind, counts) in run.counts.named() {
            eprintln!(
                "  {kind:<13} added {:>7}  updated {:>7}  unchanged {:>7}  removed {:>7}",
                counts.added, counts.updated, counts.unchanged, counts.removed
            );
        }
        eprintln!(
            "  rejected rows: {}  students without a messenger contact: {}",
            run.rejected_total, run.students_without_messenger
        );
        if let Some(reason) = &run.hold_reason {
            eprintln!("  HELD: {reason}; nothing was changed (approve or discard it through the API)");
        }
    }
    if run.state == RunState::Rejected {
        for problem in &run.rejected {
            eprintln!(
                "{} row {} {}: {}",
                problem.file,
                problem.row,
                problem.column.as_deref().unwrap_or(""),
                problem.reason
            );
        }
        anyhow::bail!("the file cannot be imported ({} problems)", run.rejected_total);
    }
    Ok(())
}

async fn numbers(command: Numbers) -> anyhow::Result<()> {
    let data = match &command {
        Numbers::Assign { data, .. } | Numbers::Release { data, .. } | Numbers::List { data } => data.clone(),
    };
    let gateway = LocalGateway::open(&DataDir::open(data)?, GatewayOptions::default())?;
    let numbers = gateway.services.sending_numbers();
    match command {
        Numbers::Assign { number, district, shared, .. } => {
            let district = district.map(DistrictId::parse).transpose().context("--district")?;
            let assigned = numbers.assign(&NumberAssignment { number, district, shared }).await?;
            let owner = assigned.district.map_or_else(|| "shared".to_string(), |d| d.to_string());
            println!("{} → {owner}", assigned.number);
        }
        Numbers::Release { number, .. } => println!("{} released", numbers.release(&number).await?.as_e164()),
        Numbers::List { .. } => println!("{}", serde_json::to_string(&numbers.list().await?)?),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    schoolbell::telemetry::init_local();
    match Cli::parse().command {
        Command::Serve { data, addr, phone_region } => {
            let region = Region::parse(&phone_region).context("--phone-region")?;
            let data = DataDir::open(data)?;
            let gateway = LocalGateway::open(&data, GatewayOptions { region, ..GatewayOptions::default() })?;
            let listener =
                tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
            gateway.serve(listener, shutdown_signal()).await
        }
        Command::Token { data, district, roles, person, schools, hours } => {
            let data = DataDir::open(data)?;
            println!("{}", mint(&data, &TokenRequest { district, roles, person, schools, hours })?);
            Ok(())
        }
        Command::Import { data, district, name, format, mapping, path, json } => {
            import(data, district, name, format, mapping, path, json).await
        }
        Command::Receipts(Receipts::Parse { dialect, file }) => {
            println!("{}", schoolbell_local::receipts_cmd::parse_file(&dialect, &file)?);
            Ok(())
        }
        Command::Receipts(Receipts::Verify { dialect, file, cert_dir }) => {
            match schoolbell_local::receipts_cmd::verify_file(&dialect, &file, cert_dir.as_deref()).await? {
                Ok(()) => {
                    println!("valid");
                    Ok(())
                }
                Err(reason) => {
                    println!("invalid: {reason}");
                    std::process::exit(1);
                }
            }
        }
        Command::Numbers(command) => numbers(command).await,
        Command::SisKeys(SisKeys::Create { data, district }) => {
            println!("{}", sis_keys_cmd::create(data, &district).await?);
            Ok(())
        }
        Command::Replies(Replies::Classify { text }) => {
            println!("{}", schoolbell::domain::classify_reply(&text));
            Ok(())
        }
        Command::GenDistrict { students, seed, out } => {
            let options = schoolbell_local::gen_district::GenOptions { students, seed, reachable: false };
            let summary = schoolbell_local::gen_district::generate(&options, &out)?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        Command::Bench(Bench::Preferences { students, json: _ }) => {
            let dir = std::env::temp_dir().join(format!("schoolbell-bench-preferences-{}", std::process::id()));
            let report = schoolbell_local::bench::preferences(students, &dir).await;
            let _ = std::fs::remove_dir_all(&dir);
            println!("{}", serde_json::to_string_pretty(&report?)?);
            Ok(())
        }
        Command::Demo { data } => {
            let summary = schoolbell_local::demo::run_demo(&data).await?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
        Command::Bench(Bench::Fanout { students, json: _ }) => {
            let dir = std::env::temp_dir().join(format!("schoolbell-bench-fanout-{}", std::process::id()));
            let report = schoolbell_local::bench_fanout::fanout(students, &dir).await;
            let _ = std::fs::remove_dir_all(&dir);
            println!("{}", serde_json::to_string_pretty(&report?)?);
            Ok(())
        }
        Command::Bench(Bench::Receipts { receipts, concurrency, in_memory, json: _ }) => {
            let dir = std::env::temp_dir().join(format!("schoolbell-bench-receipts-{}", std::process::id()));
            let report = schoolbell_local::bench_receipts::receipts(receipts, concurrency, in_memory, &dir).await;
            let _ = std::fs::remove_dir_all(&dir);
            println!("{}", serde_json::to_string_pretty(&report?)?);
            Ok(())
        }
        Command::Bench(Bench::SisEvents { students, json: _ }) => {
            let dir = std::env::temp_dir().join(format!("schoolbell-bench-sis-events-{}", std::process::id()));
            let report = schoolbell_local::bench_sis_events::sis_events(students, &dir).await;
            let _ = std::fs::remove_dir_all(&dir);
            println!("{}", serde_json::to_string(&report?)?);
            Ok(())
        }
        Command::SisEvent { data, district, file } => {
            let answer = schoolbell_local::sis_event_cmd::post(data, &district, &file).await?;
            println!("{}", serde_json::to_string(&answer)?);
            Ok(())
        }
        Command::Bench(Bench::Import { students, json: _ }) => {
            let dir = std::env::temp_dir().join(format!("schoolbell-bench-import-{}", std::process::id()));
            let report = schoolbell_local::bench::import(students, &dir).await;
            let _ = std::fs::remove_dir_all(&dir);
            println!("{}", serde_json::to_string_pretty(&report?)?);
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
