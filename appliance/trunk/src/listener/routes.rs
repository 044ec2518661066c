//! The Twilio routes: voice webhook and status callback, each answered by the trunk; every
//! response carries HSTS. A refusal is a bare 403 that says nothing of why (the reason is
//! counted and logged here, never sent to the peer).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::mpsc;

use super::metrics::TrunkMetrics;
use super::stream::{self, StreamUpdate};
use crate::twilio::public_url::{STATUS_PATH, STREAM_PATH, VOICE_PATH};
use crate::twilio::{Refusal, StreamSession, TwilioTrunk};

/// Twilio's form posts are a few KiB; anything near this is not Twilio.
const BODY_LIMIT: usize = 64 * 1024;
const HSTS: &str = "max-age=31536000; includeSubDomains";

#[derive(Clone)]
struct Routes {
    trunk: Arc<Mutex<TwilioTrunk>>,
    metrics: Arc<TrunkMetrics>,
    updates: mpsc::Sender<StreamUpdate>,
}

impl Routes {
    /// The trunk, held only for one pure call (no await while locked).
    fn trunk(&self) -> MutexGuard<'_, TwilioTrunk> {
        self.trunk.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The trunk as the routes share it; whoever holds a clone may replace its accounts.
pub type SharedTrunk = Arc<Mutex<TwilioTrunk>>;

/// The router for the Twilio trunk's HTTPS listener; streams' events go to `updates`.
pub fn router(
    trunk: TwilioTrunk,
    metrics: Arc<TrunkMetrics>,
    updates: mpsc::Sender<StreamUpdate>,
) -> Router {
    shared_router(Arc::new(Mutex::new(trunk)), metrics, updates)
}

/// Like [`router`], over a trunk the caller keeps a handle to (to reload its accounts).
pub fn shared_router(
    trunk: SharedTrunk,
    metrics: Arc<TrunkMetrics>,
    updates: mpsc::Sender<StreamUpdate>,
) -> Router {
    let routes = Routes {
        trunk,
        metrics,
        updates,
    };
    Router::new()
        .route(VOICE_PATH, post(voice))
        .route(STATUS_PATH, post(status))
        .route(&format!("{STREAM_PATH}{{token}}"), get(stream))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::map_response(hsts))
        .with_state(routes)
}

async fn hsts(mut response: Response) -> Response {
    let value = HeaderValue::from_static(HSTS);
    response
        .headers_mut()
        .insert(header::STRICT_TRANSPORT_SECURITY, value);
    response
}

async fn voice(State(r): State<Routes>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let params = form(&body);
    let answered = r.trunk().answer_call(
        path_and_query(&uri),
        signature(&headers),
        &params,
        SystemTime::now(),
    );
    match answered {
        Ok(answer) => {
            r.metrics.call(answer.retry);
            let call = &answer.call;
            tracing::info!(
                tenant = call.tenant(),
                call = call.call_sid(),
                retry = answer.retry,
                "twilio call answered"
            );
            ([(header::CONTENT_TYPE, "text/xml")], answer.twiml).into_response()
        }
        Err(refusal) => refused(&r.metrics, &refusal),
    }
}

async fn status(State(r): State<Routes>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let params = form(&body);
    let accepted = r.trunk().accept_status(
        path_and_query(&uri),
        signature(&headers),
        &params,
        SystemTime::now(),
    );
    match accepted {
        Ok(call) => {
            r.metrics.status_callback();
            tracing::debug!(
                tenant = call.tenant(),
                call = call.call_sid(),
                "twilio status"
            );
            StatusCode::NO_CONTENT.into_response()
        }
        Err(refusal) => refused(&r.metrics, &refusal),
    }
}

async fn stream(
    State(r): State<Routes>,
    uri: Uri,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let accepted = r
        .trunk()
        .accept_stream(uri.path(), signature(&headers), SystemTime::now());
    match accepted {
        Ok(verified) => {
            let session = StreamSession::new(verified);
            let (updates, metrics) = (r.updates.clone(), r.metrics.clone());
            upgrade
                .max_message_size(stream::MAX_FRAME)
                .on_upgrade(move |socket| stream::run(socket, session, updates, metrics))
        }
        Err(refusal) => refused(&r.metrics, &refusal),
    }
}

fn refused(metrics: &TrunkMetrics, refusal: &Refusal) -> Response {
    metrics.refused(refusal.reason());
    tracing::warn!(reason = refusal.reason(), "twilio request refused");
    StatusCode::FORBIDDEN.into_response()
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn path_and_query(uri: &Uri) -> &str {
    uri.path_and_query()
        .map_or_else(|| uri.path(), |pq| pq.as_str())
}

fn signature(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
}
