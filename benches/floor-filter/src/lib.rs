//! The floor of the Envoy load comparison (`benches/load-envoy.sh`): what any proxy-wasm filter
//! that judges a request by its body cannot avoid. It holds a request's headers (with Envoy's
//! `allow_on_headers_stop_iteration`), holds its body until the end of the stream, copies the
//! whole body into the VM once, and lets the request go. It decides nothing; the difference
//! between this filter and mistype on the same routes is what mistype itself costs.
//!
//! Its cargo features (none by default) add one kind of work per request each, to find where a
//! filter's cost in Envoy comes from (docs/performance.md): calls into the host
//! (`header-reads`, `clock-reads`, `counter-increments`), small copies (`small-copies`), time in the module with a tiny
//! footprint (`busy`), a large data footprint (`large-data`), a large code footprint
//! (`large-code`).

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

#[cfg(feature = "large-code")]
mod large_code {
    include!(concat!(env!("OUT_DIR"), "/large_code.rs"));
}

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root { counters: Vec::new() }) });
}}

struct Root {
    /// The counters of the `counter-increments` variant.
    counters: Vec<u32>,
}

impl Context for Root {}

impl RootContext for Root {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        if cfg!(feature = "counter-increments") {
            for name in ["floor.a", "floor.b", "floor.c", "floor.d"] {
                let defined = proxy_wasm::hostcalls::define_metric(
                    proxy_wasm::types::MetricType::Counter,
                    name,
                );
                if let Ok(id) = defined {
                    self.counters.push(id);
                }
            }
        }
        true
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream {
            body_size: 0,
            counters: self.counters.clone(),
            seen: 0,
        }))
    }
}

struct Stream {
    /// The buffered body size the host last reported.
    body_size: usize,
    /// The counters of the `counter-increments` variant.
    counters: Vec<u32>,
    /// What the variants' work produced, kept so that it is not optimised away.
    seen: u64,
}

impl Stream {
    /// Reads the whole buffered body into the VM (what a filter judging the body must do).
    fn read_body(&self) -> usize {
        self.get_http_request_body(0, self.body_size)
            .map_or(0, |b| b.len())
    }

    /// The variants' work at the end of the body (none for the floor itself).
    fn variant_work(&mut self) {
        let mut x = self.seen | 1;
        if cfg!(feature = "clock-reads") {
            for _ in 0..100 {
                let now = proxy_wasm::hostcalls::get_current_time();
                x = x.wrapping_add(u64::from(now.is_ok()));
            }
        }
        if cfg!(feature = "counter-increments") {
            for _ in 0..25 {
                for id in &self.counters {
                    let done = proxy_wasm::hostcalls::increment_metric(*id, 1);
                    x = x.wrapping_add(u64::from(done.is_ok()));
                }
            }
        }
        if cfg!(feature = "small-copies") {
            let from = [b'k'; 16];
            let mut to = Vec::with_capacity(1600);
            for i in 0..100u64 {
                let n = usize::try_from(std::hint::black_box(5 + i % 8)).unwrap_or(8);
                to.extend_from_slice(from.get(..n).unwrap_or_default());
            }
            x = x.wrapping_add(std::hint::black_box(&to).len() as u64);
        }
        if cfg!(feature = "busy") {
            for i in 0..40_000u64 {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(i ^ (x >> 17));
            }
        }
        #[cfg(feature = "large-data")]
        {
            let table = table();
            for _ in 0..4_000 {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let at = usize::try_from(x >> 33).unwrap_or(0) % table.len().max(1);
                x ^= u64::from(table.get(at).copied().unwrap_or(0));
            }
        }
        #[cfg(feature = "large-code")]
        for f in &large_code::FUNCTIONS {
            x = std::hint::black_box(f)(x);
        }
        self.seen = std::hint::black_box(x);
    }
}

/// The `large-data` variant's 2 MiB table, built once.
#[cfg(feature = "large-data")]
fn table() -> &'static [u8] {
    static TABLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..2 * 1024 * 1024u32)
            .map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes()[3])
            .collect()
    })
}

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if cfg!(feature = "header-reads") {
            for _ in 0..20 {
                let headers = self.get_http_request_headers();
                self.seen = self.seen.wrapping_add(headers.len() as u64);
            }
        }
        if end_of_stream {
            Action::Continue
        } else {
            Action::Pause
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.body_size = body_size;
        if !end_of_stream {
            return Action::Pause;
        }
        self.variant_work();
        // The length is used, so the copy is not optimised away.
        if self.read_body() > body_size {
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        self.variant_work();
        self.read_body();
        Action::Continue
    }
}
