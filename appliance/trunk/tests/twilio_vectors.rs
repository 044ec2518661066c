//! Every vector taken from Twilio's official libraries' tests (`tests/data/twilio_vectors.json`)
//! through the public signature API: the verdict must match, and for a valid vector the
//! signature we compute over the URL Twilio signed must be the one in the vector.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use diala_trunk::twilio::signature::{Algorithm, SignedBody, body_sha256_hex, is_valid, sign};
use serde_json::Value;

const VECTORS: &str = include_str!("data/twilio_vectors.json");

fn form_params(params: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in params.as_object().unwrap() {
        match value {
            Value::String(s) => out.push((name.clone(), s.clone())),
            Value::Array(values) => {
                for v in values {
                    out.push((name.clone(), v.as_str().unwrap().to_owned()));
                }
            }
            other => panic!("unexpected parameter value {other}"),
        }
    }
    out
}

/// Checks one vector; returns how many assertions it made.
fn check(vector: &Value) -> usize {
    let id = vector["id"].as_str().unwrap();
    if vector["check"] == "body_hash_only" {
        let body = vector["body"].as_str().unwrap().as_bytes();
        assert_eq!(
            body_sha256_hex(body),
            vector["expected_body_sha256"],
            "{id}"
        );
        return 1;
    }

    let algorithm: Algorithm = vector["algorithm"].as_str().unwrap().parse().unwrap();
    let key = vector["auth_token"].as_str().unwrap().as_bytes();
    let url = vector["url"].as_str().unwrap();
    let signature = vector["expected_signature"].as_str().unwrap();
    let params = if vector["params"].is_null() {
        Vec::new()
    } else {
        form_params(&vector["params"])
    };
    let body = match vector["body"].as_str() {
        Some(json) => SignedBody::Json(json.as_bytes()),
        None => SignedBody::Form(&params),
    };
    let expected = vector["expected_valid"].as_bool().unwrap();
    assert_eq!(
        is_valid(algorithm, key, url, body, signature),
        expected,
        "{id}"
    );

    if let (true, Some(signed_url)) = (expected, vector["signed_url"].as_str()) {
        assert_eq!(
            sign(algorithm, key, signed_url, &params),
            signature,
            "{id}: signed string"
        );
    }
    1
}

#[test]
fn all_53_library_vectors_pass() {
    let vectors: Vec<Value> = serde_json::from_str(VECTORS).unwrap();
    let checked: usize = vectors.iter().map(check).sum();
    assert_eq!(checked, 53);
}

#[test]
fn a_signature_is_not_valid_under_the_other_algorithm() {
    let params = vec![("CallSid".to_owned(), "CA1".to_owned())];
    let url = "https://edge.example/twilio/voice";
    let sha256 = sign(Algorithm::HmacSha256, b"k", url, &params);
    assert!(is_valid(
        Algorithm::HmacSha256,
        b"k",
        url,
        SignedBody::Form(&params),
        &sha256
    ));
    assert!(!is_valid(
        Algorithm::HmacSha1,
        b"k",
        url,
        SignedBody::Form(&params),
        &sha256
    ));
}
