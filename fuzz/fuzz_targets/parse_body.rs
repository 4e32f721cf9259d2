//! Random requests through the filter's header-only look and every body parser, then through
//! the confirm-token binding, and for a send by reference through the reader of the mail
//! server's answer: nothing may panic or hang. The body is also read in two pieces, split where
//! the input says, as the filter reads it while it streams in (stopping when it has enough):
//! the result must be the whole body's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistype_filter::extract::{extract, send_of, Body, Progress, Routes, Target};
use mistype_filter::lookup;
use mistype_filter::send::Api;
use mistype_filter::token::{Binding, Signer};

const METHODS: [&str; 4] = ["POST", "PUT", "GET", "PATCH"];
const PATHS: [&str; 24] = [
    "/jmap/api/",
    "/v1.0/me/sendMail",
    "/v1.0/users('u%40x')/messages('AAMk''1')/microsoft.graph.send",
    "/v1.0/me/messages/AAMk%3D/send",
    "/index.php/apps/mail/api/outbox/17",
    "/v1.0/me/messages/AAMk/forward",
    "/v1.0/$batch",
    "/v1.0/me/mailFolders/inbox/messageRules/R1",
    "/gmail/v1/users/me/messages/send",
    "/gmail/v1/users/me/drafts/send",
    "/gmail/v1/users/me/settings/filters",
    "/gmail/v1/users/me/settings/autoForwarding",
    "/upload/gmail/v1/users/me/messages/send?uploadType=multipart",
    "/upload/gmail/v1/users/me/messages/send?uploadType=media",
    "/batch",
    "/?_task=mail&_action=send",
    "/?_task=mail&_action=bounce",
    "/?/Json/&q[]=/0/",
    "/?/Ajax/&q[]=/0/",
    "/index.php/apps/mail/api/outbox",
    "/SOGo/so/u/Mail/0/Drafts/d1/send",
    "/check",
    "/verdict",
    "/elsewhere",
];
const TYPES: [Option<&str>; 9] = [
    None,
    Some("application/json"),
    Some("text/plain"),
    Some("message/rfc822"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=b"),
    Some("multipart/related; boundary=b"),
    Some("multipart/related"),
    Some("multipart/mixed; boundary=b"),
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let routes = Routes {
        check_path: Some("/check".into()),
        verdict_path: Some("/verdict".into()),
        ..Routes::default()
    };
    let method = METHODS[data[0] as usize % METHODS.len()];
    let path = PATHS[data[1] as usize % PATHS.len()];
    let ct = TYPES[data[2] as usize % TYPES.len()];
    let body = &data[4..];
    let split = usize::from(data[3]) * body.len() / 255;
    let Some(candidate) = routes.classify(method, path, ct) else {
        return;
    };
    let target = Target {
        path,
        content_type: ct,
        prefixes: routes.prefixes(candidate.api),
    };
    let whole = extract(candidate, target, body);
    let mut streamed = Body::new(candidate, target);
    if streamed.feed(&body[..split]) == Progress::More {
        streamed.feed(&body[split..]);
    }
    assert_eq!(
        send_of(candidate, target, streamed.finish()),
        whole,
        "split at {split}"
    );
    if let Ok(Some(send)) = whole {
        assert!(Api::ALL.contains(&send.api));
        let _ = send.to_request(None);
        let binding = Binding::new(send.from.as_deref(), send.recipients());
        if let Ok(signer) = Signer::new(b"fuzzing-secret-0123456789") {
            let token = signer.issue(&binding, 100);
            assert!(signer.verify(&token, &binding, 99).is_ok());
        }
        // A send by reference: the same bytes as the mail server's answer about each stored
        // message, read by that API's reader.
        for r in &send.references {
            let _ = lookup::read(r, Some(200), body);
        }
    }
});
