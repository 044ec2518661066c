//! Shell completions and man pages, generated from the command-line definition itself so they
//! never disagree with it. The package build runs `diala-edge generate-docs DIR` and installs
//! what it writes; nothing here runs on a box.

use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::Cli;

/// Writes `completions/diala-edge.bash`, `_diala-edge` (zsh), `diala-edge.fish`, and one man
/// page per command (`man/diala-edge.1`, `man/diala-edge-tenant-add.1`, ...) into `dir`.
pub fn generate(dir: &Path) -> anyhow::Result<()> {
    let completions = dir.join("completions");
    let man = dir.join("man");
    for made in [&completions, &man] {
        std::fs::create_dir_all(made)
            .with_context(|| format!("cannot create {}", made.display()))?;
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut Cli::command(), "diala-edge", &completions)
            .with_context(|| format!("cannot write the {shell} completions"))?;
    }
    let mut command = Cli::command();
    command.build();
    pages(&command, &man)
}

/// A man page for `command` and each of its visible subcommands but `help`, named like
/// `diala-edge-tenant-add.1`.
fn pages(command: &clap::Command, dir: &Path) -> anyhow::Result<()> {
    let name = command.get_display_name().unwrap_or(command.get_name());
    let path = dir.join(format!("{name}.1"));
    let mut file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    clap_mangen::Man::new(command.clone())
        .render(&mut file)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let visible = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help");
    for sub in visible {
        pages(sub, dir)?;
    }
    Ok(())
}
