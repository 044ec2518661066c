//! Sync end to end over real QUIC on loopback, with certificates made here: enrollment,
//! delivery exactly once across lost acks and control-plane restarts, order per call, pushes
//! applied and audited, refusals, and no personal data in what the control plane received.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::sync::atomic::Ordering;

use common::{Appliance, ControlPlane, DAY_MS, eventually, now_ms};
use diala_cloud::client::SyncError;
use diala_cloud::enroll::{EnrollError, enroll};
use diala_cloud::protocol::{Action, Command, ControlMessage, TenantSettings};
use diala_cloud::status::ConnectionState;

const PII: &str = "call me on 415 555 0134 or mail jane.doe@example.com, card 4111 1111 1111 1111";

async fn enrolled(cp: &ControlPlane) -> Appliance {
    let appliance = Appliance::new();
    let token = cp.store.create_token().unwrap();
    let facts = enroll(
        &appliance.files,
        &cp.address(),
        &cp.ca_pem,
        &token,
        &appliance.id(),
    )
    .await
    .unwrap();
    assert_eq!(facts.appliance_id, appliance.id());
    appliance
}

#[tokio::test]
async fn enrollment_keeps_the_key_on_the_box_and_a_token_works_once() {
    let cp = ControlPlane::new().await;
    let appliance = enrolled(&cp).await;
    let mode = std::fs::metadata(appliance.files.key_path())
        .unwrap()
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    let key = std::fs::read_to_string(appliance.files.key_path()).unwrap();
    let key_body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    for frame in cp.store.frames().unwrap() {
        assert!(!String::from_utf8_lossy(&frame).contains(&key_body));
    }

    // The same token cannot enroll a second appliance.
    let token = cp.store.create_token().unwrap();
    let other = Appliance::new();
    enroll(&other.files, &cp.address(), &cp.ca_pem, &token, &other.id())
        .await
        .unwrap();
    let third = Appliance::new();
    let again = enroll(&third.files, &cp.address(), &cp.ca_pem, &token, &third.id()).await;
    assert!(matches!(again, Err(EnrollError::Refused { code, .. }) if code == "bad-token"));
}

