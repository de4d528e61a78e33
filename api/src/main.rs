// The merged query root nests more async layouts than rustc's default limit allows in release.
#![recursion_limit = "256"]

use anyhow::Context;
use clap::{Parser, Subcommand};
use hongfan::{
    config::{Environment, Settings},
    graphql,
    identity::{
        self,
        roles::grant_role_by_openid,
        tokens::{Caller, TokenKeys},
    },
    infra::db,
    jobs::Job,
    orders::stats,
    seed,
    startup::{Application, dispatcher},
};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};
use uuid::Uuid;

// A request allocates and frees ~1,400 small blocks; glibc's per-thread cache holds 7 of a
// size, so most of them took its slow path (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "hongfan", about = "红帆 community-service backend", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (default). On an empty embedded SQLite database, loads the demo data.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo data (communities, categories, demo accounts) if the database has none.
    SeedDemo,
    /// Rebuild governanceStats' rollup of closed orders from the orders table, after orders
    /// were loaded around the API (as the benchmark's seed does).
    RebuildStats,
    /// Run one periodic job once, now (delivery, activity-reminders, order-alerts,
    /// wish-expiry, points-expiry, redemption-expiry), as the server runs it on its period.
    RunJob {
        #[arg(value_parser = parse_job)]
        job: Job,
    },
    /// Print the GraphQL schema (SDL) that schema.graphql must match.
    PrintSchema,
    /// Print an access token for the user with this openid, signed with JWT_SECRET. For
    /// operators (support, load tests); anyone with the secret can do the same.
    IssueToken {
        #[arg(long)]
        openid: String,
    },
    /// Grant a role to the user with this openid, creating the account if needed.
    /// Bootstraps the first ADMIN.
    GrantRole {
        #[arg(long)]
        openid: String,
        #[arg(long, value_parser = parse_role)]
        role: entity::enums::Role,
        #[arg(long)]
        community: Option<Uuid>,
    },
}

fn parse_role(value: &str) -> Result<entity::enums::Role, String> {
    use entity::enums::Role;
    match value.to_ascii_uppercase().as_str() {
        "PARTY_MEMBER" => Ok(Role::PartyMember),
        "STAFF" => Ok(Role::Staff),
        "MERCHANT" => Ok(Role::Merchant),
        "ADMIN" => Ok(Role::Admin),
        "GRID_WORKER" => Ok(Role::GridWorker),
        _ => Err("expected PARTY_MEMBER, STAFF, MERCHANT, GRID_WORKER or ADMIN".to_owned()),
    }
}

fn parse_job(value: &str) -> Result<Job, String> {
    Job::named(value).ok_or_else(|| {
        let names: Vec<_> = Job::ALL.iter().map(|job| job.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn init_tracing(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    if settings.hongfan_env == Environment::Production {
        registry.with(fmt::layer().json()).init();
    } else {
        registry.with(fmt::layer()).init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::PrintSchema) = cli.command {
        print!("{}", graphql::sdl());
        return Ok(());
    }
    let settings = Settings::from_env()?;
    init_tracing(&settings);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let db = db::connect(&settings.database_url).await?;
            db::migrate(&db).await
        }
        Command::SeedDemo => {
            let db = db::connect(&settings.database_url).await?;
            db::migrate(&db).await?;
            let seeded = seed::demo(&db).await?;
            if dispatcher(&settings)?.settle(seeded).await {
                tracing::info!("demo data loaded");
            } else {
                tracing::info!("the database already has communities; nothing seeded");
            }
            Ok(())
        }
        Command::RebuildStats => {
            let db = db::connect(&settings.database_url).await?;
            db::migrate(&db).await?;
            stats::rebuild(&db).await?;
            tracing::info!("order statistics rebuilt");
            Ok(())
        }
        Command::RunJob { job } => {
            // Built as a server is, to run with the same state, but never serving.
            let mut settings = settings;
            settings.hongfan_bind = ([127, 0, 0, 1], 0).into();
            settings.hongfan_metrics_bind = None;
            let app = Application::build(&settings).await?;
            let count = app
                .jobs()
                .run(job)
                .await
                .with_context(|| format!("job {} failed", job.name()))?;
            println!("{}: {count} changed", job.name());
            Ok(())
        }
        Command::GrantRole {
            openid,
            role,
            community,
        } => {
            let db = db::connect(&settings.database_url).await?;
            db::migrate(&db).await?;
            let granted = grant_role_by_openid(&db, &openid, role, community).await?;
            let user = dispatcher(&settings)?.settle(granted).await;
            println!("granted {role:?} to user {} ({openid})", user.id);
            Ok(())
        }
        Command::IssueToken { openid } => {
            let secret = settings.jwt_secret.as_ref().context(
                "set JWT_SECRET to the servers' secret: a token signed otherwise is useless",
            )?;
            let db = db::connect(&settings.database_url).await?;
            let user = identity::find_or_create_user(&db, &openid).await?;
            let keys = TokenKeys::new(secret.expose().as_bytes(), settings.access_token_ttl());
            let caller = Caller {
                user_id: user.id,
                session_id: Uuid::now_v7(),
            };
            let (token, _) = keys.issue_access(caller, chrono::Utc::now())?;
            println!("{token}");
            Ok(())
        }
        Command::PrintSchema => Ok(()),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(&settings).await?;
    // Only the embedded database seeds itself: a production database is never touched unasked.
    let state = app.state();
    if !settings.is_postgres() && state.dispatcher.settle(seed::demo(&state.db).await?).await {
        tracing::info!("empty embedded database: demo data loaded (see README for demo accounts)");
    }
    let address = app.local_addr().context("reading the bound address")?;
    tracing::info!("serving GraphQL on http://{address}/graphql");
    app.serve().await.context("serving HTTP")
}
