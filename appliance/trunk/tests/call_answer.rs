//! A call from webhook to stream upgrade through the trunk's door, signed the way Twilio signs,
//! on explicit time: tenants come from the verifying account, retries get the same answer,
//! forged, stale and replayed requests are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use diala_trunk::twilio::{Refusal, TokenSlot, TwilioTrunk};
use support::{ACME, CALL, GLOBEX, at, form, signed, stream_url, trunk, upgrade};

#[test]
fn a_call_is_answered_for_the_tenant_whose_token_signed_it() {
    let mut trunk = trunk();
    let params = form(ACME, CALL);
    let sig = signed("acme-new", "/twilio/voice", &params);
    let answer = trunk
        .answer_call("/twilio/voice", Some(&sig), &params, at(0))
        .unwrap();

    assert_eq!(answer.call.tenant(), "acme");
    assert_eq!(answer.call.call_sid(), CALL);
    assert_eq!(answer.call.slot(), TokenSlot::Primary);
    assert!(!answer.retry);
    assert!(
        answer
            .twiml
            .contains("<Connect><Stream url=\"wss://edge.example.com/twilio/stream/")
    );
    assert!(
        !answer.twiml.contains("+1415"),
        "no phone number in the answer"
    );
}

#[test]
fn a_called_number_with_its_own_mode_is_forked_to_the_pbx() {
    let mut trunk = trunk();
    let mut params = form(ACME, CALL);
    for (key, value) in &mut params {
        if key == "To" {
            *value = "+14155550123".into();
        }
    }
    let sig = signed("acme-new", "/twilio/voice", &params);
    let answer = trunk
        .answer_call("/twilio/voice", Some(&sig), &params, at(0))
        .unwrap();
    assert!(answer.twiml.contains(r#"track="both_tracks"/></Start>"#));
    assert!(
        answer
            .twiml
            .ends_with("<Dial><Number>+14155550124</Number></Dial></Response>")
    );
}

#[test]
fn replaced_accounts_verify_the_next_call_with_the_new_token() {
    use diala_trunk::twilio::signature::Algorithm;
    use diala_trunk::twilio::{Account, Accounts, AuthToken, StreamMode};

    let mut trunk = trunk();
    let mut accounts = Accounts::new();
    let rotated = Account {
        tenant: "acme".into(),
        primary: AuthToken::new("acme-newer"),
        secondary: None,
        algorithm: Algorithm::HmacSha1,
        mode: StreamMode::Connect,
        numbers: Vec::new(),
    };
    accounts.insert(ACME, rotated);
    trunk.replace_accounts(accounts);

    let params = form(ACME, CALL);
    let old = signed("acme-new", "/twilio/voice", &params);
    let refused = trunk.answer_call("/twilio/voice", Some(&old), &params, at(0));
    assert_eq!(refused.unwrap_err().reason(), "bad_signature");
    let new = signed("acme-newer", "/twilio/voice", &params);
    let answer = trunk.answer_call("/twilio/voice", Some(&new), &params, at(0));
    assert_eq!(answer.unwrap().call.slot(), TokenSlot::Primary);
}

#[test]
fn the_secondary_token_keeps_calls_flowing_during_a_rotation() {
    let params = form(ACME, CALL);
    let sig = signed("acme-old", "/twilio/voice", &params);
    let answer = trunk()
        .answer_call("/twilio/voice", Some(&sig), &params, at(0))
        .unwrap();
    assert_eq!(answer.call.slot(), TokenSlot::Secondary);
}

#[test]
fn forged_unsigned_and_cross_tenant_webhooks_are_refused() {
    let mut trunk = trunk();
    let params = form(ACME, CALL);
    let refuse = |trunk: &mut TwilioTrunk, sig: Option<&str>, params: &[(String, String)]| {
        trunk
            .answer_call("/twilio/voice", sig, params, at(0))
            .unwrap_err()
            .reason()
    };

    assert_eq!(refuse(&mut trunk, None, &params), "unsigned");
    assert_eq!(
        refuse(&mut trunk, Some("Zm9yZ2Vk"), &params),
        "bad_signature"
    );
    // Signed by another tenant's token while claiming to be acme.
    let globex_sig = signed("globex-token", "/twilio/voice", &params);
    assert_eq!(
        refuse(&mut trunk, Some(&globex_sig), &params),
        "bad_signature"
    );
    // Signed for a different path than the one requested.
    let other_path = signed("acme-new", "/twilio/status", &params);
    assert_eq!(
        refuse(&mut trunk, Some(&other_path), &params),
        "bad_signature"
    );
    let stranger = form("AC00000000000000000000000000000009", CALL);
    let sig = signed("acme-new", "/twilio/voice", &stranger);
    assert_eq!(refuse(&mut trunk, Some(&sig), &stranger), "unknown_account");

    // None of those left a trace: the genuine first attempt is a new call.
    let sig = signed("acme-new", "/twilio/voice", &params);
    assert!(
        !trunk
            .answer_call("/twilio/voice", Some(&sig), &params, at(1))
            .unwrap()
            .retry
    );
}

#[test]
fn a_retry_of_the_same_call_gets_the_same_answer_and_starts_nothing() {
    let mut trunk = trunk();
    let params = form(GLOBEX, CALL);
    let sig = signed("globex-token", "/twilio/voice", &params);
    let first = trunk
        .answer_call("/twilio/voice", Some(&sig), &params, at(0))
        .unwrap();
    let retry = trunk
        .answer_call("/twilio/voice", Some(&sig), &params, at(15))
        .unwrap();

    assert!(retry.retry);
    assert_eq!(retry.twiml, first.twiml);
    assert!(first.twiml.contains("track=\"both_tracks\""));
    assert!(
        first
            .twiml
            .contains("<Dial><Sip>sip:desk@pbx.globex.example</Sip></Dial>")
    );
}

#[test]
fn the_stream_upgrade_is_accepted_once_for_the_verified_call() {
    let mut trunk = trunk();
    let params = form(ACME, CALL);
    let sig = signed("acme-new", "/twilio/voice", &params);
    let answer = trunk
        .answer_call("/twilio/voice", Some(&sig), &params, at(0))
        .unwrap();
    let (path, upgrade_sig) = upgrade("acme-new", &stream_url(&answer.twiml));

    let stream = trunk
        .accept_stream(&path, Some(&upgrade_sig), at(2))
        .unwrap();
    assert_eq!((stream.tenant(), stream.call_sid()), ("acme", CALL));
    let again = trunk
        .accept_stream(&path, Some(&upgrade_sig), at(3))
        .unwrap_err();
    assert_eq!(again.reason(), "replayed");
}

#[test]
fn stale_forged_and_cross_tenant_upgrades_are_refused() {
    let mut trunk = trunk();
    let params = form(ACME, CALL);
    let sig = signed("acme-new", "/twilio/voice", &params);
    let answer = trunk
        .answer_call("/twilio/voice", Some(&sig), &params, at(0))
        .unwrap();
    let url = stream_url(&answer.twiml);

    let (path, good) = upgrade("acme-new", &url);
    let (_, globex_sig) = upgrade("globex-token", &url);
    let reason = |r: Result<_, Refusal>| r.unwrap_err().reason();
    assert_eq!(
        reason(trunk.accept_stream(&path, Some(&good), at(60))),
        "bad_token"
    );
    assert_eq!(
        reason(trunk.accept_stream(&path, Some(&globex_sig), at(1))),
        "bad_signature"
    );
    assert_eq!(reason(trunk.accept_stream(&path, None, at(1))), "unsigned");
    let forged_path = format!("{path}x");
    let (_, forged_sig) = upgrade("acme-new", &format!("wss://edge.example.com{forged_path}"));
    assert_eq!(
        reason(trunk.accept_stream(&forged_path, Some(&forged_sig), at(1))),
        "bad_token"
    );
    assert_eq!(
        reason(trunk.accept_stream("/twilio/voice", Some(&good), at(1))),
        "malformed"
    );

    // The genuine upgrade still goes through after all those.
    assert!(trunk.accept_stream(&path, Some(&good), at(1)).is_ok());
}

#[test]
fn a_status_callback_is_accepted_once() {
    let mut trunk = trunk();
    let mut params = form(GLOBEX, CALL);
    params.push(("CallStatus".to_owned(), "completed".to_owned()));
    let sig = signed("globex-token", "/twilio/status", &params);

    let call = trunk
        .accept_status("/twilio/status", Some(&sig), &params, at(0))
        .unwrap();
    assert_eq!(call.tenant(), "globex");
    let again = trunk
        .accept_status("/twilio/status", Some(&sig), &params, at(5))
        .unwrap_err();
    assert_eq!(again.reason(), "replayed");
    let unsigned = trunk
        .accept_status("/twilio/status", None, &params, at(5))
        .unwrap_err();
    assert_eq!(unsigned.reason(), "unsigned");
}
