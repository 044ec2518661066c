//! Records the git revision the binary was built from, for `diala-edge version` and the
//! `build_info` metric. A build outside a git checkout (a source package) may set
//! `DIALA_GIT_REVISION` itself.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=DIALA_GIT_REVISION");
    let top = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for watched in [".git/HEAD", ".git/index"] {
        println!("cargo:rerun-if-changed={}", top.join(watched).display());
    }

    let revision = std::env::var("DIALA_GIT_REVISION")
        .ok()
        .or_else(|| git_revision(&top));
    println!(
        "cargo:rustc-env=DIALA_GIT_REVISION={}",
        revision.as_deref().unwrap_or("unknown")
    );
    println!(
        "cargo:rustc-env=DIALA_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
}

fn git_revision(top: &std::path::Path) -> Option<String> {
    let run = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(top)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let hash = run(&["rev-parse", "--short=12", "HEAD"])?;
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}
