//! Starts the server, or applies migrations and exits.

use clap::{Parser, Subcommand};
use mimalloc::MiMalloc;

use todo_server::config::{Config, LogFormat};
use todo_server::operations::logging;
use todo_server::{Application, db};

/// Each password hash allocates 19 MiB (argon2id's memory cost). glibc's malloc keeps such
/// buffers in per-thread arenas, so a burst of logins left the process holding hundreds of
/// megabytes; mimalloc returns freed memory to the system.
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

/// Private task lists with JWT access tokens and rotating refresh tokens.
///
/// Configured through environment variables (and `.env`); see `.env.example`.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage the Ed25519 keys that sign access tokens with JWT_ALGORITHM=EdDSA.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a signing key: published at /.well-known/jwks.json at once, signing after
    /// SIGNING_KEY_PROPAGATION_SECONDS; older keys stay published until their tokens expire.
    Rotate,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // A missing .env is fine; a broken one is worth knowing about.
    let dotenv = dotenvy::dotenv();
    // Settled before the configuration is read, so its errors are logged in the chosen format;
    // a bad LOG_FORMAT is reported by the configuration itself.
    let log_format = LogFormat::parse(std::env::var("LOG_FORMAT").ok().as_deref());
    logging::init(log_format.unwrap_or_default());
    if let Err(error) = dotenv
        && !error.not_found()
    {
        tracing::warn!(%error, "could not read .env");
    }

    let result = Config::from_env()
        .map_err(todo_server::StartupError::from)
        .and_then(|config| match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(&config),
            Command::Migrate => migrate(&config),
            Command::Keys {
                command: KeysCommand::Rotate,
            } => rotate_keys(&config),
        });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("todo-server: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn serve(config: &Config) -> Result<(), todo_server::StartupError> {
    actix_web::rt::System::new().block_on(async {
        let app = Application::build(config).await?;
        app.run_until_stopped().await?;
        tracing::info!("stopped: no more connections accepted, requests in flight finished");
        Ok(())
    })
}

fn migrate(config: &Config) -> Result<(), todo_server::StartupError> {
    let pool = db::build_pool(&config.database.url, 1)?;
    let applied = db::run_migrations(&pool)?;
    println!(
        "applied {} migration(s) to the {} database",
        applied.len(),
        config.database.url.backend_name()
    );
    Ok(())
}

fn rotate_keys(config: &Config) -> Result<(), todo_server::StartupError> {
    let pool = db::build_pool(&config.database.url, 1)?;
    db::run_migrations(&pool)?;
    let mut connection = pool.get().map_err(db::MigrationError::from)?;
    let key = todo_server::jwks::rotate(&mut connection, config.tokens.key_propagation)
        .map_err(todo_server::StartupError::SigningKeys)?;
    println!(
        "added signing key {}: published now, signs from {} UTC",
        key.kid, key.active_from
    );
    if config.tokens.algorithm != todo_server::config::AccessAlgorithm::EdDsa {
        eprintln!("note: JWT_ALGORITHM is not EdDSA, so the key signs nothing until it is");
    }
    Ok(())
}
