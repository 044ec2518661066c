//! `[asr]`: the speech recogniser's model and worker pool. Absent, the appliance runs without
//! recognition; present, its model file must pass the model check before the daemon starts.

use std::path::{Path, PathBuf};

use diala_asr::EngineConfig;
use diala_asr::engine::{DecodeOptions, FilterOptions};
use diala_asr::model::{ModelError, ModelInfo};
use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected};

use super::values::bounded;

/// `[asr]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsrSection {
    /// The ggml Whisper model; a relative path is taken from the configuration's directory.
    pub model: PathBuf,
    /// Utterances recognised at once, one thread each.
    #[serde(default = "default_workers", deserialize_with = "workers")]
    pub workers: usize,
    /// Threads whisper.cpp uses within one utterance.
    #[serde(default = "default_threads", deserialize_with = "threads")]
    pub threads_per_worker: usize,
    /// Utterances accepted and not yet collected before new ones are refused.
    #[serde(default = "default_queue_depth", deserialize_with = "queue_depth")]
    pub queue_depth: usize,
    /// The spoken language.
    #[serde(default = "default_language", deserialize_with = "language")]
    pub language: String,
    /// 1 decodes greedily; 2 to 8 keep that many beams.
    #[serde(default = "default_beam_size", deserialize_with = "beam_size")]
    pub beam_size: usize,
    /// Encoder positions added to the trimmed audio context.
    #[serde(default = "default_margin", deserialize_with = "margin")]
    pub audio_ctx_margin: usize,
    /// Whisper's no-speech probability above which an unsure segment is dropped.
    #[serde(default = "default_no_speech", deserialize_with = "probability")]
    pub no_speech_threshold: f32,
}

fn defaults() -> EngineConfig {
    EngineConfig::default()
}

fn default_workers() -> usize {
    defaults().workers
}

fn default_threads() -> usize {
    defaults().decode.threads
}

fn default_queue_depth() -> usize {
    defaults().queue_depth
}

fn default_language() -> String {
    defaults().decode.language
}

fn default_beam_size() -> usize {
    defaults().decode.beam_size
}

fn default_margin() -> usize {
    defaults().decode.audio_ctx_margin
}

fn default_no_speech() -> f32 {
    defaults().decode.filter.no_speech_threshold
}

fn ranged<'de, D: Deserializer<'de>>(
    d: D,
    min: u64,
    max: u64,
    what: &'static str,
) -> Result<usize, D::Error> {
    bounded(d, min, max, what).map(|v| usize::try_from(v).unwrap_or(usize::MAX))
}

fn workers<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    ranged(d, 1, 64, "a number of workers")
}

fn threads<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    ranged(d, 1, 64, "a number of threads")
}

fn queue_depth<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    ranged(d, 1, 4096, "a number of utterances")
}

fn beam_size<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    ranged(d, 1, 8, "a beam size")
}

fn margin<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    ranged(d, 0, 1500, "a number of encoder positions")
}

fn language<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let code = String::deserialize(d)?;
    if diala_asr::engine::is_known_language(&code) {
        Ok(code)
    } else {
        Err(de::Error::invalid_value(
            Unexpected::Str(&code),
            &"a Whisper language code such as en",
        ))
    }
}

fn probability<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    let value = f64::deserialize(d)?;
    if (0.0..=1.0).contains(&value) {
        Ok(value as f32)
    } else {
        Err(de::Error::invalid_value(
            Unexpected::Float(value),
            &"a probability from 0 to 1",
        ))
    }
}

impl AsrSection {
    /// The model file, made absolute against the configuration's directory.
    pub fn model_path(&self, config_path: &Path) -> PathBuf {
        super::resolve(config_path, &self.model)
    }

    /// The engine configuration this section describes.
    pub fn engine(&self, config_path: &Path) -> EngineConfig {
        EngineConfig {
            model: self.model_path(config_path),
            workers: self.workers,
            queue_depth: self.queue_depth,
            decode: DecodeOptions {
                threads: self.threads_per_worker,
                language: self.language.clone(),
                beam_size: self.beam_size,
                audio_ctx_margin: self.audio_ctx_margin,
                filter: FilterOptions {
                    no_speech_threshold: self.no_speech_threshold,
                },
                ..defaults().decode
            },
        }
    }

    /// Checks the model file the way the engine will before loading it.
    pub fn check_model(&self, config_path: &Path) -> Result<ModelInfo, ModelError> {
        diala_asr::model::check(&self.model_path(config_path))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use super::super::{ConfigError, parse};

    fn config(asr: &str) -> Result<super::super::Config, ConfigError> {
        parse(
            Path::new("/etc/diala-edge/appliance.toml"),
            &format!("[asr]\n{asr}"),
        )
    }

    #[test]
    fn defaults_fill_everything_but_the_model() {
        let asr = config("model = \"models/tiny.bin\"\n")
            .unwrap()
            .asr
            .unwrap();
        let engine = asr.engine(Path::new("/etc/diala-edge/appliance.toml"));
        assert_eq!(engine.model, Path::new("/etc/diala-edge/models/tiny.bin"));
        assert_eq!(
            (engine.workers, engine.decode.threads, engine.queue_depth),
            (2, 1, 16)
        );
        assert_eq!(
            (engine.decode.language.as_str(), engine.decode.beam_size),
            ("en", 1)
        );
        assert_eq!(engine.decode.audio_ctx_margin, 128);
    }

    #[test]
    fn out_of_range_values_are_refused_at_their_line() {
        let cases = [
            (
                "model = \"m\"\nworkers = 0\n",
                "asr.workers",
                "a number of workers from 1 to 64",
            ),
            (
                "model = \"m\"\nlanguage = \"klingon\"\n",
                "asr.language",
                "a Whisper language",
            ),
            (
                "model = \"m\"\nno_speech_threshold = 1.5\n",
                "asr.no_speech_threshold",
                "0 to 1",
            ),
            (
                "model = \"m\"\nbeam_size = 9\n",
                "asr.beam_size",
                "from 1 to 8",
            ),
            ("workers = 2\n", "asr", "missing field `model`"),
        ];
        for (text, key, expected) in cases {
            let message = config(text).unwrap_err().to_string();
            assert!(message.contains(&format!("key `{key}`")), "{message}");
            assert!(message.contains(expected), "{message}");
            if key != "asr" {
                assert!(message.contains("appliance.toml:3:"), "{message}");
            }
        }
    }
}
