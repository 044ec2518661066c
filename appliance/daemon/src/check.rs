//! `diala-edge check-config`: validates a configuration and shows what the daemon would run with.
//!
//! Numbers (DIDs) are counted, never printed: output like this ends up pasted into tickets.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{self, Config};

/// What `check-config --json` prints.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    config: &'a Path,
    valid: bool,
    tenants: Vec<TenantSummary<'a>>,
    trunks: Vec<TrunkSummary<'a>>,
    asr: Option<AsrSummary>,
}

/// `[asr]` with what the model check found.
#[derive(Debug, Serialize)]
struct AsrSummary {
    model: PathBuf,
    model_mb: f64,
    weights: String,
    workers: usize,
    threads_per_worker: usize,
    queue_depth: usize,
    language: String,
}

#[derive(Debug, Serialize)]
struct TenantSummary<'a> {
    id: &'a str,
    name: &'a str,
    retention_days: u16,
    keep_in_clear: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
struct TrunkSummary<'a> {
    name: &'a str,
    tenant: &'a str,
    sources: Vec<String>,
    numbers: usize,
}

/// Validates the configuration at `path` and writes a summary to `out`.
pub fn run(path: &Path, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let config = config::load(path)?;
    let asr = match &config.asr {
        Some(section) => {
            let info = section
                .check_model(path)
                .map_err(config::ConfigError::from)?;
            Some(AsrSummary {
                model: section.model_path(path),
                model_mb: (info.bytes as f64 / 1e5).round() / 10.0,
                weights: format!("{:?}", info.weight_type),
                workers: section.workers,
                threads_per_worker: section.threads_per_worker,
                queue_depth: section.queue_depth,
                language: section.language.clone(),
            })
        }
        None => None,
    };
    let summary = Summary {
        asr,
        ..summarise(path, &config)
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &summary)?;
        writeln!(out)?;
    } else {
        write_text(&summary, out)?;
    }
    Ok(())
}

fn summarise<'a>(path: &'a Path, config: &'a Config) -> Summary<'a> {
    let tenants = config.tenants.iter().map(|t| TenantSummary {
        id: t.id.get_ref().as_str(),
        name: &t.name,
        retention_days: t.retention_days.0,
        keep_in_clear: t
            .redaction
            .keep_in_clear
            .0
            .kept()
            .map(|k| k.name())
            .collect(),
    });
    let trunks = config.trunks.iter().map(|t| TrunkSummary {
        name: &t.name,
        tenant: t.tenant.get_ref().as_str(),
        sources: t.sources.iter().map(ToString::to_string).collect(),
        numbers: t.numbers.len(),
    });
    Summary {
        config: path,
        valid: true,
        tenants: tenants.collect(),
        trunks: trunks.collect(),
        asr: None,
    }
}

fn write_text(summary: &Summary<'_>, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{}: valid", summary.config.display())?;
    writeln!(out, "tenants: {}", summary.tenants.len())?;
    for t in &summary.tenants {
        let kept = match t.keep_in_clear.as_slice() {
            [] => "nothing".to_owned(),
            kinds => kinds.join(","),
        };
        writeln!(
            out,
            "  {:<24} {:<32} retention {} d  keeps in clear {kept}",
            t.id, t.name, t.retention_days
        )?;
    }
    writeln!(out, "trunks: {}", summary.trunks.len())?;
    for t in &summary.trunks {
        let sources = t.sources.join(",");
        writeln!(
            out,
            "  {:<24} tenant {:<24} sources {sources}  numbers {}",
            t.name, t.tenant, t.numbers
        )?;
    }
    match &summary.asr {
        Some(a) => writeln!(
            out,
            "asr: model {} ({} MB, {}), {} workers x {} threads, queue {}, language {}",
            a.model.display(),
            a.model_mb,
            a.weights,
            a.workers,
            a.threads_per_worker,
            a.queue_depth,
            a.language
        )?,
        None => writeln!(out, "asr: not configured (calls are not transcribed)")?,
    }
    Ok(())
}
