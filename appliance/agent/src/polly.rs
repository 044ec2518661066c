//! The speech client: Polly's SynthesizeSpeech through `aws-sdk-polly`, 16 kHz PCM out.
//!
//! It takes only redacted text, with tokens already replaced by phrases; a plain string does not
//! compile:
//!
//! ```compile_fail
//! # async fn f(polly: &diala_agent::polly::Polly) {
//! let _ = polly.synthesize(&"Your number is 415 555 0134.".to_owned()).await;
//! # }
//! ```
//!
//! It never logs the text it sends.

use std::time::Instant;

use aws_sdk_polly::Client;
use aws_sdk_polly::config::{BehaviorVersion, Region};
use aws_sdk_polly::types::{Engine, OutputFormat, TextType, VoiceId};
use aws_smithy_types::retry::RetryConfig;
use diala_redact::Redacted;

use crate::audio::POLLY_RATE;
use crate::aws::AwsParts;
use crate::config::VoiceEngine;

/// Why a synthesis request failed.
#[derive(Debug, thiserror::Error)]
pub enum PollyError {
    /// The service refused or failed the request, or could not be reached.
    #[error("Polly did not answer: {0}; check the endpoint, the credentials, the voice and engine")]
    Service(String),
    /// The audio stream broke off.
    #[error("the Polly audio stream failed: {0}")]
    Stream(String),
}

/// Synthesised speech: 16 kHz signed little-endian PCM.
#[derive(Debug, Clone)]
pub struct Speech {
    /// The samples, two bytes each.
    pub pcm: Vec<u8>,
    /// When the first audio byte arrived.
    pub first_byte: Instant,
}

/// A Polly client for one tenant's voice.
#[derive(Debug, Clone)]
pub struct Polly {
    client: Client,
    voice: VoiceId,
    engine: Engine,
}

impl Polly {
    /// A client speaking with `voice` on `engine`, over the shared AWS parts.
    pub fn new(parts: &AwsParts, voice: &str, engine: VoiceEngine) -> Self {
        let mut config = aws_sdk_polly::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(parts.endpoint.region.clone()))
            .http_client(parts.http.clone())
            .credentials_provider(parts.credentials.clone())
            .identity_cache(parts.identity_cache())
            .retry_config(RetryConfig::disabled());
        if let Some(url) = &parts.endpoint.polly_url {
            config = config.endpoint_url(url);
        }
        let engine = match engine {
            VoiceEngine::Standard => Engine::Standard,
            VoiceEngine::Neural => Engine::Neural,
            VoiceEngine::Generative => Engine::Generative,
            VoiceEngine::LongForm => Engine::LongForm,
        };
        Polly {
            client: Client::from_conf(config.build()),
            voice: VoiceId::from(voice),
            engine,
        }
    }

    /// Speaks `text` as 16 kHz PCM.
    pub async fn synthesize(&self, text: &Redacted<String>) -> Result<Speech, PollyError> {
        let output = self
            .client
            .synthesize_speech()
            .engine(self.engine.clone())
            .voice_id(self.voice.clone())
            .output_format(OutputFormat::Pcm)
            .sample_rate(POLLY_RATE.to_string())
            .text_type(TextType::Text)
            .text(text.as_str())
            .send()
            .await
            .map_err(|e| PollyError::Service(crate::bedrock::describe(&e)))?;

        let mut stream = output.audio_stream;
        let mut pcm = Vec::new();
        let mut first_byte = None;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| PollyError::Stream(crate::bedrock::describe(&e)))?;
            first_byte.get_or_insert_with(Instant::now);
            pcm.extend_from_slice(&chunk);
        }
        Ok(Speech {
            pcm,
            first_byte: first_byte.unwrap_or_else(Instant::now),
        })
    }
}
