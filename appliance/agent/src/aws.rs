//! What the Bedrock and Polly clients share: the region, the endpoint (configurable so the tests
//! and a site's private endpoint can be used), TLS through rustls with ring, the credentials
//! provider and the identity cache that honours its expiry.
//!
//! The SDK's own retries are off: the turn loop owns timeouts and the retry budget, so a slow
//! service never holds a caller in silence longer than the tenant configured.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_bedrockruntime::config::SharedHttpClient;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use serde::{Deserialize, Serialize};

use crate::credentials::{AgentCredentials, REFRESH_MARGIN};

/// Where the AWS services are reached.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AwsEndpoint {
    /// The AWS region, e.g. `us-east-1`.
    pub region: String,
    /// Bedrock's URL instead of AWS's public one (a VPC endpoint, or a test server).
    #[serde(default)]
    pub bedrock_url: Option<String>,
    /// Polly's URL instead of AWS's public one.
    #[serde(default)]
    pub polly_url: Option<String>,
    /// An extra CA certificate (PEM) to trust for those URLs.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA file could not be read.
    #[error("cannot read the CA file {path} for the AWS endpoint: {source}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// TLS could not be set up with that CA.
    #[error("cannot set up TLS for the AWS endpoint: {0}")]
    Tls(String),
}

/// The parts each service client is built from.
#[derive(Debug, Clone)]
pub struct AwsParts {
    pub(crate) endpoint: AwsEndpoint,
    pub(crate) http: SharedHttpClient,
    pub(crate) credentials: AgentCredentials,
}

impl AwsParts {
    /// Builds the HTTP client (rustls, the system's roots plus `ca_file`).
    pub fn new(endpoint: AwsEndpoint, credentials: AgentCredentials) -> Result<Self, ClientError> {
        let mut trust = TrustStore::default();
        if let Some(path) = &endpoint.ca_file {
            let pem = std::fs::read(path).map_err(|source| ClientError::CaFile {
                path: path.clone(),
                source,
            })?;
            trust = trust.with_pem_certificate(pem);
        }
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        let http = Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(context)
            .build_https();
        Ok(AwsParts {
            endpoint,
            http,
            credentials,
        })
    }

    /// The identity cache: credentials are asked for again once inside the refresh margin.
    pub(crate) fn identity_cache(&self) -> aws_sdk_bedrockruntime::config::SharedIdentityCache {
        aws_sdk_bedrockruntime::config::IdentityCache::lazy()
            .buffer_time(REFRESH_MARGIN - Duration::from_secs(1))
            .build()
    }
}
