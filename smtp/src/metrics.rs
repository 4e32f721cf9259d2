//! The service's counters and its decision-latency histogram, in Prometheus' text format. Atomics
//! only: the glue counts from every connection's task without a lock.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::decide::Decision;

/// Upper bounds of the latency buckets, in microseconds.
pub const BUCKETS_US: [u64; 10] = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 100_000];

/// Which protocol a count belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// The policy service.
    Policy,
    /// The milter.
    Milter,
}

impl Protocol {
    fn index(self) -> usize {
        match self {
            Protocol::Policy => 0,
            Protocol::Milter => 1,
        }
    }
    const NAMES: [&'static str; 2] = ["policy", "milter"];
}

/// Every counter.
#[derive(Debug, Default)]
pub struct Metrics {
    decisions: [[AtomicU64; Decision::LABELS.len()]; 2],
    protocol_errors: [AtomicU64; 2],
    connections: [AtomicU64; 2],
    open: [AtomicU64; 2],
    latency: [AtomicU64; BUCKETS_US.len() + 1],
    latency_sum_us: AtomicU64,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
}

impl Metrics {
    /// Count one decision and how long it took.
    pub fn decision(&self, p: Protocol, d: &Decision, micros: u64) {
        self.decisions[p.index()][d.index()].fetch_add(1, Relaxed);
        let b = BUCKETS_US
            .iter()
            .position(|&le| micros <= le)
            .unwrap_or(BUCKETS_US.len());
        self.latency[b].fetch_add(1, Relaxed);
        self.latency_sum_us.fetch_add(micros, Relaxed);
    }

    /// Count input that could not be read.
    pub fn protocol_error(&self, p: Protocol) {
        self.protocol_errors[p.index()].fetch_add(1, Relaxed);
    }

    /// A connection opened.
    pub fn opened(&self, p: Protocol) {
        self.connections[p.index()].fetch_add(1, Relaxed);
        self.open[p.index()].fetch_add(1, Relaxed);
    }

    /// A connection closed.
    pub fn closed(&self, p: Protocol) {
        self.open[p.index()].fetch_sub(1, Relaxed);
    }

    /// Connections open now.
    pub fn open_now(&self, p: Protocol) -> u64 {
        self.open[p.index()].load(Relaxed)
    }

    /// Decisions of `label` so far (all protocols).
    pub fn decisions_of(&self, label: &str) -> u64 {
        Decision::LABELS
            .iter()
            .position(|l| *l == label)
            .map_or(0, |i| {
                self.decisions.iter().map(|p| p[i].load(Relaxed)).sum()
            })
    }

    /// A reload, and whether it worked.
    pub fn reload(&self, ok: bool) {
        self.reloads.fetch_add(1, Relaxed);
        if !ok {
            self.reload_failures.fetch_add(1, Relaxed);
        }
    }

