//! Held sends that get no body: which streams are held, and when to give up on one.
//!
//! The filter holds a possible send's headers (`Pause` in the headers callback) until its body
//! is judged. That needs Envoy's `allow_on_headers_stop_iteration: true`: without it Envoy stops
//! the whole stream on that `Pause`, no body callback ever comes, and the send would wait until
//! the client gives up. So every held stream is watched from the root context's tick until its
//! first body (or trailers) callback:
//!
//! - when Envoy has body bytes of the stream that the filter never got, the stream is stopped
//!   in Envoy (the knob is off, or Envoy holds it for another reason): it is answered at that
//!   tick ([`Stall::Undelivered`]);
//! - when no body has come at all for `stall.timeout_ms`, it is answered too
//!   ([`Stall::Silent`]): the client sends nothing, or Envoy's count could not be read.
//!
//! What the answer is belongs to [`crate::decide::stalled`]; the glue only reads Envoy's byte
//! count and carries the decision out. Everything here is pure.

use crate::send::Api;

/// Why a held send is given up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// Envoy has `bytes` of the body and delivered none of it to the filter in `held_ms`.
    Undelivered {
        /// Body bytes Envoy has received.
        bytes: u64,
        /// How long the headers have been held (at least; measured by the tick).
        held_ms: u64,
    },
    /// No body for `held_ms`, and no sign that Envoy has any.
    Silent {
        /// How long the headers have been held (at least; measured by the tick).
        held_ms: u64,
    },
}

impl Stall {
    /// The machine-readable reason.
    pub fn reason(self) -> &'static str {
        match self {
            Stall::Undelivered { .. } => "body_not_delivered",
            Stall::Silent { .. } => "no_body",
        }
    }
}

/// Decides from what the tick saw: held `held_ms`, Envoy's count of body bytes received
/// (`None`: unknown), the timeout.
pub fn assess(held_ms: u64, received: Option<u64>, timeout_ms: u64) -> Option<Stall> {
    match received {
        Some(bytes) if bytes > 0 => Some(Stall::Undelivered { bytes, held_ms }),
        _ if held_ms >= timeout_ms => Some(Stall::Silent { held_ms }),
        _ => None,
    }
}

/// A held stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    context_id: u32,
    api: Api,
    /// The request headers' size as Envoy counts it (names and values), when they were held.
    header_bytes: u64,
    /// The first tick that saw it (ms); `None` until then, so that holding costs no clock read.
    since_ms: Option<u64>,
    /// The tick answered it with a local reply.
    refused: bool,
}

/// A held stream the tick should look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Its context id.
    pub context_id: u32,
    /// Its API.
    pub api: Api,
    /// Its request headers' size, names and values (Envoy adds it to its body count).
    pub header_bytes: u64,
    /// How long it has been held, as the ticks measure it.
    pub held_ms: u64,
}

/// What a held stream's first body callback finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// It was not held (or a tick let it continue): judge as usual.
    NotHeld,
    /// It was held and not answered: judge as usual.
    Held,
    /// A tick already answered it with a local reply: pass the callback through.
    Refused,
}

/// The held streams of one root context, in the order they were held (a few at a time: a
/// stream leaves at its first body callback).
#[derive(Debug, Default)]
pub struct Watch {
    held: Vec<Held>,
}

impl Watch {
    /// A stream's headers are held.
    pub fn hold(&mut self, context_id: u32, api: Api, header_bytes: u64) {
        self.forget(context_id);
        self.held.push(Held {
            context_id,
            api,
            header_bytes,
            since_ms: None,
            refused: false,
        });
    }

    fn take(&mut self, context_id: u32) -> Option<Held> {
        let i = self.held.iter().position(|h| h.context_id == context_id)?;
        Some(self.held.remove(i))
    }

    /// The stream got a body callback (or ended): stop watching it.
    pub fn release(&mut self, context_id: u32) -> Release {
        match self.take(context_id) {
            None => Release::NotHeld,
            Some(h) if h.refused => Release::Refused,
            Some(_) => Release::Held,
        }
    }

    /// The streams the tick at `now_ms` should look at: every held one not answered yet. A
    /// stream seen for the first time starts its clock now.
    pub fn pending(&mut self, now_ms: u64) -> Vec<Pending> {
        self.held
            .iter_mut()
            .filter(|h| !h.refused)
            .map(|h| {
                let since = *h.since_ms.get_or_insert(now_ms);
                Pending {
                    context_id: h.context_id,
                    api: h.api,
                    header_bytes: h.header_bytes,
                    held_ms: now_ms.saturating_sub(since),
                }
            })
            .collect()
    }

    /// The tick answered the stream with a local reply.
    pub fn refused(&mut self, context_id: u32) {
        if let Some(h) = self.held.iter_mut().find(|h| h.context_id == context_id) {
            h.refused = true;
        }
    }

    /// Nothing more to watch for this stream: it continued, or it is gone.
    pub fn forget(&mut self, context_id: u32) {
        self.take(context_id);
    }

    /// How many streams are watched.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True when no stream is watched.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_bytes_envoy_keeps_from_the_filter_are_a_stall_at_once() {
        assert_eq!(
            assess(0, Some(512), 10_000),
            Some(Stall::Undelivered {
                bytes: 512,
                held_ms: 0
            })
        );
        assert_eq!(
            assess(0, Some(1), 10_000).map(Stall::reason),
            Some("body_not_delivered")
        );
    }

    #[test]
    fn no_body_at_all_waits_for_the_timeout() {
        assert_eq!(assess(9_999, Some(0), 10_000), None);
        assert_eq!(assess(9_999, None, 10_000), None);
        assert_eq!(
            assess(10_000, Some(0), 10_000),
            Some(Stall::Silent { held_ms: 10_000 })
        );
        assert_eq!(
            assess(12_000, None, 10_000).map(Stall::reason),
            Some("no_body")
        );
    }

    #[test]
    fn the_watch_clocks_from_the_first_tick_and_forgets_what_ended() {
        let mut w = Watch::default();
        w.hold(7, Api::Jmap, 300);
        w.hold(9, Api::Graph, 100);
        let first = w.pending(1_000);
        assert_eq!(
            first,
            vec![
                Pending {
                    context_id: 7,
                    api: Api::Jmap,
                    header_bytes: 300,
                    held_ms: 0
                },
                Pending {
                    context_id: 9,
                    api: Api::Graph,
                    header_bytes: 100,
                    held_ms: 0
                }
            ]
        );
        // Held since the first tick; a body callback releases one.
        assert_eq!(w.release(9), Release::Held);
        assert_eq!(w.release(9), Release::NotHeld);
        let later = w.pending(1_500);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].held_ms, 500);
        // Answered with a local reply: no longer pending, and a late body callback knows.
        w.refused(7);
        assert!(w.pending(2_000).is_empty());
        assert_eq!(w.len(), 1);
        assert_eq!(w.release(7), Release::Refused);
        assert!(w.is_empty());
        // A stream that continued, or is gone, is forgotten.
        w.hold(11, Api::Sogo, 50);
        w.forget(11);
        assert!(w.is_empty());
        assert_eq!(w.release(11), Release::NotHeld);
    }
}
