//! What the package tests share: the built .deb, commands that must succeed, and throwaway
//! Debian 12 roots made with debootstrap.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The package for `arch` that `make deb` built into `DIALA_DEB_DIR` (`make test` sets it).
pub fn deb(arch: &str) -> PathBuf {
    let dir = std::env::var_os("DIALA_DEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deb"));
    let version = env!("CARGO_PKG_VERSION");
    let path = dir.join(format!("diala-edge_{version}_{arch}.deb"));
    assert!(
        path.exists(),
        "{} is missing: run `make deb` first",
        path.display()
    );
    path
}

/// Runs `command` and fails the test with its output unless it succeeds.
pub fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A fresh Debian 12 root with the packages `include` names: debootstrapped once into
/// target/rootfs/`name`, then copied for each test.
pub fn fresh_root(name: &str, include: &str) -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/rootfs")
        .join(name);
    if !base.join("etc/debian_version").exists() {
        let partial = base.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        run(Command::new("debootstrap")
            .args([
                "--variant=minbase",
                &format!("--include={include}"),
                "bookworm",
            ])
            .arg(&partial)
            .arg("http://deb.debian.org/debian"));
        std::fs::rename(&partial, &base).unwrap();
    }
    let copy = tempfile::tempdir().unwrap();
    run(Command::new("cp")
        .arg("-a")
        .arg(base.join("."))
        .arg(copy.path()));
    copy
}
