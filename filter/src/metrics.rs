//! Counter names. Each counter exists once overall (`mistype.<counter>`) and once per API
//! (`mistype.api.<api>.<counter>`); Envoy shows them under these names in `/stats` and as
//! `mistype_<counter>` / `mistype_api_<api>_<counter>` in Prometheus (or, with the `stats_tags`
//! rule in the README, as `mistype_api_<counter>{api="<api>"}`).

use crate::send::Api;

/// The counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Recognised sends looked at (including oversize and unparseable ones).
    Inspected,
    /// Sends whose verdict was `allow`.
    Allowed,
    /// Sends whose verdict was `warn`.
    Warned,
    /// Sends whose verdict was `block` (in block mode: answered 422; in warn and monitor mode:
    /// would have been).
    Blocked,
    /// Sends with a `block` verdict let through by a valid confirm token.
    Confirmed,
    /// Confirm tokens refused (forged, altered, expired, malformed).
    ConfirmRejected,
    /// Recognised sends whose body could not be parsed.
    ParseErrors,
    /// Recognised sends above `max_body_bytes`.
    BodyTooLarge,
    /// Recognised sends naming no recipients, even after a lookup (an empty draft).
    NoRecipients,
    /// Sends by reference whose stored message was looked up on the mail server.
    Lookups,
    /// Lookups that failed, timed out or could not be read.
    LookupFailed,
    /// Held sends that got no body in time (Envoy without `allow_on_headers_stop_iteration`),
    /// answered by `stall.action`.
    Stalled,
}

impl Counter {
    /// Every counter, in the order of [`Counter::index`].
    pub const ALL: [Counter; 12] = [
        Counter::Inspected,
        Counter::Allowed,
        Counter::Warned,
        Counter::Blocked,
        Counter::Confirmed,
        Counter::ConfirmRejected,
        Counter::ParseErrors,
        Counter::BodyTooLarge,
        Counter::NoRecipients,
        Counter::Lookups,
        Counter::LookupFailed,
        Counter::Stalled,
    ];

    /// The name's last segment.
    pub fn name(self) -> &'static str {
        match self {
            Counter::Inspected => "inspected",
            Counter::Allowed => "allowed",
            Counter::Warned => "warned",
            Counter::Blocked => "blocked",
            Counter::Confirmed => "confirmed",
            Counter::ConfirmRejected => "confirm_rejected",
            Counter::ParseErrors => "parse_errors",
            Counter::BodyTooLarge => "body_too_large",
            Counter::NoRecipients => "no_recipients",
            Counter::Lookups => "lookups",
            Counter::LookupFailed => "lookup_failed",
            Counter::Stalled => "stalled",
        }
    }

    /// Position in [`Counter::ALL`] (for the tables of metric ids).
    pub fn index(self) -> usize {
        match self {
            Counter::Inspected => 0,
            Counter::Allowed => 1,
            Counter::Warned => 2,
            Counter::Blocked => 3,
            Counter::Confirmed => 4,
            Counter::ConfirmRejected => 5,
            Counter::ParseErrors => 6,
            Counter::BodyTooLarge => 7,
            Counter::NoRecipients => 8,
            Counter::Lookups => 9,
            Counter::LookupFailed => 10,
            Counter::Stalled => 11,
        }
    }
}

/// The overall metric name of a counter.
pub fn total_name(c: Counter) -> String {
    format!("mistype.{}", c.name())
}

/// The per-API metric name of a counter.
pub fn api_name(api: Api, c: Counter) -> String {
    format!("mistype.api.{}.{}", api.name(), c.name())
}

/// Every metric name the filter defines, overall first, then per API.
pub fn all_names() -> Vec<String> {
    let mut out: Vec<String> = Counter::ALL.iter().map(|c| total_name(*c)).collect();
    for api in Api::ALL {
        out.extend(Counter::ALL.iter().map(|c| api_name(api, *c)));
    }
    out
}

/// The two metrics a count goes to: the overall counter and the API's, as positions in
/// [`all_names`].
pub fn slots(api: Api, c: Counter) -> [usize; 2] {
    let n = Counter::ALL.len();
    [c.index(), n * (1 + api.index()) + c.index()]
}

/// Counts kept in the VM until they are handed to the host together, one per metric of
/// [`all_names`]: each increment handed over on its own is a call out of the VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    counts: Vec<u64>,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            counts: vec![0; Counter::ALL.len() * (1 + Api::ALL.len())],
        }
    }
}

impl Tally {
    /// Counts one `c` of `api` (overall and for the API).
    pub fn add(&mut self, api: Api, c: Counter) {
        for slot in slots(api, c) {
            if let Some(n) = self.counts.get_mut(slot) {
                *n += 1;
            }
        }
    }

    /// The counts not yet handed over, as (position in [`all_names`], count), each once; the
    /// tally is empty afterwards.
    pub fn take(&mut self) -> Vec<(usize, u64)> {
        self.counts
            .iter_mut()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(slot, n)| (slot, std::mem::take(n)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_in_index_order_with_its_documented_name() {
        assert_eq!(
            Counter::ALL.map(Counter::name),
            [
                "inspected",
                "allowed",
                "warned",
                "blocked",
                "confirmed",
                "confirm_rejected",
                "parse_errors",
                "body_too_large",
                "no_recipients",
                "lookups",
                "lookup_failed",
                "stalled"
            ]
        );
        for (i, c) in Counter::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i, "{c:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            total_name(Counter::ConfirmRejected),
            "mistype.confirm_rejected"
        );
        assert_eq!(
            api_name(Api::Gmail, Counter::Blocked),
            "mistype.api.gmail.blocked"
        );
        // 12 counters overall, then 12 for each of the 8 APIs, each name once.
        let all = all_names();
        assert_eq!(all.len(), 108);
        assert_eq!(all[0], "mistype.inspected");
        assert_eq!(all[11], "mistype.stalled");
        assert_eq!(all[12], "mistype.api.jmap.inspected");
        assert_eq!(all[107], "mistype.api.check.stalled");
        let mut dedup = all.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), all.len());
    }

    #[test]
    fn slots_name_the_overall_and_the_apis_counter() {
        let all = all_names();
        for api in Api::ALL {
            for c in Counter::ALL {
                let [total, per_api] = slots(api, c);
                assert_eq!(all[total], total_name(c));
                assert_eq!(all[per_api], api_name(api, c));
            }
        }
    }

    #[test]
    fn a_tally_hands_over_each_count_once() {
        let mut t = Tally::default();
        assert!(t.take().is_empty());
        t.add(Api::Jmap, Counter::Inspected);
        t.add(Api::Jmap, Counter::Allowed);
        t.add(Api::Gmail, Counter::Inspected);
        let named = |t: &mut Tally| -> Vec<(String, u64)> {
            let all = all_names();
            t.take()
                .into_iter()
                .map(|(slot, n)| (all[slot].clone(), n))
                .collect()
        };
        assert_eq!(
            named(&mut t),
            [
                ("mistype.inspected".to_owned(), 2),
                ("mistype.allowed".to_owned(), 1),
                ("mistype.api.jmap.inspected".to_owned(), 1),
                ("mistype.api.jmap.allowed".to_owned(), 1),
                ("mistype.api.gmail.inspected".to_owned(), 1),
            ]
        );
        assert!(t.take().is_empty(), "taken once");
        t.add(Api::Check, Counter::Stalled);
        assert_eq!(
            named(&mut t),
            [
                ("mistype.stalled".to_owned(), 1),
                ("mistype.api.check.stalled".to_owned(), 1),
            ]
        );
    }
}
