//! Load on a running policy service, the way Postfix's smtpd processes use it: CONNECTIONS
//! persistent connections, each sending one RCPT request and waiting for its answer before the
//! next, for SECONDS. Prints decisions per second and the latency percentiles seen by the
//! clients (request written to answer read, so the loopback round trip is included).
//!
//!   mistype-smtpd --policy-listen inet:127.0.0.1:10031 &
//!   cargo run --release -p mistype-smtp --example policy_load -- 127.0.0.1:10031 64 20 [PID] [SLIP_EVERY] [--rate=N] [--logged-in=K]
//!
//! ADDR is `HOST:PORT` or `unix:PATH`. Given the service's PID, it also prints the service's CPU
//! time per decision (user and system, from /proc), which a busy machine changes far less than
//! the throughput or the latency.
//!
//! Without `--rate` every connection sends its next request as soon as it has the answer (the
//! most the service and this machine can do; with N connections always waiting, the latency is N
//! divided by the throughput, whatever the service). With `--rate=N` the connections together
//! offer N requests a second on a fixed schedule, and each latency counts from the moment its
//! request was due, so a service that falls behind shows its queue in the percentiles.
//!
//! The recipients: correctly addressed (military, government, providers, partners), and one in
//! SLIP_EVERY (default 100) a slip (refused, then confirmed when the same pair comes again). With
//! `--logged-in=K`, one request in K carries a SASL login, as on a submission port (the service
//! then keeps that sender's history).

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const CLEAN: &[&str] = &[
    "navy.mil",
    "army.mil",
    "us.af.mil",
    "gmail.com",
    "outlook.com",
    "mindef.nl",
    "army.nl",
    "defence.gov.au",
    "mod.gov.uk",
    "lockheedmartin.com",
    "kalomertan.de",
    "partner-startup.co",
    "example.org",
    "yahoo.com",
    "gmx.de",
    "web.de",
    "northwind-traders.com",
];
const SLIPS: &[&str] = &[
    "navy.ml",
    "gmial.com",
    "usaf.mil",
    "army.ml",
    "outlok.com",
    "gmail.cmo",
];
const SENDERS: &[&str] = &["army.mil", "navy.mil", "mindef.nl", "northwind-traders.com"];

fn request(i: u64, slip_every: u64, logged_in_every: u64) -> Vec<u8> {
    let sender = format!("user{}@{}", i % 500, SENDERS[(i % 4) as usize]);
    let domain = if i % slip_every == 7 % slip_every {
        SLIPS[(i / slip_every % SLIPS.len() as u64) as usize]
    } else {
        CLEAN[(i % CLEAN.len() as u64) as usize]
    };
    let (method, login) = if logged_in_every > 0 && i.is_multiple_of(logged_in_every) {
        ("PLAIN", sender.as_str())
    } else {
        ("", "")
    };
    format!(
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.{}\n\
         client_name=ws{i}.example\nhelo_name=ws.example\nqueue_id=\nsender={sender}\n\
         recipient=r{}@{domain}\nrecipient_count=0\ninstance={i:x}.1\nsize=12345\nsasl_method={method}\n\
         sasl_username={login}\nsasl_sender=\nccert_subject=\nccert_issuer=\nencryption_protocol=\n\
         encryption_cipher=\nencryption_keysize=0\nstress=\ncompatibility_level=3.6\n\n",
        i % 250,
        i % 1000
    )
    .into_bytes()
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn connect(addr: &str) -> Result<Box<dyn Stream>, String> {
    if let Some(path) = addr.strip_prefix("unix:") {
        let s = tokio::net::UnixStream::connect(path)
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        return Ok(Box::new(s));
    }
    let s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(Box::new(s))
}

struct Load {
    addr: String,
    until: Instant,
    requests: std::sync::Arc<Vec<Vec<u8>>>,
    /// Time between two requests of one connection (`--rate`), or none.
    every: Option<Duration>,
    conns: u64,
}

async fn client(load: std::sync::Arc<Load>, id: u64, start: Instant) -> Result<Vec<u32>, String> {
    let mut s = connect(&load.addr).await?;
    let mut lat = Vec::with_capacity(1 << 16);
    let mut buf = vec![0u8; 4096];
    let mut i = (id * 1_009) as usize;
    // With a rate, the connections' schedules are spread evenly over one period.
    let mut due = load
        .every
        .map(|e| start + e.mul_f64(id as f64 / load.conns as f64));
    while Instant::now() < load.until {
        // Built beforehand: the load generator shares the machine, and should spend its time on
        // the sockets.
        let req = &load.requests[i % load.requests.len()];
        i += 1;
        let t = match (due, load.every) {
            (Some(d), Some(every)) => {
                due = Some(d + every);
                if Instant::now() >= d {
                    // Behind schedule (the last answer came late): the wait counts.
                    d
                } else {
                    // Early: sent when the timer wakes (its millisecond steps are the load
                    // generator's, not the service's).
                    tokio::time::sleep_until(d.into()).await;
                    Instant::now()
                }
            }
            _ => Instant::now(),
        };
        s.write_all(req).await.map_err(|e| e.to_string())?;
        let mut got = 0;
        loop {
            let n = s.read(&mut buf[got..]).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("the service closed the connection".into());
            }
            got += n;
            if buf[..got].ends_with(b"\n\n") {
                break;
            }
        }
        lat.push(t.elapsed().as_micros() as u32);
    }
    Ok(lat)
}

