//! What the tests share: a trunk with two tenants, and a sender that signs and speaks the way
//! Twilio does (webhooks, upgrades and Media Streams messages).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

pub mod listener;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use diala_trunk::twilio::signature::{Algorithm, sign};
use diala_trunk::twilio::{
    Account, Accounts, AuthToken, DialTarget, PublicBase, ReplayGuard, StreamMode, StreamTokens,
    TwilioTrunk, VerifiedStream, Verifier,
};

pub const BASE: &str = "https://edge.example.com";
pub const ACME: &str = "AC00000000000000000000000000000001";
pub const GLOBEX: &str = "AC00000000000000000000000000000002";
pub const CALL: &str = "CA0000000000000000000000000000000a";

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

pub fn trunk() -> TwilioTrunk {
    let mut accounts = Accounts::new();
    let acme = Account {
        tenant: "acme".into(),
        primary: AuthToken::new("acme-new"),
        secondary: Some(AuthToken::new("acme-old")),
        algorithm: Algorithm::HmacSha1,
        mode: StreamMode::Connect,
        numbers: vec![(
            "+14155550123".into(),
            StreamMode::Fork(DialTarget::Number("+14155550124".into())),
        )],
    };
    let globex = Account {
        tenant: "globex".into(),
        primary: AuthToken::new("globex-token"),
        secondary: None,
        algorithm: Algorithm::HmacSha1,
        mode: StreamMode::Fork(DialTarget::Sip("sip:desk@pbx.globex.example".into())),
        numbers: Vec::new(),
    };
    accounts.insert(ACME, acme);
    accounts.insert(GLOBEX, globex);
    let verifier = Verifier::new(PublicBase::new(BASE).unwrap(), accounts);
    let tokens = StreamTokens::with_key([42; 32], Duration::from_secs(60));
    TwilioTrunk::new(
        verifier,
        ReplayGuard::new(Duration::from_secs(600), 1024),
        tokens,
    )
}

pub fn form(account: &str, call: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", account),
        ("CallSid", call),
        ("From", "+14155550100"),
        ("To", "+14155550199"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub fn signed(token: &str, path: &str, params: &[(String, String)]) -> String {
    sign(
        Algorithm::HmacSha1,
        token.as_bytes(),
        &format!("{BASE}{path}"),
        params,
    )
}

/// A raw HTTP/1.1 form POST to `path`, signed with `signature` if given.
pub fn post(path: &str, signature: Option<&str>, params: &[(String, String)]) -> String {
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

/// The stream URL written into the TwiML.
pub fn stream_url(twiml: &str) -> String {
    let start = twiml.find("url=\"").unwrap() + 5;
    let len = twiml[start..].find('"').unwrap();
    twiml[start..start + len].to_owned()
}

/// The request line path of an upgrade to `url`, and Twilio's signature of it.
pub fn upgrade(token: &str, url: &str) -> (String, String) {
    let path = url
        .strip_prefix("wss://edge.example.com")
        .unwrap()
        .to_owned();
    (path, sign(Algorithm::HmacSha1, token.as_bytes(), url, &[]))
}

/// Answers a call of `account` (signed with `token`) and accepts its stream upgrade.
pub fn open_stream(trunk: &mut TwilioTrunk, account: &str, token: &str) -> VerifiedStream {
    let params = form(account, CALL);
    let sig = signed(token, "/twilio/voice", &params);
    let answer = trunk
        .answer_call("/twilio/voice", Some(&sig), &params, at(0))
        .unwrap();
    let (path, upgrade_sig) = upgrade(token, &stream_url(&answer.twiml));
    trunk
        .accept_stream(&path, Some(&upgrade_sig), at(1))
        .unwrap()
}

/// The messages Twilio sends on a stream, numbered as Twilio numbers them.
pub struct TwilioStream {
    account: String,
    call: String,
    next: u64,
}

impl TwilioStream {
    /// A stream of `call` of `account`.
    pub fn new(account: &str, call: &str) -> Self {
        Self {
            account: account.into(),
            call: call.into(),
            next: 1,
        }
    }

    fn sequence(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    /// Skips `n` sequence numbers, as if those messages were lost.
    pub fn lose(&mut self, n: u64) {
        self.next += n;
    }

    pub fn connected(&self) -> String {
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.to_owned()
    }

    pub fn start(&mut self, tracks: &[&str]) -> String {
        let seq = self.sequence();
        let tracks = tracks
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(",");
        format!(
            r#"{{"event":"start","sequenceNumber":"{seq}","streamSid":"MZ1","start":{{
            "accountSid":"{}","streamSid":"MZ1","callSid":"{}","tracks":[{tracks}],
            "customParameters":{{}},
            "mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#,
            self.account, self.call
        )
    }

    pub fn media(&mut self, track: &str, chunk: u64, mulaw: &[u8]) -> String {
        let seq = self.sequence();
        format!(
            r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"MZ1","media":{{
            "track":"{track}","chunk":"{chunk}","timestamp":"{}","payload":"{}"}}}}"#,
            chunk * 20,
            STANDARD.encode(mulaw)
        )
    }

    pub fn stop(&mut self) -> String {
        let seq = self.sequence();
        format!(
            r#"{{"event":"stop","sequenceNumber":"{seq}","streamSid":"MZ1","stop":{{
            "accountSid":"{}","callSid":"{}"}}}}"#,
            self.account, self.call
        )
    }
}
