//! One connection at the reference control plane: enrollment or sync, chosen by ALPN.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::sync::mpsc;

use super::Shared;
use crate::protocol::{
    ALPN_ENROLL, ALPN_SYNC, Ack, ApplianceMessage, ControlMessage, Decoded, EnrollAnswer,
    EnrollMessage, Hello, PROTOCOL_VERSION, ProtocolError, Welcome, decode, read_frame,
    read_message, write_message,
};
use crate::tls;

const MAX_BATCH: u32 = 256;
const WINDOW: u32 = 4;
/// How often a connection looks for newly queued commands.
const COMMAND_POLL: Duration = Duration::from_millis(100);

fn error(code: &str, message: &str) -> ProtocolError {
    ProtocolError {
        code: code.to_owned(),
        message: message.to_owned(),
        fatal: true,
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Serves one incoming connection to its end.
pub(crate) async fn serve(incoming: quinn::Incoming, shared: Arc<Shared>) {
    let Ok(connection) = incoming.await else {
        return;
    };
    let alpn = connection
        .handshake_data()
        .and_then(|h| h.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .and_then(|h| h.protocol);
    let Ok((send, recv)) = connection.accept_bi().await else {
        return;
    };
    match alpn.as_deref() {
        Some(ALPN_ENROLL) => enroll(&connection, send, recv, &shared).await,
        Some(ALPN_SYNC) => sync(&connection, send, recv, &shared).await,
        _ => connection.close(1u32.into(), b"unknown protocol"),
    }
}

async fn enroll(
    connection: &quinn::Connection,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    shared: &Shared,
) {
    let answer = match read_message::<EnrollMessage, _>(&mut recv).await {
        Ok(Some(Decoded::Known(EnrollMessage::EnrollRequest(request)))) => {
            match shared
                .store
                .bind_token(&request.token, &request.appliance_id)
            {
                Ok(true) => issue(shared, &request.csr_pem, &request.appliance_id),
                Ok(false) => {
                    EnrollAnswer::Error(error("bad-token", "unknown or used enrollment token"))
                }
                Err(e) => EnrollAnswer::Error(error("internal", &e.to_string())),
            }
        }
        _ => EnrollAnswer::Error(error("malformed", "expected an enroll-request")),
    };
    let _ = write_message(&mut send, &answer).await;
    let _ = send.finish();
    let _ = connection.closed().await;
}

fn issue(shared: &Shared, csr_pem: &str, appliance_id: &str) -> EnrollAnswer {
    let now = now_ms();
    let until = now + shared.certificate_validity_ms;
    match shared.ca.sign_appliance(csr_pem, appliance_id, now, until) {
        Ok(issued) => match shared
            .store
            .add_certificate(&issued.serial, appliance_id, until)
        {
            Ok(()) => EnrollAnswer::Enrolled {
                certificate_pem: issued.certificate_pem,
            },
            Err(e) => EnrollAnswer::Error(error("internal", &e.to_string())),
        },
        Err(e) => EnrollAnswer::Error(error("bad-request", &e.to_string())),
    }
}

/// Checks the hello against the verified certificate; the appliance id, or the refusal.
fn admit(
    connection: &quinn::Connection,
    hello: &Hello,
    shared: &Shared,
) -> Result<String, ProtocolError> {
    let certs = connection
        .peer_identity()
        .and_then(|i| i.downcast::<Vec<CertificateDer<'static>>>().ok())
        .ok_or_else(|| {
            error(
                "client-certificate-required",
                "sync needs the appliance's certificate",
            )
        })?;
    let first = certs
        .first()
        .ok_or_else(|| error("client-certificate-required", "no certificate"))?;
    let facts =
        tls::certificate_facts(first).map_err(|e| error("unknown-certificate", &e.to_string()))?;
    if hello.protocol != PROTOCOL_VERSION {
        return Err(error(
            "unsupported-version",
            "this control plane speaks protocol 1",
        ));
    }
    if hello.appliance_id != facts.appliance_id {
        return Err(error(
            "appliance-mismatch",
            "the certificate was issued to another appliance",
        ));
    }
    match shared
        .store
        .certificate_revoked(&facts.serial, &facts.appliance_id)
    {
        Ok(Some(false)) => Ok(facts.appliance_id),
        Ok(Some(true)) => Err(error("certificate-revoked", "this certificate was revoked")),
        Ok(None) => Err(error(
            "unknown-certificate",
            "this control plane did not issue it",
        )),
        Err(e) => Err(error("internal", &e.to_string())),
    }
}

async fn sync(
    connection: &quinn::Connection,
    mut send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    shared: &Arc<Shared>,
) {
    let hello = match read_frame(&mut recv)
        .await
        .ok()
        .flatten()
        .map(|f| decode::<ApplianceMessage>(&f))
    {
        Some(Ok(Decoded::Known(ApplianceMessage::Hello(hello)))) => hello,
        _ => return connection.close(2u32.into(), b"expected hello"),
    };
    let appliance = match admit(connection, &hello, shared) {
        Ok(appliance) => appliance,
        Err(refusal) => {
            let _ = write_message(&mut send, &ControlMessage::Error(refusal)).await;
            let _ = send.finish();
            let _ = tokio::time::timeout(Duration::from_secs(2), connection.closed()).await;
            return;
        }
    };
    let welcome = ControlMessage::Welcome(Welcome {
        protocol: PROTOCOL_VERSION,
        max_batch: MAX_BATCH,
        window: WINDOW,
    });
    if write_message(&mut send, &welcome).await.is_err() {
        return;
    }
    let (out, rx) = mpsc::channel(64);
    // Both helpers end when this function ends, or is aborted: the set aborts them on drop.
    let mut helpers = tokio::task::JoinSet::new();
    helpers.spawn(write_all(send, rx));
    helpers.spawn(push_commands(
        shared.clone(),
        appliance.clone(),
        out.clone(),
    ));
    receive(connection, recv, shared, &appliance, out).await;
}

async fn write_all(mut send: quinn::SendStream, mut rx: mpsc::Receiver<ControlMessage>) {
    while let Some(message) = rx.recv().await {
        if write_message(&mut send, &message).await.is_err() {
            return;
        }
    }
}

async fn push_commands(shared: Arc<Shared>, appliance: String, out: mpsc::Sender<ControlMessage>) {
    let mut sent = HashSet::new();
    loop {
        for (id, message) in shared.store.pending(&appliance).unwrap_or_default() {
            if sent.insert(id) && out.send(message).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(COMMAND_POLL).await;
    }
}

async fn receive(
    connection: &quinn::Connection,
    mut recv: quinn::RecvStream,
    shared: &Shared,
    appliance: &str,
    out: mpsc::Sender<ControlMessage>,
) {
    while let Ok(Some(frame)) = read_frame(&mut recv).await {
        let message = match decode::<ApplianceMessage>(&frame) {
            Ok(message) => message,
            Err(e) => {
                let refusal = ControlMessage::Error(error("malformed", &e.to_string()));
                let _ = out.send(refusal).await;
                return;
            }
        };
        match message {
            Decoded::Known(ApplianceMessage::Batch(batch)) => {
                let Ok((applied, duplicates)) = shared.store.apply_batch(appliance, &frame, &batch)
                else {
                    return connection.close(3u32.into(), b"store failed");
                };
                if shared.faults.drop_next_ack.swap(false, Ordering::SeqCst) {
                    return connection.close(4u32.into(), b"dropped before the ack");
                }
                let ack = Ack {
                    batch: batch.batch,
                    applied,
                    duplicates,
                };
                if out.send(ControlMessage::Ack(ack)).await.is_err() {
                    return;
                }
            }
            Decoded::Known(ApplianceMessage::CommandResult(result)) => {
                let _ = shared.store.capture(appliance, &frame);
                let _ = shared.store.command_result(appliance, &result);
            }
            Decoded::Known(ApplianceMessage::Health(_)) => {
                let _ = shared.store.capture(appliance, &frame);
                let _ = shared
                    .store
                    .set_health(appliance, &String::from_utf8_lossy(&frame));
            }
            Decoded::Known(ApplianceMessage::Hello(_)) | Decoded::Unknown(_) => {
                let _ = shared.store.capture(appliance, &frame);
            }
        }
    }
}
