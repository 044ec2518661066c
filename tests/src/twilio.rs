//! A client that behaves like Twilio towards the appliance, over real TLS: it signs and posts
//! the voice webhook, reads the TwiML answer, signs and opens the Media Streams WebSocket, and
//! plays a recording as 20 ms mu-law `media` messages between `start` and `stop`, as Twilio
//! does. Also the test-made certificate authority and server certificate the appliance
//! presents. It is test and demo code: it never runs inside the appliance.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use diala_media::g711::Law;
use diala_media::{Resampler, wav};
use diala_trunk::twilio::signature::{Algorithm, sign};
use futures_util::SinkExt as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

/// The name the test certificate is issued for; the client checks it.
pub const SERVER_NAME: &str = "localhost";
/// Samples in one 20 ms media message at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// A certificate authority and a server certificate it signed, in PEM.
pub struct TestPki {
    /// The authority's certificate, which the client trusts.
    pub ca_pem: String,
    /// The server's certificate.
    pub cert_pem: String,
    /// The server's private key.
    pub key_pem: String,
}

impl TestPki {
    /// A fresh authority and a certificate for [`SERVER_NAME`].
    pub fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::new()).expect("CA params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "diala-edge test CA");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");

        let key = rcgen::KeyPair::generate().expect("server key");
        let params = rcgen::CertificateParams::new(vec![SERVER_NAME.to_owned()]).expect("params");
        let cert = params
            .signed_by(&key, &ca_cert, &ca_key)
            .expect("server certificate");
        TestPki {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

/// One Twilio account speaking to one appliance.
#[derive(Clone)]
pub struct Twilio {
    /// Where the appliance's listener is.
    pub addr: SocketAddr,
    /// The authority the client trusts, in PEM.
    pub ca_pem: String,
    /// The public base URL configured in Twilio (what is signed).
    pub public_url: String,
    /// The AccountSid.
    pub account_sid: String,
    /// The auth token that signs.
    pub auth_token: String,
}

/// An HTTP answer: status and body.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: String,
}

/// The open Media Streams socket.
pub type Stream = WebSocketStream<TlsStream<TcpStream>>;

impl Twilio {
    /// The voice webhook's form for a call.
    pub fn voice_form(&self, call_sid: &str, from: &str, to: &str) -> Vec<(String, String)> {
        [
            ("AccountSid", self.account_sid.as_str()),
            ("CallSid", call_sid),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("From", from),
            ("To", to),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Twilio's signature of a webhook to `path` with `form`.
    pub fn signature(&self, path: &str, form: &[(String, String)]) -> String {
        let url = format!("{}{path}", self.public_url);
        sign(Algorithm::HmacSha1, self.auth_token.as_bytes(), &url, form)
    }

    /// Posts `form` to `path` with `signature` (none: unsigned).
    pub async fn post(
        &self,
        path: &str,
        form: &[(String, String)],
        signature: Option<&str>,
    ) -> Answer {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let signature = signature.map_or(String::new(), |s| format!("X-Twilio-Signature: {s}\r\n"));
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {SERVER_NAME}\r\n{signature}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let mut tls = self.connect().await;
        tls.write_all(request.as_bytes())
            .await
            .expect("send webhook");
        let mut raw = String::new();
        // A peer that closes without close_notify still gave its whole answer.
        let _ = tls.read_to_string(&mut raw).await;
        let status = raw
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
        Answer { status, body }
    }

    /// Places a call: the signed voice webhook. Returns the answer.
    pub async fn call(&self, call_sid: &str, from: &str, to: &str) -> Answer {
        let form = self.voice_form(call_sid, from, to);
        let signature = self.signature("/twilio/voice", &form);
        self.post("/twilio/voice", &form, Some(&signature)).await
    }

    /// Opens the stream at `url` (from the TwiML), signed as Twilio signs the upgrade.
    pub async fn open_stream(&self, url: &str) -> Result<Stream, WsError> {
        let mut request = url.into_client_request()?;
        let signature = sign(Algorithm::HmacSha1, self.auth_token.as_bytes(), url, &[]);
        let value = signature
            .parse()
            .expect("a base64 signature is a header value");
        request.headers_mut().insert("X-Twilio-Signature", value);
        let tls = self.connect().await;
        client_async(request, tls).await.map(|(socket, _)| socket)
    }

    /// Whether a TLS handshake with the appliance succeeds, trusting only this client's CA.
    pub async fn handshake(&self) -> std::io::Result<()> {
        let tcp = TcpStream::connect(self.addr).await?;
        let name = ServerName::try_from(SERVER_NAME).expect("server name");
        self.connector().connect(name, tcp).await.map(drop)
    }

    async fn connect(&self) -> TlsStream<TcpStream> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .expect("connect to the appliance");
        let name = ServerName::try_from(SERVER_NAME).expect("server name");
        self.connector()
            .connect(name, tcp)
            .await
            .expect("TLS handshake with the appliance")
    }

    fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        let ca = CertificateDer::from_pem_slice(self.ca_pem.as_bytes()).expect("a PEM certificate");
        roots.add(ca).expect("trust the test CA");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }
}

