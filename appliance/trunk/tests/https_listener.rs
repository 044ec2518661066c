//! The Twilio routes over real TLS on loopback: a signed webhook gets TwiML, anything else a
//! bare 403 that is counted, every response carries HSTS, and a replaced certificate is used by
//! the next connection. The request line is the loopback address; signatures are over the
//! configured public URL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use diala_trunk::listener::server_config;
use support::listener::{cert, request, start};
use support::{ACME, CALL, form, post, signed};

fn has_hsts(response: &str) -> bool {
    response
        .to_ascii_lowercase()
        .contains("strict-transport-security: max-age=31536000")
}

#[tokio::test]
async fn a_signed_webhook_gets_twiml_and_a_forged_one_a_counted_403() {
    let cert = cert();
    let mut server = start(&cert).await;
    let params = form(ACME, CALL);
    let sig = signed("acme-new", "/twilio/voice", &params);

    let ok = request(
        server.addr,
        &cert.der,
        &post("/twilio/voice", Some(&sig), &params),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("<Connect><Stream url=\"wss://edge.example.com/twilio/stream/"));
    assert!(has_hsts(&ok));

    let forged = request(
        server.addr,
        &cert.der,
        &post("/twilio/voice", Some("AAAA"), &params),
    )
    .await;
    assert!(forged.starts_with("HTTP/1.1 403"), "{forged}");
    assert!(has_hsts(&forged));
    let unsigned = request(
        server.addr,
        &cert.der,
        &post("/twilio/voice", None, &params),
    )
    .await;
    assert!(unsigned.starts_with("HTTP/1.1 403"));

    let retry = request(
        server.addr,
        &cert.der,
        &post("/twilio/voice", Some(&sig), &params),
    )
    .await;
    assert_eq!(retry.split("\r\n\r\n").nth(1), ok.split("\r\n\r\n").nth(1));
    let m = &server.metrics;
    assert_eq!((m.calls(), m.retries()), (1, 1));
    assert_eq!(
        (m.refusals("bad_signature"), m.refusals("unsigned")),
        (1, 1)
    );

    server.stop.take().unwrap().send(()).unwrap();
    server.task.await.unwrap();
}

#[tokio::test]
async fn status_callbacks_are_accepted_once_and_other_paths_are_not_found() {
    let cert = cert();
    let server = start(&cert).await;
    let params = form(ACME, CALL);
    let sig = signed("acme-new", "/twilio/status", &params);

    let first = request(
        server.addr,
        &cert.der,
        &post("/twilio/status", Some(&sig), &params),
    )
    .await;
    assert!(first.starts_with("HTTP/1.1 204"), "{first}");
    let again = request(
        server.addr,
        &cert.der,
        &post("/twilio/status", Some(&sig), &params),
    )
    .await;
    assert!(again.starts_with("HTTP/1.1 403"), "{again}");
    let other = request(server.addr, &cert.der, &post("/admin", Some(&sig), &params)).await;
    assert!(
        other.starts_with("HTTP/1.1 404") && has_hsts(&other),
        "{other}"
    );
    assert_eq!(server.metrics.refusals("replayed"), 1);
}

#[tokio::test]
async fn a_replaced_certificate_serves_the_next_connection() {
    let (old, new) = (cert(), cert());
    let server = start(&old).await;
    let config = server_config(new.cert_pem.as_bytes(), new.key_pem.as_bytes()).unwrap();
    server.tls.replace(config);

    let params = form(ACME, CALL);
    let sig = signed("acme-new", "/twilio/voice", &params);
    let ok = request(
        server.addr,
        &new.der,
        &post("/twilio/voice", Some(&sig), &params),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
}

#[test]
fn a_key_that_is_not_pem_is_refused_with_a_clear_error() {
    let cert = cert();
    let err = server_config(cert.cert_pem.as_bytes(), b"not a key").unwrap_err();
    assert!(
        err.to_string().contains("key is missing or not PEM"),
        "{err}"
    );
    let other = self::cert();
    let err = server_config(cert.cert_pem.as_bytes(), other.key_pem.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
}
