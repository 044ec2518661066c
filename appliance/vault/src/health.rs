//! Whether the storage can take new work: a full or read-only file system stops new calls
//! before they start, while committed data stays as it is.
//!
//! The state is set by a failed write or by a look at the file system's free space, and
//! cleared by the next look that finds room again. It never deletes anything to make room.

use std::path::{Path, PathBuf};

use nix::sys::statvfs::{FsFlags, statvfs};
use parking_lot::Mutex;

use crate::VaultError;

/// The storage state shared by every vault of the appliance.
#[derive(Debug)]
pub struct StorageHealth {
    dir: PathBuf,
    min_free_bytes: u64,
    refusing: Mutex<Option<String>>,
}

impl StorageHealth {
    /// Watches the file system holding `dir`; below `min_free_bytes` free, new calls are
    /// refused so the calls already running have room to finish.
    pub fn new(dir: &Path, min_free_bytes: u64) -> Self {
        StorageHealth {
            dir: dir.to_owned(),
            min_free_bytes,
            refusing: Mutex::new(None),
        }
    }

    /// Looks at the file system now: clears the refusing state if there is room again, sets it
    /// if not, and says which.
    pub fn check(&self) -> Result<(), VaultError> {
        match self.look() {
            Ok(()) => {
                *self.refusing.lock() = None;
                Ok(())
            }
            Err(error) => {
                self.note(&error);
                Err(error)
            }
        }
    }

    fn look(&self) -> Result<(), VaultError> {
        let stat = statvfs(&self.dir).map_err(|errno| VaultError::StorageUnavailable {
            path: self.dir.clone(),
            reason: errno.to_string(),
        })?;
        if stat.flags().contains(FsFlags::ST_RDONLY) {
            return Err(VaultError::StorageUnavailable {
                path: self.dir.clone(),
                reason: "the file system is mounted read-only".to_owned(),
            });
        }
        let free = stat.blocks_available().saturating_mul(stat.fragment_size());
        if free < self.min_free_bytes {
            return Err(VaultError::StorageFull {
                path: self.dir.clone(),
            });
        }
        Ok(())
    }

    /// Records a failed write that showed the storage cannot take more.
    pub(crate) fn note(&self, error: &VaultError) {
        if error.is_storage() {
            *self.refusing.lock() = Some(error.to_string());
        }
    }

    /// Why new work is refused, or `None` while the storage is healthy as last seen.
    pub fn refusing(&self) -> Option<String> {
        self.refusing.lock().clone()
    }
}