/// The `wss://` URL in a TwiML answer.
pub fn stream_url(twiml: &str) -> Option<String> {
    let start = twiml.find("url=\"")? + 5;
    let len = twiml.get(start..)?.find('"')?;
    Some(twiml.get(start..start + len)?.replace("&amp;", "&"))
}

/// A WAV recording as 8 kHz mu-law bytes, as Twilio carries a call.
pub fn mulaw_8k(path: &Path) -> Vec<u8> {
    let file = std::fs::File::open(path).expect("open the recording");
    let audio = wav::read(file).expect("a WAV recording");
    let samples = Resampler::convert(audio.sample_rate, 8000, &audio.to_mono()).expect("8 kHz");
    let mut out = Vec::with_capacity(samples.len());
    Law::MuLaw.encode(&samples, &mut out);
    out
}

/// The messages of one stream, numbered as Twilio numbers them.
pub struct Messages {
    account_sid: String,
    call_sid: String,
    sequence: u64,
}

impl Messages {
    /// The messages of `call_sid`'s stream.
    pub fn new(account_sid: &str, call_sid: &str) -> Self {
        Messages {
            account_sid: account_sid.to_owned(),
            call_sid: call_sid.to_owned(),
            sequence: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// `connected`.
    pub fn connected(&self) -> String {
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.to_owned()
    }

    /// `start` announcing `tracks`.
    pub fn start(&mut self, tracks: &[&str]) -> String {
        let tracks: Vec<String> = tracks.iter().map(|t| format!("\"{t}\"")).collect();
        format!(
            r#"{{"event":"start","sequenceNumber":"{}","streamSid":"MZ0001","start":{{"accountSid":"{}","streamSid":"MZ0001","callSid":"{}","tracks":[{}],"customParameters":{{}},"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#,
            self.next(),
            self.account_sid,
            self.call_sid,
            tracks.join(",")
        )
    }

    /// `media`: chunk `chunk` (from 1) of `track`.
    pub fn media(&mut self, track: &str, chunk: u64, mulaw: &[u8]) -> String {
        format!(
            r#"{{"event":"media","sequenceNumber":"{}","streamSid":"MZ0001","media":{{"track":"{track}","chunk":"{chunk}","timestamp":"{}","payload":"{}"}}}}"#,
            self.next(),
            (chunk - 1) * 20,
            STANDARD.encode(mulaw)
        )
    }

    /// `stop`.
    pub fn stop(&mut self) -> String {
        format!(
            r#"{{"event":"stop","sequenceNumber":"{}","streamSid":"MZ0001","stop":{{"accountSid":"{}","callSid":"{}"}}}}"#,
            self.next(),
            self.account_sid,
            self.call_sid
        )
    }
}

/// Plays `mulaw` on the inbound track of `stream`: `connected`, `start`, 20 ms `media`
/// messages (one every `pace` when given, as a live call; as fast as the socket takes them
/// otherwise), then `stop` when `hang_up` (else the socket is just closed).
pub async fn play(
    stream: &mut Stream,
    messages: &mut Messages,
    mulaw: &[u8],
    pace: Option<Duration>,
    hang_up: bool,
) -> Result<(), WsError> {
    stream.send(Message::text(messages.connected())).await?;
    stream
        .send(Message::text(messages.start(&["inbound"])))
        .await?;
    let mut ticks = pace.map(tokio::time::interval);
    for (i, chunk) in mulaw.chunks(FRAME_SAMPLES).enumerate() {
        if let Some(ticks) = &mut ticks {
            ticks.tick().await;
        }
        let text = messages.media("inbound", i as u64 + 1, chunk);
        stream.send(Message::text(text)).await?;
    }
    if hang_up {
        stream.send(Message::text(messages.stop())).await?;
    }
    stream.close(None).await
}
