//! The model client: Bedrock's ConverseStream through `aws-sdk-bedrockruntime`.
//!
//! It takes only redacted text: the system prompt and every message part are
//! [`Redacted<String>`](diala_redact::Redacted), which only the redactor makes. A plain string
//! does not compile:
//!
//! ```compile_fail
//! # async fn f(bedrock: &diala_agent::bedrock::Bedrock, system: &diala_redact::Redacted<String>) {
//! use diala_agent::turn::{Message, Role};
//! let messages = [Message { role: Role::User, parts: vec!["call me on 415 555 0134".to_owned()] }];
//! let _ = bedrock.converse(system, &messages).await;
//! # }
//! ```
//!
//! ```compile_fail
//! # async fn f(bedrock: &diala_agent::bedrock::Bedrock, messages: &[diala_agent::turn::Message]) {
//! let _ = bedrock.converse(&"You are helpful.".to_owned(), messages).await;
//! # }
//! ```
//!
//! It never logs the text it sends or receives.

use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Region};
use aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ConversationRole, ConverseStreamOutput, SystemContentBlock,
};
use aws_smithy_types::retry::RetryConfig;
use diala_redact::Redacted;

use crate::aws::AwsParts;
use crate::turn::{Message, Role};

/// Why a model request failed.
#[derive(Debug, thiserror::Error)]
pub enum BedrockError {
    /// The request could not be built from the messages (a bug, or an empty conversation).
    #[error("cannot build the Bedrock request: {0}")]
    Request(String),
    /// The service refused or failed the request, or could not be reached.
    #[error("Bedrock did not answer: {0}; check the endpoint, the credentials and the model id")]
    Service(String),
    /// The reply stream broke off or carried an error.
    #[error("the Bedrock reply stream failed: {0}")]
    Stream(String),
}

/// A Bedrock client for one tenant's model.
#[derive(Debug, Clone)]
pub struct Bedrock {
    client: Client,
    model_id: String,
}

/// A reply being streamed.
#[derive(Debug)]
pub struct Reply {
    stream: EventReceiver<ConverseStreamOutput, ConverseStreamOutputError>,
}

impl Bedrock {
    /// A client for `model_id` over the shared AWS parts.
    pub fn new(parts: &AwsParts, model_id: &str) -> Self {
        let mut config = aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(parts.endpoint.region.clone()))
            .http_client(parts.http.clone())
            .credentials_provider(parts.credentials.clone())
            .identity_cache(parts.identity_cache())
            .retry_config(RetryConfig::disabled());
        if let Some(url) = &parts.endpoint.bedrock_url {
            config = config.endpoint_url(url);
        }
        Bedrock {
            client: Client::from_conf(config.build()),
            model_id: model_id.to_owned(),
        }
    }

    /// Sends the conversation and returns the reply stream once the service has accepted it.
    pub async fn converse(
        &self,
        system: &Redacted<String>,
        messages: &[Message],
    ) -> Result<Reply, BedrockError> {
        let mut request = self
            .client
            .converse_stream()
            .model_id(&self.model_id)
            .system(SystemContentBlock::Text(system.as_str().to_owned()));
        for message in messages {
            request = request.messages(to_sdk(message)?);
        }
        let output = request
            .send()
            .await
            .map_err(|e| BedrockError::Service(describe(&e)))?;
        Ok(Reply {
            stream: output.stream,
        })
    }
}

impl Reply {
    /// The next piece of reply text; `None` once the reply has ended.
    pub async fn next_text(&mut self) -> Result<Option<String>, BedrockError> {
        loop {
            let event = self
                .stream
                .recv()
                .await
                .map_err(|e| BedrockError::Stream(describe(&e)))?;
            match event {
                None | Some(ConverseStreamOutput::MessageStop(_)) => return Ok(None),
                Some(ConverseStreamOutput::ContentBlockDelta(delta)) => {
                    if let Some(ContentBlockDelta::Text(text)) = delta.delta {
                        return Ok(Some(text));
                    }
                }
                Some(_) => {}
            }
        }
    }
}

fn to_sdk(message: &Message) -> Result<aws_sdk_bedrockruntime::types::Message, BedrockError> {
    let role = match message.role {
        Role::User => ConversationRole::User,
        Role::Assistant => ConversationRole::Assistant,
    };
    let mut builder = aws_sdk_bedrockruntime::types::Message::builder().role(role);
    for part in &message.parts {
        builder = builder.content(ContentBlock::Text(part.as_str().to_owned()));
    }
    builder
        .build()
        .map_err(|e| BedrockError::Request(e.to_string()))
}

/// The error and its causes, without the request (which holds the text).
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