/// User and system CPU seconds of process `pid` so far.
fn cpu_seconds(pid: &str) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? / 100.0, ticks(12)? / 100.0))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn cpu_line(who: &str, before: Option<(f64, f64)>, after: Option<(f64, f64)>, n: usize) {
    if let (Some((u0, s0)), Some((u1, s1))) = (before, after) {
        let per = |x: f64| x * 1e6 / n.max(1) as f64;
        println!(
            "{who} used {:.2} CPU seconds: {:.1} us of CPU per decision ({:.1} user, {:.1} system)",
            (u1 - u0) + (s1 - s0),
            per((u1 - u0) + (s1 - s0)),
            per(u1 - u0),
            per(s1 - s0)
        );
    }
}

fn main() -> Result<(), String> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        all.iter()
            .find_map(|a| a.strip_prefix(name)?.strip_prefix('=')?.parse::<u64>().ok())
    };
    let args: Vec<&String> = all.iter().filter(|a| !a.starts_with("--")).collect();
    let addr = args
        .first()
        .map(|a| a.to_string())
        .unwrap_or_else(|| "127.0.0.1:10031".into());
    let conns: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let pid = args.get(3).map(|p| p.to_string()).filter(|p| p != "-");
    let slip_every: u64 = args
        .get(4)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100)
        .max(1);
    let rate = flag("--rate").filter(|&r| r > 0);
    let logged_in_every = flag("--logged-in").unwrap_or(0);
    let requests = std::sync::Arc::new(
        (0..100_000)
            .map(|i| request(i, slip_every, logged_in_every))
            .collect::<Vec<_>>(),
    );
    // One thread for the clients: the service keeps the other core.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let load_before = loadavg();
    let cpu0 = pid.as_deref().and_then(cpu_seconds);
    let own0 = cpu_seconds("self");
    let (lat, elapsed) = rt.block_on(async {
        let start = Instant::now();
        let load = std::sync::Arc::new(Load {
            addr: addr.clone(),
            until: start + Duration::from_secs(secs),
            requests: requests.clone(),
            every: rate.map(|r| Duration::from_secs_f64(conns as f64 / r as f64)),
            conns,
        });
        let tasks: Vec<_> = (0..conns)
            .map(|id| tokio::spawn(client(load.clone(), id, start)))
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.map_err(|e| e.to_string())??);
        }
        Ok::<_, String>((all, start.elapsed()))
    })?;
    let (own1, cpu1) = (cpu_seconds("self"), pid.as_deref().and_then(cpu_seconds));
    let mut lat = lat;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let offered = rate.map_or(String::new(), |r| format!(" (offered {r}/s)"));
    println!(
        "{} decisions in {:.1} s over {conns} connections{offered}: {:.0} decisions/s; latency p50 {} us, p99 {} us, p99.9 {} us, max {} us",
        lat.len(),
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        pct(0.999),
        lat.last().copied().unwrap_or(0)
    );
    cpu_line("the load generator", own0, own1, lat.len());
    cpu_line("the service", cpu0, cpu1, lat.len());
    println!("load average before {load_before}, after {}", loadavg());
    Ok(())
}
