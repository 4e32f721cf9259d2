//! The I/O glue: listeners, one task per connection, the metrics page. Everything it says comes
//! from the pure modules: [`crate::policy_proto`] and [`crate::policy`] for the policy service,
//! [`crate::milter_proto`] and [`crate::milter`] for the milter.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::Semaphore;

use crate::log::{self, Level};
use crate::metrics::Protocol;
use crate::milter::{self, Session};
use crate::milter_proto::{self, Frames};
use crate::policy;
use crate::policy_proto::{Event, Reader};
use crate::service::Service;

/// Where to listen: `inet:HOST:PORT` (or `HOST:PORT`) or `unix:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A unix socket path.
    Unix(PathBuf),
}

impl std::str::FromStr for Listen {
    type Err = String;
    fn from_str(s: &str) -> Result<Listen, String> {
        if let Some(p) = s.strip_prefix("unix:") {
            if p.is_empty() {
                return Err(format!("listen address {s:?}: no path after unix:"));
            }
            return Ok(Listen::Unix(PathBuf::from(p)));
        }
        let a = s.strip_prefix("inet:").unwrap_or(s);
        a.parse()
            .map(Listen::Tcp)
            .map_err(|_| format!("listen address {s:?}: expected inet:HOST:PORT or unix:PATH"))
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Tcp(a) => write!(f, "inet:{a}"),
            Listen::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// What every connection shares.
#[derive(Debug)]
pub struct Shared {
    /// The decision.
    pub svc: Arc<Service>,
    /// The milter's settings.
    pub milter: milter::Settings,
    /// A connection silent this long is closed.
    pub idle: Duration,
    /// Connections served at once (others wait in the listen queue).
    pub slots: Arc<Semaphore>,
    /// When the service started: the clock of the confirm window.
    pub started: Instant,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// Write one log line to standard error.
pub fn emit(line: &str) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
}

/// A bound listener of either kind.
#[derive(Debug)]
pub enum Bound {
    /// TCP.
    Tcp(TcpListener),
    /// Unix.
    Unix(UnixListener),
}

/// Bind `at`. A unix socket left by an earlier run is replaced; the new one is writable by
/// everyone (the directory it is in decides who may reach it).
pub async fn bind(at: &Listen) -> Result<Bound, String> {
    match at {
        Listen::Tcp(a) => TcpListener::bind(a)
            .await
            .map(Bound::Tcp)
            .map_err(|e| format!("cannot listen on {at}: {e}")),
        Listen::Unix(p) => {
            let _ = std::fs::remove_file(p);
            let l = UnixListener::bind(p).map_err(|e| format!("cannot listen on {at}: {e}"))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o666))
                .map_err(|e| format!("cannot open {at} to the MTA: {e}"))?;
            Ok(Bound::Unix(l))
        }
    }
}

impl Bound {
    /// The TCP address actually bound (tests bind port 0); `None` for a unix socket.
    pub fn local(&self) -> Option<Listen> {
        match self {
            Bound::Tcp(l) => l.local_addr().ok().map(Listen::Tcp),
            Bound::Unix(_) => None,
        }
    }
}

/// Which front end a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The policy service.
    Policy,
    /// The milter.
    Milter,
}

