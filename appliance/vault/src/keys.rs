//! The master key and the keys derived from it.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The appliance's master key: 256 bits from a systemd credential (or a 0600 file in
/// development). Everything else is wrapped by it or derived from it.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; 32]);

/// Why a master key file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// Neither 32 raw bytes nor 64 hexadecimal characters.
    #[error(
        "the master key must be 32 raw bytes or 64 hexadecimal characters (found {0} bytes); create one with `head -c 32 /dev/urandom`"
    )]
    BadLength(usize),
    /// 64 characters, but not all hexadecimal.
    #[error("the master key has 64 characters but they are not all hexadecimal")]
    NotHex,
}

impl MasterKey {
    /// Reads a master key from the bytes of its credential: 32 raw bytes, or 64 hexadecimal
    /// characters optionally followed by a newline.
    pub fn from_credential(bytes: &[u8]) -> Result<Self, MasterKeyError> {
        if bytes.len() == 32 {
            let mut key = [0u8; 32];
            key.copy_from_slice(bytes);
            return Ok(MasterKey(key));
        }

        let text = bytes.trim_ascii();
        if text.len() != 64 {
            return Err(MasterKeyError::BadLength(bytes.len()));
        }
        let mut key = [0u8; 32];
        hex::decode_to_slice(text, &mut key).map_err(|_| MasterKeyError::NotHex)?;
        Ok(MasterKey(key))
    }

    /// A key for one purpose, derived with HKDF-SHA256. Different purposes give independent
    /// keys, so a key leaked from one database says nothing about another.
    pub fn derive(&self, purpose: KeyPurpose<'_>) -> DerivedKey {
        let hkdf = Hkdf::<Sha256>::new(Some(b"diala-edge/v1"), &self.0);
        let mut out = DerivedKey([0u8; 32]);
        let info = purpose.info();
        hkdf.expand(&info, &mut out.0)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        out
    }
}

impl MasterKey {
    /// A short public name of this master key: 16 hex characters from HKDF, which reveal
    /// nothing of the key but tell two master keys apart.
    pub fn fingerprint(&self) -> String {
        let derived = self.derive(KeyPurpose::Fingerprint);
        hex::encode(derived.expose().get(..8).unwrap_or_default())
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// What a derived key is for. The purpose is bound into the derivation.
#[derive(Debug, Clone, Copy)]
pub enum KeyPurpose<'a> {
    /// The keyring database, which holds the tenants' wrapped data keys.
    Keyring,
    /// The audit database.
    Audit,
    /// A tenant's redaction-token key.
    TenantTokens(&'a str),
    /// The key that wraps the tenants' data keys in the keyring.
    KeyWrap,
    /// The HMAC key that chains the audit records.
    AuditChain,
    /// A public fingerprint of the master key, to tell which master key wrapped a data key.
    Fingerprint,
    /// The key that encrypts the sysadmins' TOTP secrets at rest.
    AdminTotp,
}

impl KeyPurpose<'_> {
    fn info(&self) -> Zeroizing<Vec<u8>> {
        let info = match self {
            KeyPurpose::Keyring => "keyring".to_owned(),
            KeyPurpose::Audit => "audit".to_owned(),
            KeyPurpose::TenantTokens(tenant) => format!("tenant-tokens/{tenant}"),
            KeyPurpose::KeyWrap => "key-wrap".to_owned(),
            KeyPurpose::AuditChain => "audit-chain".to_owned(),
            KeyPurpose::Fingerprint => "fingerprint".to_owned(),
            KeyPurpose::AdminTotp => "admin-totp".to_owned(),
        };
        Zeroizing::new(info.into_bytes())
    }
}

/// A 256-bit key derived from the master key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DerivedKey([u8; 32]);

impl DerivedKey {
    /// The key bytes, for handing to a cipher or HMAC.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKey([redacted])")
    }
}

/// A tenant's data key: 256 random bits that open its SQLCipher database. It exists in clear
/// only in memory; on disk it is always wrapped by the master key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; 32]);

impl DataKey {
    /// A fresh key from the operating system's random generator.
    pub fn generate() -> Self {
        DataKey(rand::random())
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        DataKey(bytes)
    }

    /// The key bytes, for handing to SQLCipher or the wrapping cipher.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_raw_and_hex_forms() {
        let raw = MasterKey::from_credential(&[0xab; 32]).unwrap();
        let hex = MasterKey::from_credential(format!("{}\n", "ab".repeat(32)).as_bytes()).unwrap();
        assert_eq!(
            raw.derive(KeyPurpose::Keyring).0,
            hex.derive(KeyPurpose::Keyring).0
        );
    }

    #[test]
    fn refuses_wrong_length_and_non_hex() {
        assert!(matches!(
            MasterKey::from_credential(b"short"),
            Err(MasterKeyError::BadLength(5))
        ));
        let not_hex = "zz".repeat(32);
        assert!(matches!(
            MasterKey::from_credential(not_hex.as_bytes()),
            Err(MasterKeyError::NotHex)
        ));
    }

    #[test]
    fn purposes_give_independent_keys() {
        let master = MasterKey::from_credential(&[1; 32]).unwrap();
        let a = master.derive(KeyPurpose::TenantTokens("acme"));
        let b = master.derive(KeyPurpose::TenantTokens("globex"));
        let k = master.derive(KeyPurpose::Keyring);
        assert_ne!(a.0, b.0);
        assert_ne!(a.0, k.0);
    }

    #[test]
    fn debug_hides_keys() {
        let master = MasterKey::from_credential(&[1; 32]).unwrap();
        assert_eq!(format!("{master:?}"), "MasterKey([redacted])");
        assert_eq!(
            format!("{:?}", master.derive(KeyPurpose::Audit)),
            "DerivedKey([redacted])"
        );
    }
}
