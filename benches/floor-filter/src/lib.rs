//! The floor of the Envoy load comparison (`benches/load-envoy.sh`): what any proxy-wasm filter
//! that judges a request by its body cannot avoid. It holds a request's headers (with Envoy's
//! `allow_on_headers_stop_iteration`), holds its body until the end of the stream, copies the
//! whole body into the VM once, and lets the request go. It decides nothing; the difference
//! between this filter and mistype on the same routes is what mistype itself costs.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root) });
}}

struct Root;

impl Context for Root {}

impl RootContext for Root {
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Stream { body_size: 0 }))
    }
}

struct Stream {
    /// The buffered body size the host last reported.
    body_size: usize,
}

impl Stream {
    /// Reads the whole buffered body into the VM (what a filter judging the body must do).
    fn read_body(&self) -> usize {
        self.get_http_request_body(0, self.body_size)
            .map_or(0, |b| b.len())
    }
}

impl Context for Stream {}

impl HttpContext for Stream {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
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
        // The length is used, so the copy is not optimised away.
        if self.read_body() > body_size {
            return Action::Pause;
        }
        Action::Continue
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        self.read_body();
        Action::Continue
    }
}
