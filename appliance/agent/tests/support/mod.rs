//! Local stand-ins for Bedrock and Polly: TLS servers on loopback that speak the services' wire
//! protocols (REST-JSON; ConverseStream's reply in AWS event-stream framing), check every
//! request's SigV4 signature against keys they issued, refuse expired keys, and log every
//! request body.
#![allow(
    dead_code,
    unused_imports,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

pub mod keys;
pub mod server;
pub mod tls;

use std::sync::Arc;
use std::time::SystemTime;

use diala_agent::aws::{AwsEndpoint, AwsParts};
use diala_agent::bedrock::Bedrock;
use diala_agent::config::{Fallback, TurnLimits, VoiceEngine};
use diala_agent::credentials::{AgentCredentials, Vend, Vendor};
use diala_agent::polly::Polly;
use diala_agent::run::Services;
use diala_agent::turn::{LoopSettings, TurnLoop};
use diala_media::g711::Law;
use diala_redact::{Policy, Redactor, TokenKey};

pub use keys::Keys;
pub use server::{Behaviour, Service, StandIn};
pub use tls::TestCa;

pub const MODEL_ID: &str = "anthropic.claude-3-haiku-20240307-v1:0";

pub fn redactor() -> Redactor {
    Redactor::new(TokenKey::from_bytes([3; 32]), Policy::keep_nothing())
}

/// The control plane's side of the sync channel: vends keys the stand-ins know.
#[derive(Debug, Clone)]
pub struct ControlPlane {
    pub keys: Keys,
    /// Lifetimes of the credentials it vends, in order; the last repeats.
    pub lifetimes: Arc<std::sync::Mutex<Vec<std::time::Duration>>>,
}

impl Vendor for ControlPlane {
    fn vend(&self) -> Vend<'_> {
        Box::pin(async move {
            let mut lifetimes = self.lifetimes.lock().unwrap();
            let lifetime = if lifetimes.len() > 1 {
                lifetimes.remove(0)
            } else {
                lifetimes[0]
            };
            Ok(self.keys.issue(SystemTime::now() + lifetime))
        })
    }
}

/// Both stand-ins, one CA, and the production clients pointed at them.
pub struct World {
    pub ca: TestCa,
    pub keys: Keys,
    pub bedrock: StandIn,
    pub polly: StandIn,
}

impl World {
    pub async fn start() -> World {
        let ca = TestCa::new();
        let keys = Keys::default();
        let bedrock = StandIn::start(Service::Bedrock, &ca, keys.clone()).await;
        let polly = StandIn::start(Service::Polly, &ca, keys.clone()).await;
        World {
            ca,
            keys,
            bedrock,
            polly,
        }
    }

    pub fn endpoint(&self) -> AwsEndpoint {
        AwsEndpoint {
            region: "us-east-1".to_owned(),
            bedrock_url: Some(self.bedrock.url()),
            polly_url: Some(self.polly.url()),
            ca_file: Some(self.ca.ca_file()),
        }
    }

    pub fn services(&self, credentials: AgentCredentials) -> Services {
        let parts = AwsParts::new(self.endpoint(), credentials).unwrap();
        Services {
            bedrock: Bedrock::new(&parts, MODEL_ID),
            polly: Polly::new(&parts, "Joanna", VoiceEngine::Neural),
            system: redactor()
                .redact("You answer for a dental clinic. Be brief.")
                .forward,
            law: Law::MuLaw,
        }
    }

    /// Credentials vended by a control plane with one-hour keys.
    pub fn vended(&self) -> AgentCredentials {
        AgentCredentials::vended(None, self.control_plane(&[3600]))
    }

    pub fn control_plane(&self, lifetimes_secs: &[u64]) -> ControlPlane {
        let lifetimes = lifetimes_secs
            .iter()
            .map(|s| std::time::Duration::from_secs(*s))
            .collect();
        ControlPlane {
            keys: self.keys.clone(),
            lifetimes: Arc::new(std::sync::Mutex::new(lifetimes)),
        }
    }
}

pub fn turn_loop(limits: TurnLimits) -> TurnLoop {
    let settings = LoopSettings {
        greeting: "Hello, this is the clinic.".to_owned(),
        limits,
        fallback: Fallback {
            prompt: "Let me put you through to the front desk.".to_owned(),
            transfer_to: "sip:desk@pbx.example".to_owned(),
        },
    };
    TurnLoop::new(settings, redactor())
}
