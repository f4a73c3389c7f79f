//! `partnerhub`: parse the command line, set up logging, run the command. Failures print one
//! line and exit non-zero.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::Parser;
use hub::cli::{
    BillingCommand, Cli, Command, PartnerCommand, RateCardCommand, ServeArgs, StaffCommand,
};
use hub::clock::{Clock, SystemClock};
use hub::config::Config;
use hub::config::LogFormat;
use hub::services::audit::Actor;
use hub::state::AppState;
use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = err.print();
                return if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            let rendered = err.to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("{first} (see 'partnerhub --help')");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PARTNERHUB_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

async fn state_for(args: &ServeArgs) -> anyhow::Result<AppState> {
    let config = args.config()?;
    state_from(config).await
}

async fn state_from(config: Config) -> anyhow::Result<AppState> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(hub::build_state(config, clock).await?)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let config = args.config()?;
            init_tracing(config.log_format);
            serve(args, None).await
        }
        Command::Demo {
            serve: mut args,
            password,
        } => {
            args.dev = true;
            // Development mode: a fresh PostgreSQL database gets its schema without a separate
            // `partnerhub migrate`.
            args.migrate = true;
            let config = args.config()?;
            init_tracing(config.log_format);
            let password = match password {
                Some(p) if p.chars().count() >= domain::NewPassword::MIN_CHARS => p,
                Some(_) => anyhow::bail!(
                    "--password must be at least {} characters",
                    domain::NewPassword::MIN_CHARS
                ),
                None => domain::SecretToken::generate()
                    .expose()
                    .chars()
                    .take(16)
                    .collect(),
            };
            serve(args, Some(password)).await
        }
        Command::Migrate(store) => {
            let url = store.database_url()?;
            hub::open_db(url.expose(), true).await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::Config(args) => {
            let config = args.config()?;
            println!("{}", serde_json::to_string_pretty(&config)?);
            Ok(())
        }
        Command::Staff {
            command:
                StaffCommand::Create {
                    serve: args,
                    email,
                    name,
                },
        } => {
            let email = domain::Email::parse(&email)?;
            let name = domain::PersonName::parse(&name)?;
            eprintln!("Password for {email} (one line on standard input):");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            let line = line.trim_end_matches(['\r', '\n']);
            let password = domain::NewPassword::parse(line, line)?;
            let state = state_for(&args).await?;
            hub::services::auth::upsert_staff(&state, &email, name.as_str(), &password)
                .await
                .map_err(app_error)?;
            println!(
                "Staff account {email} is ready. Log in at {}",
                state.config.link("/staff/login")
            );
            Ok(())
        }
        Command::Partner {
            command:
                PartnerCommand::Create {
                    serve: args,
                    name,
                    owner_email,
                    currency,
                    payment_model,
                },
        } => {
            let request = hub::services::partners::PartnerRequest::parse(
                &name,
                &owner_email,
                &currency,
                &payment_model,
            )
            .map_err(|errors| {
                anyhow::anyhow!(
                    errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            })?;
            let state = state_for(&args).await?;
            let created = hub::services::partners::create(&state, &request, &Actor::System)
                .await
                .map_err(app_error)?;
            println!("Partner ID: {}", created.id);
            println!(
                "Owner invitation link (valid 7 days): {}",
                created.invitation_link
            );
            Ok(())
        }
        Command::CheckLedger(args) => {
            let state = state_for(&args).await?;
            let found = hub::services::billing::check_ledger(&state)
                .await
                .map_err(app_error)?;
            if found.is_empty() {
                println!(
                    "The ledger holds: every balance is the sum of its entries and every chain is intact."
                );
                return Ok(());
            }
            for d in &found {
                eprintln!(
                    "account {} of partner {}: {}",
                    d.account_id, d.partner_id, d.problem
                );
            }
            anyhow::bail!(
                "the ledger does not hold: {} account(s) differ",
                found.len()
            )
        }
        Command::Billing { command } => billing(command).await,
        Command::RateCard { command } => rate_card(command).await,
    }
}

fn partner_id(input: &str) -> anyhow::Result<domain::PartnerId> {
    domain::PartnerId::parse(input.trim())
        .map_err(|_| anyhow::anyhow!("--partner: {input:?} is not a partner id (like a1B2c3PA)"))
}

fn day(input: &str) -> anyhow::Result<i64> {
    domain::calendar::day_start_ms(input)
        .ok_or_else(|| anyhow::anyhow!("--effective-from: {input:?} is not a date like 2026-01-01"))
}

async fn billing(command: BillingCommand) -> anyhow::Result<()> {
    match command {
        BillingCommand::Enable {
            serve,
            partner,
            auth_international,
        } => {
            let partner = partner_id(&partner)?;
            let state = state_for(&serve).await?;
            hub::services::billing::enable(&state, &partner, &Actor::System)
                .await
                .map_err(app_error)?;
            if auth_international {
                hub::services::billing::set_auth_international(
                    &state,
                    &partner,
                    true,
                    &Actor::System,
                )
                .await
                .map_err(app_error)?;
            }
            println!(
                "Billing is on for {partner}: its numbers send only while its balance is above 0."
            );
            Ok(())
        }
        BillingCommand::Adjust {
            serve,
            partner,
            client,
            amount,
            reason,
        } => {
            let partner = partner_id(&partner)?;
            let amount = domain::Micros::parse_major(&amount)
                .map_err(|e| anyhow::anyhow!("--amount: {amount:?} {e}"))?;
            let holder = match client {
                None => store::billing::Holder::Partner,
                Some(c) => store::billing::Holder::Client(
                    domain::ClientId::parse(c.trim())
                        .map_err(|_| anyhow::anyhow!("--client: {c:?} is not a client id"))?,
                ),
            };
            let state = state_for(&serve).await?;
            let balance = hub::services::billing::adjust(
                &state,
                &partner,
                &holder,
                amount,
                &reason,
                &Actor::System,
            )
            .await
            .map_err(app_error)?;
            println!("Adjusted by {amount}; the balance is now {balance}.");
            Ok(())
        }
    }
}

