//! Wrapping tenant data keys under the master key.
//!
//! XChaCha20-Poly1305 with a random 192-bit nonce, so nonces never need a counter; the tenant
//! id and key version are the associated data, so a wrapped key moved to another tenant's row
//! or version does not unwrap. Never returns or logs a key that failed authentication.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::{DataKey, KeyPurpose, MasterKey};

const NONCE_LEN: usize = 24;

/// A wrapped key did not authenticate.
#[derive(Debug, thiserror::Error)]
#[error("the wrapped data key does not authenticate under this master key")]
pub(crate) struct UnwrapError;

fn associated_data(tenant: &str, version: i64) -> Vec<u8> {
    format!("diala-edge/data-key/v1\0{tenant}\0{version}").into_bytes()
}

fn cipher(master: &MasterKey) -> XChaCha20Poly1305 {
    let wrap_key = master.derive(KeyPurpose::KeyWrap);
    XChaCha20Poly1305::new(wrap_key.expose().into())
}

/// Wraps `key` for `tenant` at `version`: the nonce followed by the ciphertext and tag.
pub(crate) fn wrap(master: &MasterKey, tenant: &str, version: i64, key: &DataKey) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let aad = associated_data(tenant, version);
    let payload = Payload {
        msg: key.expose(),
        aad: &aad,
    };
    let sealed = cipher(master)
        .encrypt(XNonce::from_slice(&nonce), payload)
        .unwrap_or_else(|_| unreachable!("encrypting 32 bytes cannot exceed the AEAD's limit"));
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    out
}

/// Unwraps what [`wrap`] made for the same tenant and version under the same master key.
pub(crate) fn unwrap(
    master: &MasterKey,
    tenant: &str,
    version: i64,
    wrapped: &[u8],
) -> Result<DataKey, UnwrapError> {
    if wrapped.len() <= NONCE_LEN {
        return Err(UnwrapError);
    }
    let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
    let aad = associated_data(tenant, version);
    let payload = Payload {
        msg: sealed,
        aad: &aad,
    };
    let plain = Zeroizing::new(
        cipher(master)
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| UnwrapError)?,
    );
    let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| UnwrapError)?;
    Ok(DataKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_credential(&[byte; 32]).unwrap()
    }

    #[test]
    fn round_trips_only_for_the_same_tenant_version_and_master() {
        let key = DataKey::generate();
        let wrapped = wrap(&master(1), "acme", 1, &key);
        let back = unwrap(&master(1), "acme", 1, &wrapped).unwrap();
        assert_eq!(back.expose(), key.expose());

        assert!(unwrap(&master(1), "globex", 1, &wrapped).is_err());
        assert!(unwrap(&master(1), "acme", 2, &wrapped).is_err());
        assert!(unwrap(&master(2), "acme", 1, &wrapped).is_err());
        let mut flipped = wrapped.clone();
        if let Some(last) = flipped.last_mut() {
            *last ^= 1;
        }
        assert!(unwrap(&master(1), "acme", 1, &flipped).is_err());
        assert!(unwrap(&master(1), "acme", 1, &wrapped[..20]).is_err());
    }

    #[test]
    fn wrapped_bytes_hold_no_key_bytes_and_differ_each_time() {
        let key = DataKey::generate();
        let a = wrap(&master(1), "acme", 1, &key);
        let b = wrap(&master(1), "acme", 1, &key);
        assert_ne!(a, b);
        assert!(
            !a.windows(8)
                .any(|w| key.expose().windows(8).any(|k| k == w))
        );
    }
}
