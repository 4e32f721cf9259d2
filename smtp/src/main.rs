//! `mistype-smtpd`: the policy service and the milter (docs/smtp.md).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use mistype_smtp::decide::{Settings, SureWarnings};
use mistype_smtp::history::{History, Limits};
use mistype_smtp::log::{line, Level};
use mistype_smtp::milter::{DecideAt, OnBlock};
use mistype_smtp::server::{self, emit, Kind, Listen, Shared};
use mistype_smtp::service::{Config, Service};
use tokio::signal::unix::{signal, SignalKind};

/// mistype at the mail server: stops a misaddressed recipient at submission (Postfix policy
/// service and milter). SIGHUP reloads the policy and contacts files; SIGTERM saves the history
/// and stops.
#[derive(Parser, Debug)]
#[command(name = "mistype-smtpd", version)]
struct Args {
    /// The policy JSON (the same as every mistype surface); the embedded default when absent.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The organisation's correspondents: `mistype learn`'s output, or one domain a line.
    #[arg(long, value_name = "FILE")]
    contacts: Option<PathBuf>,
    /// Serve the policy protocol here (repeatable): inet:HOST:PORT or unix:PATH.
    #[arg(long = "policy-listen", value_name = "ADDR")]
    policy_listen: Vec<Listen>,
    /// Serve the milter protocol here (repeatable): inet:HOST:PORT or unix:PATH.
    #[arg(long = "milter-listen", value_name = "ADDR")]
    milter_listen: Vec<Listen>,
    /// Serve Prometheus metrics on http://HOST:PORT/metrics.
    #[arg(long = "metrics-listen", value_name = "HOST:PORT")]
    metrics_listen: Option<std::net::SocketAddr>,
    /// Log and add the X-Mistype header, never refuse.
    #[arg(long)]
    dry_run: bool,
    /// Sure warnings (score >= 0.65): refuse them, or let them through with the MTA's WARN.
    #[arg(long, value_enum, default_value_t = Sure::Refuse)]
    sure_warnings: Sure,
    /// The SMTP code and enhanced status of a refusal.
    #[arg(long, default_value = "550 5.1.1")]
    reject_code: String,
    /// The domain of a SASL login name that has none (jan -> jan@DOMAIN).
    #[arg(long, value_name = "DOMAIN")]
    sasl_domain: Option<String>,
    /// How long a refused recipient may be sent again to confirm it (e.g. 10m, 600s).
    #[arg(long, default_value = "10m", value_parser = duration)]
    confirm_window: Duration,
    /// Most refused (sender, recipient) pairs remembered (about 66 bytes each at the default cap).
    #[arg(long, default_value_t = mistype_smtp::confirm::DEFAULT_CAP)]
    confirm_cap: usize,
    /// Where each sender's recipient domains are kept across restarts.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Times a domain is written to before it counts as that sender's contact.
    #[arg(long, default_value_t = Limits::default().min_messages)]
    history_min_messages: u32,
    /// Domains kept per sender.
    #[arg(long, default_value_t = Limits::default().max_domains)]
    history_max_domains: usize,
    /// Senders kept.
    #[arg(long, default_value_t = Limits::default().max_senders)]
    history_max_senders: usize,
    /// How often the history file is written when it changed.
    #[arg(long, default_value = "60s", value_parser = duration)]
    history_save_interval: Duration,
    /// Milter: refuse at RCPT, or at the end of the message (auto: at the end for Postfix's
    /// sendmail path).
    #[arg(long, value_enum, default_value_t = At::Auto)]
    milter_decide: At,
    /// Milter, at the end of a message: refuse it, or put it on hold.
    #[arg(long, value_enum, default_value_t = Block::Reject)]
    milter_on_block: Block,
    /// Connections served at once; more wait in the listen queue.
    #[arg(long, default_value_t = 4096)]
    max_connections: usize,
    /// A connection silent this long is closed.
    #[arg(long, default_value = "10m", value_parser = duration)]
    idle_timeout: Duration,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Sure {
    Refuse,
    Warn,
}
#[derive(Clone, Copy, Debug, ValueEnum)]
enum At {
    Auto,
    Rcpt,
    End,
}
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Block {
    Reject,
    Quarantine,
}

/// `10m`, `600s`, `600` (seconds), `1h`, `500ms`.
fn duration(s: &str) -> Result<Duration, String> {
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        (s, 1000)
    };
    num.parse::<u64>()
        .ok()
        .filter(|&n| n > 0)
        .map(|n| Duration::from_millis(n * mult))
        .ok_or_else(|| format!("{s:?} is not a duration (e.g. 10m, 600s, 500ms)"))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The engine from the files named on the command line.
fn load_engine(args: &Args) -> Result<mistype::Engine, String> {
    let policy = args.policy.as_deref().map(read).transpose()?;
    let contacts = args.contacts.as_deref().map(read).transpose()?;
    mistype_smtp::engine::build(policy.as_deref(), contacts.as_deref())
}

fn save_history(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            emit(&line(Level::Warn, "stopped", &[("error", &e)]));
            eprintln!("mistype-smtpd: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    if args.policy_listen.is_empty() && args.milter_listen.is_empty() {
        return Err("nothing to serve: give --policy-listen and/or --milter-listen".into());
    }
    let limits = Limits {
        min_messages: args.history_min_messages.max(1),
        max_domains: args.history_max_domains.max(1),
        max_senders: args.history_max_senders.max(1),
    };
    let history = match &args.history {
        Some(p) if p.exists() => {
            History::from_text(&read(p)?, limits).map_err(|e| format!("{}: {e}", p.display()))?
        }
        _ => History::new(limits),
    };
    let engine = load_engine(&args)?;
    let cfg = Config {
        decide: Settings {
            dry_run: args.dry_run,
            sure_warnings: match args.sure_warnings {
                Sure::Refuse => SureWarnings::Refuse,
                Sure::Warn => SureWarnings::Warn,
            },
        },
        reject_code: args.reject_code.clone(),
        sasl_domain: args.sasl_domain.clone(),
        confirm_window_ms: args.confirm_window.as_millis() as u64,
        confirm_cap: args.confirm_cap,
        history: limits,
    };
    if !(args.reject_code.starts_with('5') || args.reject_code.starts_with('4'))
        || !args.reject_code.is_ascii()
    {
        return Err(format!(
            "--reject-code {:?}: expected an SMTP code such as \"550 5.1.1\"",
            args.reject_code
        ));
    }
    let svc = Arc::new(Service::new(engine, cfg, history));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    rt.block_on(async move {
        let shared = Arc::new(Shared {
            svc: svc.clone(),
            milter: mistype_smtp::milter::Settings {
                decide_at: match args.milter_decide {
                    At::Auto => DecideAt::Auto,
                    At::Rcpt => DecideAt::Rcpt,
                    At::End => DecideAt::End,
                },
                on_block: match args.milter_on_block {
                    Block::Reject => OnBlock::Reject,
                    Block::Quarantine => OnBlock::Quarantine,
                },
            },
            idle: args.idle_timeout,
            slots: Arc::new(tokio::sync::Semaphore::new(args.max_connections.max(1))),
            started: Instant::now(),
        });
        let mut listening = Vec::new();
        for (list, kind) in [(&args.policy_listen, Kind::Policy), (&args.milter_listen, Kind::Milter)] {
            for at in list {
                let b = server::bind(at).await?;
                // The address actually bound (port 0 becomes the port the system chose).
                let name = match kind {
                    Kind::Policy => "policy",
                    Kind::Milter => "milter",
                };
                listening.push(format!("{name}={}", b.local().unwrap_or_else(|| at.clone())));
                tokio::spawn(server::serve(b, kind, shared.clone()));
            }
        }
        if let Some(a) = args.metrics_listen {
            let l = tokio::net::TcpListener::bind(a)
                .await
                .map_err(|e| format!("cannot listen on {a} for metrics: {e}"))?;
            listening.push(format!("metrics=http://{}/metrics", l.local_addr().map_or(a, |x| x)));
            tokio::spawn(server::serve_metrics(l, svc.clone()));
        }
        let mode = if args.dry_run { "dry-run" } else { "enforce" };
        emit(&line(
            Level::Info,
            "started",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("mode", mode),
                ("listen", &listening.join(",")),
                ("references", &svc_refs(&args)),
            ],
        ));
        let sig = |k| signal(k).map_err(|e| format!("cannot watch signals: {e}"));
        let (mut hup, mut term, mut int) = (sig(SignalKind::hangup())?, sig(SignalKind::terminate())?, sig(SignalKind::interrupt())?);
        let mut tick = tokio::time::interval(args.history_save_interval);
        let save = |svc: &Service, all: bool| {
            if let Some(p) = &args.history {
                let text = if all { Some(svc.history_text()) } else { svc.history_to_save() };
                if let Some(t) = text {
                    if let Err(e) = save_history(p, &t) {
                        emit(&line(Level::Warn, "history-not-saved", &[("error", &e)]));
                    }
                }
            }
        };
        loop {
            tokio::select! {
                _ = hup.recv() => {
                    let t = Instant::now();
                    // Building an engine takes a while: off the runtime's threads, and the old
                    // one judges meanwhile (no connection is dropped).
                    let args_ref = (args.policy.clone(), args.contacts.clone());
                    let built = tokio::task::spawn_blocking(move || {
                        let policy = args_ref.0.as_deref().map(read).transpose()?;
                        let contacts = args_ref.1.as_deref().map(read).transpose()?;
                        mistype_smtp::engine::build(policy.as_deref(), contacts.as_deref())
                    }).await.map_err(|e| e.to_string()).and_then(|r| r);
                    match built {
                        Ok(e) => {
                            let refs = e.reference_count().to_string();
                            svc.replace_engine(e);
                            svc.metrics.reload(true);
                            emit(&line(Level::Info, "reloaded", &[("references", &refs), ("ms", &t.elapsed().as_millis().to_string())]));
                        }
                        Err(e) => {
                            svc.metrics.reload(false);
                            emit(&line(Level::Warn, "reload-failed", &[("error", &e), ("kept", "the previous policy")]));
                        }
                    }
                }
                _ = term.recv() => { save(&svc, true); break; }
                _ = int.recv() => { save(&svc, true); break; }
                _ = tick.tick() => save(&svc, false),
            }
        }
        emit(&line(Level::Info, "stopped", &[]));
        Ok::<(), String>(())
    })
}

fn svc_refs(args: &Args) -> String {
    match (&args.policy, &args.contacts) {
        (None, None) => "default policy".into(),
        (p, c) => [
            p.as_ref().map(|p| format!("policy {}", p.display())),
            c.as_ref().map(|c| format!("contacts {}", c.display())),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", "),
    }
}