async fn rate_card(command: RateCardCommand) -> anyhow::Result<()> {
    match command {
        RateCardCommand::Import {
            serve,
            file,
            currency,
            effective_from,
        } => {
            let currency = domain::Currency::parse(&currency)?;
            let effective = day(&effective_from)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let state = state_for(&serve).await?;
            let source = format!("imported from {}", file.display());
            let version =
                hub::services::billing::import_card(&state, &text, currency, effective, &source)
                    .await
                    .map_err(app_error)?;
            println!(
                "Rate card {} version {} takes effect on {effective_from}.",
                currency.as_str().to_uppercase(),
                version.version
            );
            Ok(())
        }
        RateCardCommand::Derive {
            serve,
            currency,
            fx,
            effective_from,
        } => {
            let currency = domain::Currency::parse(&currency)?;
            let effective = day(&effective_from)?;
            let fx_ppm = domain::Micros::parse_major(&fx)
                .map_err(|e| anyhow::anyhow!("--fx: {fx:?} {e}"))?
                .get();
            let state = state_for(&serve).await?;
            let version = hub::services::billing::derive_card(&state, currency, fx_ppm, effective)
                .await
                .map_err(app_error)?;
            println!(
                "Rate card {} version {} ({}) takes effect on {effective_from}.",
                currency.as_str().to_uppercase(),
                version.version,
                version.source
            );
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs, demo_password: Option<String>) -> anyhow::Result<()> {
    let mut config = args.config()?;
    let listener = hub::bind(config.bind).await?;
    if args.public_url.is_none() {
        // With `--bind …:0` the real port is known only now, and links must carry it.
        let bound = listener.local_addr()?;
        config.bind = bound;
        config.public_url = format!("http://{bound}").parse()?;
    }
    let admin = match config.admin_bind {
        Some(addr) => Some(hub::bind(addr).await?),
        None => None,
    };
    let state = state_from(config).await?;
    let url = state.config.link("/");
    if let Some(password) = &demo_password {
        let seed = hub::demo::seed(&state, password).await.map_err(app_error)?;
        println!("\nPartner Hub demo is running at {url}");
        println!("Every demo login uses the password: {password}\n");
        for login in &seed.logins {
            println!("  {:<20} {}", login.email, login.what);
        }
        println!(
            "\nDemo Partner: {}   Other Partner: {}",
            seed.demo_partner, seed.other_partner
        );
        println!("Partner API key of Demo Partner, shown once (try it):");
        println!(
            "  curl -H 'X-API-Key: {}' '{}api/v2/partners/{}/channels?limit=5'",
            seed.api_key, url, seed.demo_partner
        );
        if let Some(messaging) = &seed.messaging {
            println!(
                "Messaging API key of {} (Demo Partner), shown once; send an approved template with it:",
                messaging.number
            );
            println!(
                "  curl -X POST '{url}messages' -H 'D360-API-KEY: {}' -H 'Content-Type: application/json' \\\n    -d '{{\"messaging_product\": \"whatsapp\", \"to\": \"4915123456789\", \"type\": \"template\", \"template\": {{\"name\": \"order_update\", \"language\": {{\"code\": \"en\"}}}}}}'",
                messaging.key
            );
        }
        println!(
            "Demo Partner's webhooks go to the built-in sink; watch them at {}",
            state
                .config
                .link(&format!("/dev/webhook-sink/{}", seed.demo_partner))
        );
        println!(
            "A client's Integrated Onboarding with Demo Partner: {}",
            state.config.link(&format!(
                "/dashboard/app/{}?state=demo&name=Ann%20Lee",
                seed.demo_partner
            ))
        );
        println!(
            "Demo Partner's example site with a Connect button: {}",
            state
                .config
                .link(&format!("/dev/partner-site/{}", seed.demo_partner))
        );
        println!(
            "Staff console: {}   Press Ctrl+C to stop.\n",
            state.config.link("/staff/login")
        );
    } else {
        println!("Partner Hub is listening on {url}");
    }
    if state.config.dev {
        tracing::warn!(
            "development mode: relaxed URL rules and mail links in the log; never use in production"
        );
    }
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing requests and jobs in flight");
        signal.cancel();
    });
    hub::serve(state, listener, admin, shutdown).await?;
    Ok(())
}

/// An application error as one line for the terminal, with the cause when it is ours.
fn app_error(err: hub::error::AppError) -> anyhow::Error {
    match err {
        hub::error::AppError::Internal(cause) => cause,
        hub::error::AppError::Validation(errors) => anyhow::anyhow!(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!(other.public_message()),
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
