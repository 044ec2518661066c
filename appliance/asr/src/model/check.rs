//! Reads a ggml model file end to end without loading its weights: the magic, the
//! hyper-parameters, the mel filters, the vocabulary and every tensor's header, checking each
//! tensor against what whisper.cpp's loader expects and that its data is all there.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::ModelError;
use super::layout::{self, GgmlType, Hparams, MAGIC};

/// What the check found in a valid model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The hyper-parameters.
    pub hparams: Hparams,
    /// The element type of the big matrices.
    pub weight_type: GgmlType,
    /// The number of tensors.
    pub tensors: usize,
    /// The file size in bytes.
    pub bytes: u64,
}

/// Checks the model file at `path` and describes it, or says why whisper.cpp must not load it.
pub fn check(path: &Path) -> Result<ModelInfo, ModelError> {
    let read_error = |source| ModelError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(read_error)?;
    let bytes = file.metadata().map_err(read_error)?.len();
    let mut reader = ModelReader {
        inner: BufReader::new(file),
        path: path.to_owned(),
        remaining: bytes,
    };

    if reader.u32().ok() != Some(MAGIC) {
        return Err(ModelError::NotGgml {
            path: path.to_owned(),
        });
    }
    let hparams = reader.hparams()?;
    let weight_type = hparams
        .weight_type()
        .ok_or_else(|| reader.invalid(format!("unknown weight type (ftype {})", hparams.ftype)))?;
    reader.mel_filters(&hparams)?;
    reader.vocabulary(&hparams)?;
    let tensors = reader.tensors(&hparams, weight_type)?;
    Ok(ModelInfo {
        hparams,
        weight_type,
        tensors,
        bytes,
    })
}

struct ModelReader {
    inner: BufReader<File>,
    path: PathBuf,
    remaining: u64,
}

impl ModelReader {
    fn invalid(&self, problem: impl Into<String>) -> ModelError {
        ModelError::Invalid {
            path: self.path.clone(),
            problem: problem.into(),
        }
    }

    fn exact<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let mut buf = [0; N];
        match self.inner.read_exact(&mut buf) {
            Ok(()) => {
                self.remaining = self.remaining.saturating_sub(N as u64);
                Ok(buf)
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                Err(self.invalid("the file ends early"))
            }
            Err(source) => Err(ModelError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.exact()?))
    }

    /// A non-negative i32 no larger than `max`, or an error naming `what`.
    fn count(&mut self, what: &str, max: usize) -> Result<usize, ModelError> {
        let value = i32::from_le_bytes(self.exact()?);
        usize::try_from(value)
            .ok()
            .filter(|&v| v <= max)
            .ok_or_else(|| self.invalid(format!("{what} is {value}, outside 0..={max}")))
    }

    fn skip(&mut self, bytes: usize, what: &str) -> Result<(), ModelError> {
        let bytes = bytes as u64;
        if bytes > self.remaining {
            return Err(self.invalid(format!("the file ends inside {what}")));
        }
        self.inner
            .seek(SeekFrom::Current(bytes as i64))
            .map_err(|source| ModelError::Read {
                path: self.path.clone(),
                source,
            })?;
        self.remaining -= bytes;
        Ok(())
    }

    fn hparams(&mut self) -> Result<Hparams, ModelError> {
        let mut field = |name: &str, max: usize| self.count(name, max);
        let h = Hparams {
            n_vocab: field("n_vocab", 1 << 20)?,
            n_audio_ctx: field("n_audio_ctx", 1 << 16)?,
            n_audio_state: field("n_audio_state", 1 << 14)?,
            n_audio_head: field("n_audio_head", 256)?,
            n_audio_layer: field("n_audio_layer", 256)?,
            n_text_ctx: field("n_text_ctx", 1 << 16)?,
            n_text_state: field("n_text_state", 1 << 14)?,
            n_text_head: field("n_text_head", 256)?,
            n_text_layer: field("n_text_layer", 256)?,
            n_mels: field("n_mels", 1024)?,
            ftype: i32::from_le_bytes(self.exact()?),
        };
        if h.n_audio_state != h.n_text_state {
            return Err(self.invalid("encoder and decoder widths differ"));
        }
        let heads_fit = |heads: usize, width: usize| heads > 0 && width.is_multiple_of(heads);
        if !heads_fit(h.n_audio_head, h.n_audio_state) || !heads_fit(h.n_text_head, h.n_text_state)
        {
            return Err(self.invalid("the attention heads do not divide the model width"));
        }
        if h.n_vocab < 51_864 || h.n_audio_layer == 0 || h.n_text_layer == 0 {
            return Err(self.invalid("the header does not describe a Whisper model"));
        }
        Ok(h)
    }

    fn mel_filters(&mut self, h: &Hparams) -> Result<(), ModelError> {
        let n_mel = self.count("the mel filter count", 1024)?;
        let n_fft = self.count("the mel filter length", 4096)?;
        if n_mel != h.n_mels || n_fft == 0 {
            return Err(self.invalid(format!(
                "{n_mel} mel filters of {n_fft} bins for a model of {} mels",
                h.n_mels
            )));
        }
        self.skip(n_mel * n_fft * 4, "the mel filters")
    }

    fn vocabulary(&mut self, h: &Hparams) -> Result<(), ModelError> {
        let tokens = self.count("the vocabulary size", h.n_vocab)?;
        for _ in 0..tokens {
            let len = self.u32()? as usize;
            if len > 1024 {
                return Err(self.invalid(format!("a vocabulary entry of {len} bytes")));
            }
            self.skip(len, "the vocabulary")?;
        }
        Ok(())
    }

    fn tensors(&mut self, h: &Hparams, weight: GgmlType) -> Result<usize, ModelError> {
        let mut expected: HashMap<String, layout::TensorSpec> = layout::tensors(h)
            .into_iter()
            .map(|t| (t.name.clone(), t))
            .collect();
        let total = expected.len();

        while self.remaining > 0 {
            let n_dims = self.count("a tensor's rank", 4)?;
            let name_len = self.count("a tensor name's length", 256)?;
            let type_id = i32::from_le_bytes(self.exact()?);
            let ne = (0..n_dims)
                .map(|_| self.count("a tensor dimension", 1 << 24))
                .collect::<Result<Vec<_>, _>>()?;
            let mut name = vec![0; name_len];
            self.inner
                .read_exact(&mut name)
                .map_err(|_| self.invalid("the file ends early"))?;
            self.remaining = self.remaining.saturating_sub(name_len as u64);
            let name = String::from_utf8_lossy(&name).into_owned();

            let spec = expected
                .remove(&name)
                .ok_or_else(|| self.invalid(format!("unexpected or repeated tensor `{name}`")))?;
            let want = spec.ggml_type(weight);
            if GgmlType::from_id(type_id) != Some(want) || ne != spec.ne {
                return Err(self.invalid(format!(
                    "tensor `{name}` is type {type_id} shape {ne:?}; expected {want:?} {:?}",
                    spec.ne
                )));
            }
            let bytes = want.bytes_for(spec.elements()).ok_or_else(|| {
                self.invalid(format!("tensor `{name}` does not fill whole blocks"))
            })?;
            self.skip(bytes, &format!("tensor `{name}`"))?;
        }

        if let Some(name) = expected.keys().min() {
            return Err(self.invalid(format!("tensor `{name}` is missing")));
        }
        Ok(total)
    }
}
