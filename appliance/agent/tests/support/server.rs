//! One stand-in server: Bedrock (`POST /model/{id}/converse-stream`) or Polly
//! (`POST /v1/speech`), over TLS on 127.0.0.1.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::{Keys, TestCa};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Bedrock,
    Polly,
}

/// How the stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Answer,
    /// Every request gets a 500.
    Fail,
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub key_id: Option<String>,
    pub status: u16,
    pub body: String,
}

#[derive(Debug)]
struct State {
    service: Service,
    keys: Keys,
    behaviour: Mutex<Behaviour>,
    log: Mutex<Vec<Logged>>,
}

pub struct StandIn {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl StandIn {
    pub async fn start(service: Service, ca: &TestCa, keys: Keys) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            service,
            keys,
            behaviour: Mutex::new(Behaviour::Answer),
            log: Mutex::new(Vec::new()),
        });
        let acceptor = TlsAcceptor::from(ca.server_config.clone());
        let task = tokio::spawn(serve(listener, acceptor, state.clone()));
        StandIn { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    pub fn set(&self, behaviour: Behaviour) {
        *self.state.behaviour.lock().unwrap() = behaviour;
    }

    /// Stops listening: new connections are refused.
    pub fn stop(&self) {
        self.task.abort();
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }
}

async fn serve(listener: TcpListener, acceptor: TlsAcceptor, state: Arc<State>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, state) = (acceptor.clone(), state.clone());
        connections.spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| answer(req, state.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let name = match state.service {
        Service::Bedrock => "bedrock",
        Service::Polly => "polly",
    };
    let checked = state
        .keys
        .verify(name, parts.method.as_str(), &path, &parts.headers, &body);
    let behaviour = *state.behaviour.lock().unwrap();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let response = match (&checked, behaviour, state.service) {
        (Err((kind, message)), _, _) => error(StatusCode::FORBIDDEN, kind, message),
        (Ok(_), Behaviour::Fail, _) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            "down",
        ),
        (Ok(_), Behaviour::Answer, Service::Bedrock) => converse_stream(&request),
        (Ok(_), Behaviour::Answer, Service::Polly) => synthesize(&request),
    };
    state.log.lock().unwrap().push(Logged {
        path,
        key_id: checked.ok(),
        status: response.status().as_u16(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    Ok(response)
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", kind)
        .body(Full::new(Bytes::from(
            json!({ "message": message }).to_string(),
        )))
        .unwrap()
}

/// The reply: it thanks the caller and repeats the first token of the last caller message,
/// the way a model that was told about a number would.
fn converse_stream(request: &Value) -> Response<Full<Bytes>> {
    let last = request["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    let said = last["content"][0]["text"].as_str().unwrap_or_default();
    let token = said
        .split_whitespace()
        .find(|w| w.starts_with('['))
        .map(|t| t.trim_end_matches(['.', ',']));
    let reply = match token {
        Some(token) => {
            format!("Thank you. I will call {token} back today. Is there anything else?")
        }
        None => "Of course. We have a slot on Monday at nine. Does that suit you?".to_owned(),
    };

    let mut frames = Vec::new();
    event(&mut frames, "messageStart", json!({ "role": "assistant" }));
    for chunk in reply.split_inclusive(' ') {
        event(
            &mut frames,
            "contentBlockDelta",
            json!({ "contentBlockIndex": 0, "delta": { "text": chunk } }),
        );
    }
    event(
        &mut frames,
        "contentBlockStop",
        json!({ "contentBlockIndex": 0 }),
    );
    event(
        &mut frames,
        "messageStop",
        json!({ "stopReason": "end_turn" }),
    );
    Response::builder()
        .header("content-type", "application/vnd.amazon.eventstream")
        .body(Full::new(Bytes::from(frames)))
        .unwrap()
}

fn event(out: &mut Vec<u8>, kind: &str, payload: Value) {
    let message = Message::new(Bytes::from(payload.to_string()))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(kind.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ));
    aws_smithy_eventstream::frame::write_message_to(&message, out).unwrap();
}

/// PCM at the requested rate: a 300 Hz tone, 300 ms per word of the text.
fn synthesize(request: &Value) -> Response<Full<Bytes>> {
    let format_ok = request["OutputFormat"] == "pcm" && request["SampleRate"] == "16000";
    if !format_ok || request["VoiceId"] != "Joanna" {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidSampleRateException",
            "pcm at 16000 expected",
        );
    }
    let words = request["Text"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .count();
    let samples = words * 16_000 * 300 / 1000;
    let pcm: Vec<u8> = (0..samples)
        .flat_map(|i| {
            let t = i as f32 / 16_000.0;
            (((t * 300.0 * std::f32::consts::TAU).sin() * 6000.0) as i16).to_le_bytes()
        })
        .collect();
    Response::builder()
        .header("content-type", "audio/pcm")
        .body(Full::new(Bytes::from(pcm)))
        .unwrap()
}
