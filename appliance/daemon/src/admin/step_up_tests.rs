//! Sensitive commands on an injected clock: allowed within five minutes of a login, refused
//! from then on, and each refusal audited like any outcome.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use diala_vault::{ManualClock, MasterKey, NewCall, NewSegment, VaultOptions, Vaults};
use totp_rs::Secret;

use super::handlers::AdminApi;
use super::peer::Admin;
use super::protocol::{Body, Command, ErrorKind, OneTimeCode, Response};
use super::totp::{STEP_UP_MS, TotpKey};
use crate::metrics::Metrics;

const T0_MS: i64 = 1_800_000_000_000;

fn api(dir: &std::path::Path, clock: Arc<ManualClock>) -> AdminApi {
    let master = MasterKey::from_credential(&[7; 32]).unwrap();
    let vaults = Vaults::open(dir, master, VaultOptions::default(), clock.clone()).unwrap();
    let acme = vaults.create_tenant("test", "acme", "Acme").unwrap();
    let call = NewCall {
        id: "c1".to_owned(),
        trunk: "sip".to_owned(),
        started_at_ms: T0_MS,
    };
    acme.begin_call(&call).unwrap();
    let segment = NewSegment {
        track: "caller".to_owned(),
        start_ms: 0,
        end_ms: 1000,
        text: Some("kept text".to_owned()),
        redacted: "redacted text".to_owned(),
        confidence: 1.0,
    };
    acme.insert_segment("c1", &segment).unwrap();
    let metrics = Metrics::new().unwrap();
    AdminApi::new(
        Arc::new(vaults),
        metrics,
        clock,
        "127.0.0.1:0".to_owned(),
        dir,
    )
}

fn kind(response: &Response) -> Option<ErrorKind> {
    match &response.body {
        Body::Error { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[test]
fn reveal_is_allowed_for_five_minutes_after_a_login_and_the_sixth_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::at(T0_MS));
    let api = api(dir.path(), clock.clone());
    let root = Admin {
        uid: 0,
        name: Some("root".to_owned()),
    };
    let reveal = Command::CallShow {
        tenant: "acme".to_owned(),
        call: "c1".to_owned(),
        reveal: true,
    };
    let quiet = |_, _| {};
    let refused = api.handle_with(&root, &reveal, &quiet);
    assert_eq!(kind(&refused), Some(ErrorKind::StepUpRefused));

    let secret = api.totp.enrol(0, "root").unwrap().secret_base32;
    let bytes = Secret::Encoded(secret).to_bytes().unwrap();
    let code = TotpKey::new(bytes).unwrap().code_at(T0_MS as u64 / 1000);
    let login = Command::Login {
        code: OneTimeCode(code),
    };
    assert_eq!(kind(&api.handle_with(&root, &login, &quiet)), None);

    clock.set(T0_MS + STEP_UP_MS - 1);
    let allowed = api.handle_with(&root, &reveal, &quiet);
    let line = serde_json::to_string(&allowed).unwrap();
    assert!(line.contains("kept text"), "{line}");

    clock.set(T0_MS + STEP_UP_MS + 60_000);
    let expired = api.handle_with(&root, &reveal, &quiet);
    assert_eq!(kind(&expired), Some(ErrorKind::StepUpRefused));
    // Without a reveal the call is still shown, redacted.
    let show = Command::CallShow {
        tenant: "acme".to_owned(),
        call: "c1".to_owned(),
        reveal: false,
    };
    let line = serde_json::to_string(&api.handle_with(&root, &show, &quiet)).unwrap();
    assert!(
        line.contains("redacted text") && !line.contains("kept text"),
        "{line}"
    );

    let outcomes: Vec<_> = api
        .vaults
        .audit()
        .records()
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "admin.call-reveal" && r.outcome != "started")
        .map(|r| r.outcome)
        .collect();
    assert_eq!(outcomes, ["failed", "succeeded", "failed"]);
}
