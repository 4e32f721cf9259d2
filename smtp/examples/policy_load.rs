//! Load on a running policy service, the way Postfix's smtpd processes use it: CONNECTIONS
//! persistent connections, each sending one RCPT request and waiting for its answer before the
//! next, for SECONDS. Prints decisions per second and the latency percentiles seen by the
//! clients (request written to answer read, so the loopback round trip is included).
//!
//!   mistype-smtpd --policy-listen inet:127.0.0.1:10031 &
//!   cargo run --release -p mistype-smtp --example policy_load -- 127.0.0.1:10031 64 20 [PID] [SLIP_EVERY]
//!
//! Given the service's PID, it also prints the service's CPU time per decision (user + system,
//! from /proc), which a busy machine changes far less than the throughput or the latency.
//!
//! The recipients: correctly addressed (military, government, providers, partners), and one in
//! SLIP_EVERY (default 100) a slip (refused, then confirmed when the same pair comes again).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

fn request(i: u64, slip_every: u64) -> Vec<u8> {
    let sender = format!("user{}@{}", i % 500, SENDERS[(i % 4) as usize]);
    let domain = if i % slip_every == 7 % slip_every {
        SLIPS[(i / slip_every % SLIPS.len() as u64) as usize]
    } else {
        CLEAN[(i % CLEAN.len() as u64) as usize]
    };
    format!(
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.{}\n\
         client_name=ws{i}.example\nhelo_name=ws.example\nqueue_id=\nsender={sender}\n\
         recipient=r{}@{domain}\nrecipient_count=0\ninstance={i:x}.1\nsize=12345\nsasl_method=\n\
         sasl_username=\nsasl_sender=\nccert_subject=\nccert_issuer=\nencryption_protocol=\n\
         encryption_cipher=\nencryption_keysize=0\nstress=\ncompatibility_level=3.6\n\n",
        i % 250,
        i % 1000
    )
    .into_bytes()
}

async fn client(
    addr: String,
    id: u64,
    until: Instant,
    requests: std::sync::Arc<Vec<Vec<u8>>>,
) -> Result<Vec<u32>, String> {
    let mut s = TcpStream::connect(&addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut lat = Vec::with_capacity(1 << 16);
    let mut buf = vec![0u8; 4096];
    let mut i = (id * 1_009) as usize;
    while Instant::now() < until {
        // Built beforehand: the load generator shares the machine, and should spend its time on
        // the sockets.
        let req = &requests[i % requests.len()];
        i += 1;
        let t = Instant::now();
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

/// User + system CPU seconds of process `pid` so far.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:10031".into());
    let conns: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let pid = args.get(3).cloned().filter(|p| p != "-");
    let slip_every: u64 = args
        .get(4)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100)
        .max(1);
    let cpu0 = pid.as_deref().and_then(cpu_seconds);
    let own0 = cpu_seconds("self");
    // One thread for the clients: the service keeps the other core.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let requests = std::sync::Arc::new(
        (0..100_000)
            .map(|i| request(i, slip_every))
            .collect::<Vec<_>>(),
    );
    let (lat, elapsed) = rt.block_on(async {
        let start = Instant::now();
        let until = start + Duration::from_secs(secs);
        let tasks: Vec<_> = (0..conns)
            .map(|id| tokio::spawn(client(addr.clone(), id, until, requests.clone())))
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.map_err(|e| e.to_string())??);
        }
        Ok::<_, String>((all, start.elapsed()))
    })?;
    let mut lat = lat;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "{} decisions in {:.1} s over {conns} connections: {:.0} decisions/s; latency p50 {} us, p99 {} us, p99.9 {} us, max {} us",
        lat.len(),
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        pct(0.999),
        lat.last().copied().unwrap_or(0)
    );
    if let (Some(o0), Some(o1)) = (own0, cpu_seconds("self")) {
        println!(
            "the load generator used {:.2} CPU seconds: {:.1} us of CPU per decision",
            o1 - o0,
            (o1 - o0) * 1e6 / lat.len().max(1) as f64
        );
    }
    if let (Some(p), Some(c0)) = (pid.as_deref(), cpu0) {
        if let Some(c1) = cpu_seconds(p) {
            println!(
                "the service used {:.2} CPU seconds: {:.1} us of CPU per decision",
                c1 - c0,
                (c1 - c0) * 1e6 / lat.len().max(1) as f64
            );
        }
    }
    Ok(())
}