/// Accept connections forever, one task each.
pub async fn serve(bound: Bound, kind: Kind, shared: Arc<Shared>) {
    loop {
        let Ok(permit) = shared.slots.clone().acquire_owned().await else {
            return;
        };
        let accepted: std::io::Result<(Box<dyn Conn>, String)> = match &bound {
            Bound::Tcp(l) => l.accept().await.map(|(s, a)| {
                let _ = s.set_nodelay(true);
                (Box::new(s) as Box<dyn Conn>, a.to_string())
            }),
            Bound::Unix(l) => l
                .accept()
                .await
                .map(|(s, _)| (Box::new(s) as Box<dyn Conn>, "unix".to_string())),
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and the like: say so, wait a little, go on.
                emit(&log::line(
                    Level::Warn,
                    "accept-failed",
                    &[("error", &e.to_string())],
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let p = match kind {
                Kind::Policy => Protocol::Policy,
                Kind::Milter => Protocol::Milter,
            };
            shared.svc.metrics.opened(p);
            match kind {
                Kind::Policy => policy_conn(stream, &peer, &shared).await,
                Kind::Milter => milter_conn(stream, &peer, &shared).await,
            }
            shared.svc.metrics.closed(p);
            drop(permit);
        });
    }
}

/// A stream of either kind.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// Reads with an idle limit that costs no timer a read: one deadline per connection, moved
/// on only when it comes (a busy connection's reads never touch the timer wheel).
struct Idle {
    limit: Duration,
    last: Instant,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Idle {
    fn new(limit: Duration) -> Idle {
        let last = Instant::now();
        Idle {
            limit,
            last,
            timer: Box::pin(tokio::time::sleep_until((last + limit).into())),
        }
    }

    /// What one read gave (`None`: the connection ended, failed, or stayed silent too long).
    async fn read(&mut self, stream: &mut Box<dyn Conn>, buf: &mut [u8]) -> Option<usize> {
        loop {
            tokio::select! {
                biased;
                r = stream.read(buf) => {
                    return match r {
                        Ok(0) | Err(_) => None,
                        Ok(n) => {
                            self.last = Instant::now();
                            Some(n)
                        }
                    };
                }
                () = &mut self.timer => {
                    let due = self.last + self.limit;
                    if Instant::now() >= due {
                        return None;
                    }
                    self.timer.as_mut().reset(due.into());
                }
            }
        }
    }
}

async fn policy_conn(mut stream: Box<dyn Conn>, peer: &str, shared: &Shared) {
    let svc = &shared.svc;
    let mut reader = Reader::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut events: Vec<Event> = Vec::new();
    let mut out = String::with_capacity(1024);
    let mut idle = Idle::new(shared.idle);
    while let Some(n) = idle.read(&mut stream, &mut buf).await {
        reader.feed(&buf[..n], &mut events);
        out.clear();
        for ev in events.drain(..) {
            let t = Instant::now();
            let a = policy::answer(svc, &ev, shared.now_ms(), peer);
            let micros = t.elapsed().as_micros() as u64;
            if let Some(d) = &a.decision {
                svc.metrics.decision(Protocol::Policy, d, micros);
            }
            if a.protocol_error {
                svc.metrics.protocol_error(Protocol::Policy);
            }
            if let Some(l) = &a.log {
                emit(l);
            }
            crate::policy_proto::reply_into(&mut out, &a.action);
            reader.recycle(ev);
        }
        if !out.is_empty() && stream.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
    if let Some(left) = reader.finish() {
        svc.metrics.protocol_error(Protocol::Policy);
        emit(&log::line(
            Level::Warn,
            "bad-request",
            &[
                ("protocol", "policy"),
                ("problem", "the connection ended inside a request"),
                ("client", peer),
                ("recipient", left.get("recipient").unwrap_or("")),
            ],
        ));
    }
}

async fn milter_conn(mut stream: Box<dyn Conn>, peer: &str, shared: &Shared) {
    let svc = &shared.svc;
    let mut frames = Frames::new();
    let mut session = Session::new(shared.milter);
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    let problem = |what: String| {
        svc.metrics.protocol_error(Protocol::Milter);
        emit(&log::line(
            Level::Warn,
            "bad-request",
            &[("protocol", "milter"), ("problem", &what), ("client", peer)],
        ));
    };
    let mut idle = Idle::new(shared.idle);
    while let Some(n) = idle.read(&mut stream, &mut buf).await {
        frames.feed(&buf[..n]);
        out.clear();
        let mut close = false;
        loop {
            let packet = match frames.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    problem(e.to_string());
                    close = true;
                    break;
                }
            };
            let cmd = match milter_proto::parse(&packet) {
                Ok(c) => c,
                Err(e) => {
                    problem(e.to_string());
                    close = true;
                    break;
                }
            };
            let t = Instant::now();
            let step = session.handle(svc, cmd, shared.now_ms());
            let micros = t.elapsed().as_micros() as u64;
            for (d, l) in &step.decisions {
                svc.metrics.decision(Protocol::Milter, d, micros);
                if let Some(l) = l {
                    emit(l);
                }
            }
            for l in &step.logs {
                emit(l);
            }
            for r in &step.replies {
                out.extend_from_slice(&r.encode());
            }
            if step.close {
                close = true;
                break;
            }
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
        if close {
            return;
        }
    }
}

/// Serve `GET /metrics` (Prometheus' text format) on `listener`; anything else is a 404.
pub async fn serve_metrics(listener: TcpListener, svc: Arc<Service>) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let svc = svc.clone();
        tokio::spawn(async move {
            let mut req = Vec::with_capacity(1024);
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 8192 {
                match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => req.extend_from_slice(&buf[..n]),
                    _ => return,
                }
            }
            let ok = req.starts_with(b"GET /metrics ") || req.starts_with(b"GET /metrics?");
            let (status, body) = if ok {
                ("200 OK", svc.metrics.render(&svc.gauges()))
            } else {
                ("404 Not Found", "GET /metrics\n".to_string())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(body.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(
            "inet:127.0.0.1:10031".parse(),
            Ok(Listen::Tcp("127.0.0.1:10031".parse().unwrap()))
        );
        assert_eq!(
            "127.0.0.1:1".parse::<Listen>().map(|l| l.to_string()),
            Ok("inet:127.0.0.1:1".to_string())
        );
        assert_eq!(
            "unix:/run/x.sock".parse(),
            Ok(Listen::Unix("/run/x.sock".into()))
        );
        assert!("unix:".parse::<Listen>().unwrap_err().contains("no path"));
        assert!("localhost"
            .parse::<Listen>()
            .unwrap_err()
            .contains("\"localhost\""));
    }
}
