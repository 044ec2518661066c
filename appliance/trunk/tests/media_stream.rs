//! Media Streams over real TLS and WebSocket on loopback, from a Twilio-like sender: the call's
//! audio reaches the pipeline in order for the right tenant; forged upgrades are refused;
//! malformed frames close the socket and are counted; a dropped socket still closes the call.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use diala_trunk::listener::{StreamEnd, StreamUpdate};
use diala_trunk::twilio::SessionEvent;
use diala_trunk::twilio::stream_message::StreamTrack;
use futures_util::{SinkExt as _, StreamExt as _};
use support::listener::{Cert, Server, cert, connect, request, start};
use support::{ACME, CALL, TwilioStream, form, post, signed, stream_url};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

type Socket = WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

/// Answers a call over HTTPS and returns the stream URL from its TwiML.
async fn answer(server: &Server, cert: &Cert) -> String {
    let params = form(ACME, CALL);
    let sig = signed("acme-new", "/twilio/voice", &params);
    let raw = post("/twilio/voice", Some(&sig), &params);
    let response = request(server.addr, &cert.der, &raw).await;
    stream_url(&response)
}

/// Opens the WebSocket to `url` with `signature` (Twilio signs the wss URL with no body).
async fn upgrade(
    server: &Server,
    cert: &Cert,
    url: &str,
    sig: Option<&str>,
) -> Result<Socket, WsError> {
    let mut req = url.into_client_request().unwrap();
    if let Some(sig) = sig {
        req.headers_mut()
            .insert("X-Twilio-Signature", sig.parse().unwrap());
    }
    let tls = connect(server.addr, &cert.der).await;
    client_async(req, tls).await.map(|(socket, _)| socket)
}

fn upgrade_signature(url: &str) -> String {
    use diala_trunk::twilio::signature::{Algorithm, sign};
    sign(Algorithm::HmacSha1, b"acme-new", url, &[])
}

/// A call answered over HTTPS and its stream opened as Twilio would.
async fn open_call() -> (Server, Socket) {
    let cert = cert();
    let server = start(&cert).await;
    let url = answer(&server, &cert).await;
    let sig = upgrade_signature(&url);
    let socket = upgrade(&server, &cert, &url, Some(&sig)).await.unwrap();
    (server, socket)
}

async fn send(socket: &mut Socket, text: String) {
    socket.send(Message::text(text)).await.unwrap();
}

#[tokio::test]
async fn a_calls_audio_reaches_the_pipeline_in_order() {
    let (mut server, mut socket) = open_call().await;

    let mut twilio = TwilioStream::new(ACME, CALL);
    send(&mut socket, twilio.connected()).await;
    send(&mut socket, twilio.start(&["inbound", "outbound"])).await;
    for chunk in 1..=25 {
        send(&mut socket, twilio.media("inbound", chunk, &[0x7f; 160])).await;
        send(&mut socket, twilio.media("outbound", chunk, &[0xff; 160])).await;
    }
    send(&mut socket, twilio.stop()).await;

    let mut audio = Vec::new();
    let closed = loop {
        match server.updates.recv().await.unwrap() {
            StreamUpdate::Event {
                tenant,
                call_sid,
                event,
            } => {
                assert_eq!((tenant.as_str(), call_sid.as_str()), ("acme", CALL));
                if let SessionEvent::Audio(media) = event {
                    audio.push((media.track, media.chunk));
                }
            }
            StreamUpdate::Closed { end, .. } => break end,
        }
    };
    assert_eq!(closed, StreamEnd::Stopped);
    assert_eq!(audio.len(), 50);
    let inbound: Vec<u64> = audio
        .iter()
        .filter(|(t, _)| *t == StreamTrack::Inbound)
        .map(|(_, c)| *c)
        .collect();
    assert_eq!(inbound, (1..=25).collect::<Vec<_>>());
    assert_eq!(server.metrics.streams(), 1);
    assert_eq!(server.metrics.sequence_gaps(), (0, 0));
}

#[tokio::test]
async fn forged_and_replayed_upgrades_are_refused() {
    let cert = cert();
    let server = start(&cert).await;
    let url = answer(&server, &cert).await;

    let forged = upgrade(&server, &cert, &url, Some("Zm9yZ2VkIQ=="))
        .await
        .unwrap_err();
    assert!(
        matches!(forged, WsError::Http(ref r) if r.status() == 403),
        "{forged:?}"
    );
    let unsigned = upgrade(&server, &cert, &url, None).await.unwrap_err();
    assert!(matches!(unsigned, WsError::Http(ref r) if r.status() == 403));

    let sig = upgrade_signature(&url);
    let _first = upgrade(&server, &cert, &url, Some(&sig)).await.unwrap();
    let replay = upgrade(&server, &cert, &url, Some(&sig)).await.unwrap_err();
    assert!(matches!(replay, WsError::Http(ref r) if r.status() == 403));
    let m = &server.metrics;
    assert_eq!(
        (
            m.refusals("bad_signature"),
            m.refusals("unsigned"),
            m.refusals("replayed")
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_malformed_frame_closes_the_socket_and_is_counted() {
    let (mut server, mut socket) = open_call().await;
    let mut twilio = TwilioStream::new(ACME, CALL);
    send(&mut socket, twilio.start(&["inbound"])).await;
    twilio.lose(2);
    send(&mut socket, twilio.media("inbound", 3, &[0; 160])).await;
    send(
        &mut socket,
        "{\"event\":\"media\",\"sequenceNumber\":".to_owned(),
    )
    .await;

    let close = loop {
        match socket.next().await {
            Some(Ok(Message::Close(frame))) => break frame.unwrap(),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.code, CloseCode::Policy);
    let mut end = None;
    while let Some(update) = server.updates.recv().await {
        if let StreamUpdate::Closed { end: e, .. } = update {
            end = Some(e);
            break;
        }
    }
    assert_eq!(end, Some(StreamEnd::Refused));
    assert_eq!(server.metrics.stream_refusals(), 1);
    assert_eq!(server.metrics.sequence_gaps(), (1, 2));
}

#[tokio::test]
async fn a_dropped_socket_still_closes_the_call() {
    let (mut server, mut socket) = open_call().await;
    let mut twilio = TwilioStream::new(ACME, CALL);
    send(&mut socket, twilio.start(&["inbound"])).await;
    send(&mut socket, twilio.media("inbound", 1, &[0; 160])).await;
    drop(socket);

    let mut seen = Vec::new();
    while let Some(update) = server.updates.recv().await {
        let closed = matches!(update, StreamUpdate::Closed { .. });
        seen.push(update);
        if closed {
            break;
        }
    }
    assert!(matches!(
        seen.last(),
        Some(StreamUpdate::Closed {
            end: StreamEnd::Disconnected,
            ..
        })
    ));
    assert!(seen.iter().any(|u| matches!(
        u,
        StreamUpdate::Event {
            event: SessionEvent::Audio(_),
            ..
        }
    )));
}
