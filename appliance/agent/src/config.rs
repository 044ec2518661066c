//! What a tenant configures for the voice agent: per tenant, and per called number, whether a
//! call is only transcribed or answered by the agent, and how the agent speaks and fails.
//!
//! These are plain serde structs that the daemon's configuration embeds; they hold no secrets
//! (credentials come from a systemd credential or the control plane, never from here).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the agent handles the calls of one tenant: a default, and overrides per called number.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantAgent {
    /// What happens to a call to a number not listed in `numbers`.
    #[serde(default)]
    pub default: CallMode,
    /// Overrides by called number, E.164 (`+14155550100`).
    #[serde(default)]
    pub numbers: BTreeMap<String, CallMode>,
}

impl TenantAgent {
    /// The mode of a call to `called` (E.164).
    pub fn mode_for(&self, called: &str) -> &CallMode {
        self.numbers.get(called).unwrap_or(&self.default)
    }
}

/// Whether a call is transcribed only or answered by the agent.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum CallMode {
    /// Transcribe and store; the appliance says nothing.
    #[default]
    TranscribeOnly,
    /// The agent answers.
    Agent(AgentSettings),
}

/// How the agent answers.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// The system prompt sent with every model request.
    pub system_prompt: String,
    /// What the agent says when the call is answered.
    pub greeting: String,
    /// The Bedrock model id, e.g. `anthropic.claude-3-haiku-20240307-v1:0`.
    pub model_id: String,
    /// The Polly voice, e.g. `Joanna`.
    pub voice: String,
    /// The Polly engine.
    #[serde(default)]
    pub engine: VoiceEngine,
    /// What happens when the model or the speech service cannot answer.
    pub fallback: Fallback,
    /// Timeouts and retries.
    #[serde(default)]
    pub limits: TurnLimits,
}

/// Polly's speech engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceEngine {
    /// The standard engine.
    Standard,
    /// The neural engine.
    #[default]
    Neural,
    /// The generative engine.
    Generative,
    /// The long-form engine.
    LongForm,
}

/// What the caller hears, and where the call goes, when the agent cannot answer.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    /// Said by the trunk itself (TwiML `<Say>` or a prompt rendered at start), not by Polly.
    pub prompt: String,
    /// Where the call is transferred: a SIP URI for a REFER, or a number for a Twilio `<Dial>`.
    pub transfer_to: String,
}

/// How long the turn loop waits, and how often it tries again, before the fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TurnLimits {
    /// From the model request to its first text.
    #[serde(with = "millis", rename = "first_token_ms")]
    pub first_token: Duration,
    /// From a synthesis request to its audio.
    #[serde(with = "millis", rename = "first_audio_ms")]
    pub first_audio: Duration,
    /// Attempts after the first, for the model and speech requests of one turn together.
    pub retries: u32,
}

impl Default for TurnLimits {
    fn default() -> Self {
        TurnLimits {
            first_token: Duration::from_millis(2500),
            first_audio: Duration::from_millis(2000),
            retries: 2,
        }
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
        [default]
        mode = "transcribe_only"

        [numbers."+14155550100"]
        mode = "agent"
        system_prompt = "You book dental appointments."
        greeting = "Hello, this is the clinic."
        model_id = "anthropic.claude-3-haiku-20240307-v1:0"
        voice = "Joanna"
        engine = "neural"
        fallback = { prompt = "Let me put you through.", transfer_to = "sip:desk@pbx.example" }
        limits = { first_token_ms = 1500, first_audio_ms = 1000, retries = 1 }
    "#;

    #[test]
    fn numbers_override_the_tenant_default() {
        let agent: TenantAgent = toml::from_str(TOML).unwrap();
        assert_eq!(agent.mode_for("+14155550199"), &CallMode::TranscribeOnly);
        let CallMode::Agent(settings) = agent.mode_for("+14155550100") else {
            panic!("the number is answered by the agent");
        };
        assert_eq!(settings.voice, "Joanna");
        assert_eq!(settings.limits.first_token, Duration::from_millis(1500));
        assert_eq!(settings.fallback.transfer_to, "sip:desk@pbx.example");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<TenantAgent>("[default]\nmode = \"agent\"\nvoise = \"x\"\n");
        assert!(err.is_err());
    }
}