#[tokio::test]
async fn records_arrive_once_in_call_order_with_no_personal_data() {
    let cp = ControlPlane::new().await;
    let appliance = enrolled(&cp).await;
    appliance.store_call("call-a", 7, PII);
    appliance.store_call("call-b", 5, PII);
    let (status, stop, task) = appliance.start_sync();

    eventually("the outbox drained", || appliance.pending() == 0).await;
    let records = cp.store.records(&appliance.id()).unwrap();
    assert_eq!(records.len(), 12);
    for call in ["call-a", "call-b"] {
        let starts: Vec<i64> = records
            .iter()
            .filter(|r| r.call_id.as_deref() == Some(call))
            .map(|r| {
                serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["start_ms"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        let mut sorted = starts.clone();
        sorted.sort_unstable();
        assert_eq!(starts, sorted, "{call} arrived out of order");
    }
    let capture: String = cp
        .store
        .frames()
        .unwrap()
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    assert!(
        capture.contains("[PHONE:"),
        "the capture holds no segment at all"
    );
    for raw in [
        "415 555 0134",
        "4155550134",
        "jane.doe@example.com",
        "4111 1111 1111 1111",
        "4111111111111111",
    ] {
        assert!(!capture.contains(raw), "the control plane received `{raw}`");
    }
    assert_eq!(status.borrow().delivered, 12);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_connection_lost_before_the_ack_still_delivers_exactly_once() {
    let cp = ControlPlane::new().await;
    let appliance = enrolled(&cp).await;
    appliance.store_call("call-a", 10, "hello");
    cp.faults.drop_next_ack.store(true, Ordering::SeqCst);
    let (status, stop, task) = appliance.start_sync();

    eventually("the outbox drained", || appliance.pending() == 0).await;
    let records = cp.store.records(&appliance.id()).unwrap();
    let mut keys: Vec<_> = records.iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys.len(), 10);
    keys.dedup();
    assert_eq!(keys.len(), 10);
    let status = status.borrow().clone();
    assert!(
        status.reconnects >= 1,
        "the ack was not dropped: {status:?}"
    );
    assert!(status.duplicates >= 1, "nothing was sent twice: {status:?}");
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_unreachable_control_plane_loses_nothing_and_the_backlog_catches_up() {
    let mut cp = ControlPlane::new().await;
    let appliance = enrolled(&cp).await;
    cp.stop().await;
    let (status, stop, task) = appliance.start_sync();
    appliance.store_call("call-a", 30, "offline");
    eventually("a failed attempt", || status.borrow().reconnects >= 3).await;
    assert_eq!(status.borrow().state, ConnectionState::Offline);
    assert_eq!(appliance.pending(), 30);

    cp.start().await;
    eventually("the backlog drained", || appliance.pending() == 0).await;
    assert_eq!(cp.store.records(&appliance.id()).unwrap().len(), 30);

    // Restarted again in the middle of more records: still each exactly once.
    appliance.store_call("call-b", 40, "more");
    cp.stop().await;
    cp.start().await;
    eventually("the rest drained", || appliance.pending() == 0).await;
    let records = cp.store.records(&appliance.id()).unwrap();
    assert_eq!(records.len(), 70);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_retention_push_and_a_purge_are_applied_audited_and_answered() {
    let cp = ControlPlane::new().await;
    let appliance = enrolled(&cp).await;
    appliance.store_call("call-a", 2, "hello");
    let id = appliance.id();
    let settings = TenantSettings {
        id: "s1".to_owned(),
        tenant: "acme".to_owned(),
        retention_days: Some(7),
        keep_in_clear: None,
        jwks: None,
        routing: None,
    };
    cp.store
        .queue(&id, "s1", &ControlMessage::Settings(settings.clone()))
        .unwrap();
    let bad = TenantSettings {
        id: "s2".to_owned(),
        retention_days: Some(400),
        ..settings.clone()
    };
    cp.store
        .queue(&id, "s2", &ControlMessage::Settings(bad))
        .unwrap();
    let foreign = TenantSettings {
        id: "s3".to_owned(),
        tenant: "globex".to_owned(),
        ..settings
    };
    cp.store
        .queue(&id, "s3", &ControlMessage::Settings(foreign))
        .unwrap();
    let purge = Command {
        id: "c1".to_owned(),
        tenant: "acme".to_owned(),
        action: Action::PurgeCall {
            call_id: "call-a".to_owned(),
        },
    };
    let (_status, stop, task) = appliance.start_sync();
    eventually("segments delivered", || {
        cp.store.records(&id).unwrap().len() == 2
    })
    .await;
    cp.store
        .queue(&id, "c1", &ControlMessage::Command(purge))
        .unwrap();

    eventually("all answered", || {
        ["s1", "s2", "s3", "c1"]
            .iter()
            .all(|c| cp.store.result_of(c).unwrap().is_some())
    })
    .await;
    assert_eq!(cp.store.result_of("s1").unwrap(), Some((true, None)));
    let (applied, reason) = cp.store.result_of("s2").unwrap().unwrap();
    assert!(!applied && reason.unwrap().contains("400"));
    assert_eq!(
        cp.store.result_of("s3").unwrap(),
        Some((false, Some("no such tenant on this appliance".to_owned())))
    );
    assert_eq!(cp.store.result_of("c1").unwrap(), Some((true, None)));

    let vault = appliance.vaults.open_tenant("acme").unwrap();
    assert_eq!(vault.retention().unwrap().days(), 7);
    assert!(vault.call("call-a").unwrap().is_none());
    let audit = appliance.vaults.audit().records().unwrap();
    let by_cp: Vec<_> = audit
        .iter()
        .filter(|r| r.actor == "control-plane")
        .map(|r| (r.action.as_str(), r.outcome.as_str()))
        .collect();
    assert!(by_cp.contains(&("settings.apply", "succeeded")));
    assert!(by_cp.contains(&("call.purge", "succeeded")));
    eventually("the deletion reached the control plane", || {
        cp.store
            .records(&id)
            .unwrap()
            .iter()
            .any(|r| r.kind == "deletion" && r.call_id.as_deref() == Some("call-a"))
    })
    .await;
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_revoked_certificate_stops_sync_with_an_alert() {
    let cp = ControlPlane::new().await;
    let appliance = enrolled(&cp).await;
    cp.store.revoke(&appliance.id()).unwrap();
    appliance.store_call("call-a", 1, "hello");
    let (status, _stop, task) = appliance.start_sync();
    let result = task.await.unwrap();
    assert!(
        matches!(result, Err(SyncError::Stopped(ref r)) if r.contains("certificate-revoked")),
        "{result:?}"
    );
    let status = status.borrow().clone();
    assert_eq!((status.state, status.alerts), (ConnectionState::Stopped, 1));
    assert!(cp.store.records(&appliance.id()).unwrap().is_empty());
    assert_eq!(appliance.pending(), 1);
}

#[tokio::test]
async fn another_appliances_certificate_and_an_expired_one_are_refused() {
    let cp = ControlPlane::new().await;
    let victim = enrolled(&cp).await;
    // An appliance that copied the victim's identity files still says its own id.
    let thief = Appliance::new();
    std::fs::create_dir_all(thief.dir.path().join("sync")).unwrap();
    for name in ["client.key", "client.pem", "ca.pem", "control-plane"] {
        std::fs::copy(
            victim.dir.path().join("sync").join(name),
            thief.dir.path().join("sync").join(name),
        )
        .unwrap();
    }
    let mut stolen = thief.files.load().unwrap();
    stolen.facts.appliance_id = thief.id();
    let outbound = diala_cloud::outbound::Outbound::new(thief.vaults.clone()).unwrap();
    let hooks = std::sync::Arc::new(diala_cloud::commands::VaultCommands::new(
        thief.vaults.clone(),
    ));
    let client = diala_cloud::client::SyncClient::new(
        stolen,
        outbound,
        hooks,
        Default::default(),
        std::sync::Arc::new(diala_vault::SystemClock),
    );
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let result = client.run(shutdown).await;
    assert!(
        matches!(result, Err(SyncError::Stopped(ref r)) if r.contains("appliance-mismatch")),
        "{result:?}"
    );

    // A certificate the CA signed but whose time is over is refused in the handshake.
    let expired = Appliance::new();
    let token = cp.store.create_token().unwrap();
    enroll(
        &expired.files,
        &cp.address(),
        &cp.ca_pem,
        &token,
        &expired.id(),
    )
    .await
    .unwrap();
    let csr = {
        let key =
            rcgen::KeyPair::from_pem(&std::fs::read_to_string(expired.files.key_path()).unwrap())
                .unwrap();
        rcgen::CertificateParams::new(Vec::<String>::new())
            .unwrap()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap()
    };
    let issued = cp
        .authority()
        .sign_appliance(
            &csr,
            &expired.id(),
            now_ms() - 2 * DAY_MS,
            now_ms() - DAY_MS,
        )
        .unwrap();
    cp.store
        .add_certificate(&issued.serial, &expired.id(), now_ms() - DAY_MS)
        .unwrap();
    std::fs::write(
        expired.dir.path().join("sync/client.pem"),
        issued.certificate_pem,
    )
    .unwrap();
    let (status, _stop, task) = expired.start_sync();
    let result = task.await.unwrap();
    assert!(
        matches!(result, Err(SyncError::Stopped(ref r)) if r.contains("expired")),
        "{result:?}"
    );
    assert_eq!(status.borrow().alerts, 1);
}

#[tokio::test]
async fn a_control_plane_under_another_ca_is_not_trusted() {
    let cp = ControlPlane::new().await;
    let impostor = ControlPlane::new().await;
    let appliance = Appliance::new();
    let token = impostor.store.create_token().unwrap();
    // The appliance pins the real CA; the impostor's certificate does not chain to it.
    let result = enroll(
        &appliance.files,
        &impostor.address(),
        &cp.ca_pem,
        &token,
        &appliance.id(),
    )
    .await;
    assert!(matches!(result, Err(EnrollError::Dial(_))), "{result:?}");
    assert!(!appliance.files.enrolled());

    // An enrolled appliance pointed at the impostor never connects and keeps its records.
    let enrolled = enrolled(&cp).await;
    std::fs::write(
        enrolled.dir.path().join("sync/control-plane"),
        impostor.address(),
    )
    .unwrap();
    enrolled.store_call("call-a", 2, "hello");
    let (status, stop, task) = enrolled.start_sync();
    eventually("a refused attempt", || status.borrow().reconnects >= 2).await;
    assert!(impostor.store.frames().unwrap().is_empty());
    assert_eq!(enrolled.pending(), 2);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn sync_without_a_client_certificate_is_refused() {
    use diala_cloud::protocol::{
        ALPN_SYNC, ApplianceMessage, Decoded, Hello, read_message, write_message,
    };
    let cp = ControlPlane::new().await;
    let mut tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates({
        let mut roots = rustls::RootCertStore::empty();
        for c in diala_cloud::tls::certificates_from_pem(&cp.ca_pem).unwrap() {
            roots.add(c).unwrap();
        }
        roots
    })
    .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN_SYNC.to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).unwrap();
    let config = quinn::ClientConfig::new(std::sync::Arc::new(quic));
    let (_endpoint, connection) = diala_cloud::net::dial(&cp.address(), config).await.unwrap();
    let (mut send, mut recv) = connection.open_bi().await.unwrap();
    let hello = ApplianceMessage::Hello(Hello {
        protocol: 1,
        appliance_id: "anyone".to_owned(),
        software: "x".to_owned(),
    });
    write_message(&mut send, &hello).await.unwrap();
    let answer = read_message::<ControlMessage, _>(&mut recv).await.unwrap();
    let refused = |e: &diala_cloud::protocol::ProtocolError| {
        e.code == "client-certificate-required" && e.fatal
    };
    assert!(matches!(answer, Some(Decoded::Known(ControlMessage::Error(e))) if refused(&e)));
    assert!(cp.store.frames().unwrap().is_empty());
}

#[tokio::test]
async fn a_sender_killed_mid_delivery_leaves_nothing_lost_or_doubled_after_restart() {
    let cp = ControlPlane::new().await;
    let appliance = enrolled(&cp).await;
    appliance.store_call("call-a", 120, "long call");
    appliance.store_call("call-b", 80, "another");
    let (_status, _stop, task) = appliance.start_sync();
    let id = appliance.id();
    eventually("part delivered", || {
        cp.store.records(&id).unwrap().len() >= 20
    })
    .await;
    // Killed with batches in flight: no release, no goodbye; its claims stay in the outbox.
    task.abort();
    let _ = task.await;
    assert!(appliance.pending() > 0);

    let (_status, stop, task) = appliance.start_sync();
    eventually("the rest delivered", || appliance.pending() == 0).await;
    let records = cp.store.records(&id).unwrap();
    assert_eq!(records.len(), 200);
    let mut keys: Vec<_> = records.iter().map(|r| r.key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 200);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}
