//! The Twilio routes over real TLS on loopback: a signed webhook gets TwiML, anything else a
//! bare 403 that is counted, every response carries HSTS, and a replaced certificate is used by
//! the next connection. The request line is the loopback address; signatures are over the
//! configured public URL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::sync::Arc;

use diala_trunk::listener::{ServerTls, TrunkMetrics, router, serve, server_config};
use rustls::pki_types::{CertificateDer, ServerName};
use support::{ACME, CALL, form, signed, trunk};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

struct Cert {
    der: CertificateDer<'static>,
    cert_pem: String,
    key_pem: String,
}

fn cert() -> Cert {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    Cert {
        der: made.cert.der().clone(),
        cert_pem: made.cert.pem(),
        key_pem: made.key_pair.serialize_pem(),
    }
}

struct Server {
    addr: std::net::SocketAddr,
    tls: ServerTls,
    metrics: Arc<TrunkMetrics>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

async fn start(cert: &Cert) -> Server {
    let config = server_config(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes()).unwrap();
    let tls = ServerTls::new(config);
    let metrics = Arc::new(TrunkMetrics::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(trunk(), metrics.clone());
    let task = tokio::spawn(serve(listener, tls.clone(), app, async move {
        let _ = stopped.await;
    }));
    Server {
        addr,
        tls,
        metrics,
        stop: Some(stop),
        task,
    }
}

/// Sends one HTTP/1.1 request over TLS trusting only `trusted`; returns the raw response.
async fn request(
    addr: std::net::SocketAddr,
    trusted: &CertificateDer<'static>,
    raw: &str,
) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    tls.write_all(raw.as_bytes()).await.unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    response
}

fn post(path: &str, signature: Option<&str>, params: &[(String, String)]) -> String {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let sig = signature.map_or(String::new(), |s| format!("X-Twilio-Signature: {s}\r\n"));
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\n{sig}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

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