    /// The text format. `gauges` are extra `(name, help, value)` gauges (store sizes).
    pub fn render(&self, gauges: &[(&str, &str, u64)]) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(4096);
        let _ = writeln!(
            s,
            "# HELP mistype_smtp_decisions_total Recipients judged, by protocol and decision."
        );
        let _ = writeln!(s, "# TYPE mistype_smtp_decisions_total counter");
        for (p, name) in Protocol::NAMES.iter().enumerate() {
            for (i, label) in Decision::LABELS.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "mistype_smtp_decisions_total{{protocol=\"{name}\",decision=\"{label}\"}} {}",
                    self.decisions[p][i].load(Relaxed)
                );
            }
        }
        let total = |label: &str| self.decisions_of(label);
        let _ = writeln!(
            s,
            "# HELP mistype_smtp_refusals_total Recipients refused (the sender was told why)."
        );
        let _ = writeln!(s, "# TYPE mistype_smtp_refusals_total counter");
        let _ = writeln!(s, "mistype_smtp_refusals_total {}", total("refused"));
        let _ = writeln!(s, "# HELP mistype_smtp_confirmations_total Refused recipients sent again within the window and let through.");
        let _ = writeln!(s, "# TYPE mistype_smtp_confirmations_total counter");
        let _ = writeln!(s, "mistype_smtp_confirmations_total {}", total("confirmed"));
        let _ = writeln!(
            s,
            "# HELP mistype_smtp_protocol_errors_total Requests or packets that could not be read."
        );
        let _ = writeln!(s, "# TYPE mistype_smtp_protocol_errors_total counter");
        for (p, name) in Protocol::NAMES.iter().enumerate() {
            let _ = writeln!(
                s,
                "mistype_smtp_protocol_errors_total{{protocol=\"{name}\"}} {}",
                self.protocol_errors[p].load(Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP mistype_smtp_connections_total Connections accepted."
        );
        let _ = writeln!(s, "# TYPE mistype_smtp_connections_total counter");
        for (p, name) in Protocol::NAMES.iter().enumerate() {
            let _ = writeln!(
                s,
                "mistype_smtp_connections_total{{protocol=\"{name}\"}} {}",
                self.connections[p].load(Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP mistype_smtp_connections_open Connections open now."
        );
        let _ = writeln!(s, "# TYPE mistype_smtp_connections_open gauge");
        for (p, name) in Protocol::NAMES.iter().enumerate() {
            let _ = writeln!(
                s,
                "mistype_smtp_connections_open{{protocol=\"{name}\"}} {}",
                self.open[p].load(Relaxed)
            );
        }
        let _ = writeln!(
            s,
            "# HELP mistype_smtp_decision_seconds Time to judge one recipient."
        );
        let _ = writeln!(s, "# TYPE mistype_smtp_decision_seconds histogram");
        let mut cum = 0;
        for (i, le) in BUCKETS_US.iter().enumerate() {
            cum += self.latency[i].load(Relaxed);
            let _ = writeln!(
                s,
                "mistype_smtp_decision_seconds_bucket{{le=\"{}\"}} {cum}",
                *le as f64 / 1e6
            );
        }
        cum += self.latency[BUCKETS_US.len()].load(Relaxed);
        let _ = writeln!(
            s,
            "mistype_smtp_decision_seconds_bucket{{le=\"+Inf\"}} {cum}"
        );
        let _ = writeln!(
            s,
            "mistype_smtp_decision_seconds_sum {}",
            self.latency_sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "mistype_smtp_decision_seconds_count {cum}");
        let _ = writeln!(
            s,
            "# HELP mistype_smtp_reloads_total Reloads (SIGHUP), and those that failed."
        );
        let _ = writeln!(s, "# TYPE mistype_smtp_reloads_total counter");
        let _ = writeln!(
            s,
            "mistype_smtp_reloads_total {}",
            self.reloads.load(Relaxed)
        );
        let _ = writeln!(
            s,
            "mistype_smtp_reload_failures_total {}",
            self.reload_failures.load(Relaxed)
        );
        for (name, help, v) in gauges {
            let _ = writeln!(s, "# HELP {name} {help}");
            let _ = writeln!(s, "# TYPE {name} gauge");
            let _ = writeln!(s, "{name} {v}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_in_the_text() {
        let m = Metrics::default();
        m.decision(Protocol::Policy, &Decision::Clean, 40);
        m.decision(Protocol::Milter, &Decision::Clean, 3_000);
        m.protocol_error(Protocol::Milter);
        let t = m.render(&[("mistype_smtp_confirm_pairs", "Pairs held.", 7)]);
        assert!(
            t.contains("mistype_smtp_decisions_total{protocol=\"policy\",decision=\"clean\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("mistype_smtp_decisions_total{protocol=\"milter\",decision=\"clean\"} 1\n")
        );
        assert!(t.contains(
            "mistype_smtp_decisions_total{protocol=\"policy\",decision=\"refused\"} 0\n"
        ));
        assert!(t.contains("mistype_smtp_protocol_errors_total{protocol=\"milter\"} 1\n"));
        assert!(
            t.contains("mistype_smtp_decision_seconds_bucket{le=\"0.00005\"} 1\n"),
            "{t}"
        );
        assert!(t.contains("mistype_smtp_decision_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(t.contains("mistype_smtp_decision_seconds_count 2\n"));
        assert!(t.contains("mistype_smtp_confirm_pairs 7\n"));
    }
}
