//! Throughput and accuracy of the detector against Microsoft Presidio, on the same corpus lines
//! in the same run.
//!
//! Prints `name: value unit` lines: lines per second and MB/s on one core for both, then
//! precision and recall per kind, recall on written and on spoken forms, and the share of
//! negative lines touched. Presidio runs with its pattern recognizers only (its spaCy models
//! are not on PyPI); when it is not installed the bench says so and prints no figures for it.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use diala_redact::EntityKind;
use diala_redact::corpus::{self, Form, Found, Line, Scorecard};

const CORPUS: &str = "tests/corpus/transcripts.jsonl";
const PRESIDIO: &str = "benches/presidio_bench.py";
// Passes over the corpus: enough for a second of work for the detector, and a few seconds for
// Presidio, which is far slower.
const OUR_PASSES: usize = 400;
const PRESIDIO_PASSES: usize = 3;

struct Run {
    seconds: f64,
    passes: usize,
    found: Vec<Vec<Found>>,
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(CORPUS)).expect("the corpus is readable");
    let lines = corpus::parse(&text).expect("the corpus parses");
    let bytes: usize = lines.iter().map(|l| l.text.len()).sum();
    println!("corpus_lines: {} lines", lines.len());
    println!("corpus_size: {bytes} bytes");

    let ours = run_ours(&lines);
    report("diala", &ours, &lines, bytes);

    match run_presidio(root, &lines) {
        Ok(presidio) => {
            report("presidio", &presidio, &lines, bytes);
            let speedup = (ours.seconds / ours.passes as f64).recip()
                / (presidio.seconds / presidio.passes as f64).recip();
            println!("throughput_vs_presidio: {speedup:.0} x");
        }
        Err(why) => println!("presidio: not measured: {why}"),
    }
}

fn run_ours(lines: &[Line]) -> Run {
    for line in lines {
        black_box(diala_redact::detect(black_box(&line.text)));
    }
    let start = Instant::now();
    for _ in 0..OUR_PASSES {
        for line in lines {
            black_box(diala_redact::detect(black_box(&line.text)));
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let found = lines.iter().map(|l| ours_found(&l.text)).collect();
    Run {
        seconds,
        passes: OUR_PASSES,
        found,
    }
}

fn ours_found(text: &str) -> Vec<Found> {
    diala_redact::detect(text)
        .into_iter()
        .map(|s| Found {
            start: corpus::char_offset(text, s.start),
            end: corpus::char_offset(text, s.end),
            kind: s.kind,
        })
        .collect()
}

fn run_presidio(root: &Path, lines: &[Line]) -> Result<Run, String> {
    // `make bench` points this at the virtualenv `make bench-deps` installs Presidio into.
    let python = std::env::var_os("DIALA_BENCH_PYTHON").unwrap_or_else(|| "python3".into());
    let output = Command::new(python)
        .arg(root.join(PRESIDIO))
        .arg(root.join(CORPUS))
        .arg(PRESIDIO_PASSES.to_string())
        .output()
        .map_err(|e| format!("cannot run python3 ({e}); run `make bench-deps`"))?;
    if output.status.code() == Some(3) {
        return Err("presidio-analyzer is not installed; run `make bench-deps`".to_owned());
    }
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("the Presidio runner failed: {}", stderr.trim()));
    }

    let value: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("bad runner output: {e}"))?;
    let found: Vec<Vec<Found>> = value
        .get("found")
        .and_then(serde_json::Value::as_array)
        .ok_or("runner output has no `found`")?
        .iter()
        .map(|line| {
            line.as_array()
                .map(|l| l.iter().filter_map(presidio_found).collect())
        })
        .collect::<Option<_>>()
        .ok_or("runner output is malformed")?;
    if found.len() != lines.len() {
        return Err(format!("{} results for {} lines", found.len(), lines.len()));
    }
    Ok(Run {
        seconds: value
            .get("seconds")
            .and_then(serde_json::Value::as_f64)
            .ok_or("no `seconds`")?,
        passes: PRESIDIO_PASSES,
        found,
    })
}

fn presidio_found(entry: &serde_json::Value) -> Option<Found> {
    Some(Found {
        start: usize::try_from(entry.get(0)?.as_u64()?).ok()?,
        end: usize::try_from(entry.get(1)?.as_u64()?).ok()?,
        kind: EntityKind::parse(entry.get(2)?.as_str()?)?,
    })
}

fn report(name: &str, run: &Run, lines: &[Line], bytes: usize) {
    let per_pass = run.seconds / run.passes as f64;
    println!(
        "{name}_lines_per_second: {:.0} lines/s",
        lines.len() as f64 / per_pass
    );
    println!(
        "{name}_throughput: {:.2} MB/s",
        bytes as f64 / per_pass / 1e6
    );

    let mut card = Scorecard::default();
    for (line, found) in lines.iter().zip(&run.found) {
        card.add(line, found);
    }
    for kind in EntityKind::ALL {
        let counts = card.by_kind.get(&kind).copied().unwrap_or_default();
        let label = kind.name();
        println!("{name}_{label}_precision: {:.3} ratio", counts.precision());
        println!("{name}_{label}_recall: {:.3} ratio", counts.recall());
    }
    for (form, label) in [(Form::Written, "written"), (Form::Spoken, "spoken")] {
        let recall = card
            .by_form
            .get(&form)
            .copied()
            .unwrap_or_default()
            .recall();
        println!("{name}_{label}_recall: {recall:.3} ratio");
    }
    println!(
        "{name}_negatives_touched: {:.3} ratio",
        card.negatives_touched()
    );
}
