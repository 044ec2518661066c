//! How CTranslate2's Whisper variables become whisper.cpp's tensors: the names, the fused
//! projections split apart, the hyper-parameters read off the shapes.
//!
//! CTranslate2 fuses self-attention q;k;v into one `linear_0` and cross-attention k;v into
//! `linear_1`; whisper.cpp keeps them apart and has no key bias (a key bias adds the same
//! amount to every score of a query, so softmax ignores it and dropping it is exact).

use super::ConvertError;
use super::ct2::Ct2Model;
use crate::model::layout::{Hparams, TensorSpec};

/// Which rows of a CTranslate2 variable a tensor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// All of it.
    Whole,
    /// Chunk `index` of `of` equal chunks along the outermost dimension.
    Rows { index: usize, of: usize },
}

/// Reads the hyper-parameters off the variables' shapes.
pub fn hparams(model: &Ct2Model, ftype: i32) -> Result<Hparams, ConvertError> {
    let dims = |name: &str| model.variable(name).map(|v| v.dims.clone());
    let dim = |name: &str, i: usize| -> Result<usize, ConvertError> {
        dims(name)?
            .get(i)
            .copied()
            .ok_or_else(|| ConvertError::Shape(format!("`{name}` has no dimension {i}")))
    };
    let layers = |side: &str| {
        (0..)
            .take_while(|i| model.has(&format!("{side}/layer_{i}/ffn/linear_0/weight")))
            .count()
    };
    let heads = |side: &str| -> Result<usize, ConvertError> {
        let name = format!("{side}/num_heads");
        usize::try_from(model.integer(&name)?)
            .map_err(|_| ConvertError::Shape(format!("`{name}` is negative")))
    };

    Ok(Hparams {
        n_vocab: dim("decoder/embeddings/weight", 0)?,
        n_audio_ctx: dim("encoder/position_encodings/encodings", 0)?,
        n_audio_state: dim("encoder/conv1/weight", 0)?,
        n_audio_head: heads("encoder")?,
        n_audio_layer: layers("encoder"),
        n_text_ctx: dim("decoder/position_encodings/encodings", 0)?,
        n_text_state: dim("decoder/embeddings/weight", 1)?,
        n_text_head: heads("decoder")?,
        n_text_layer: layers("decoder"),
        n_mels: dim("encoder/conv1/weight", 1)?,
        ftype,
    })
}

/// The values of one whisper.cpp tensor, row-major, taken from the CTranslate2 model.
pub fn values(model: &Ct2Model, spec: &TensorSpec) -> Result<Vec<f32>, ConvertError> {
    let (source, part) = source_of(&spec.name)
        .ok_or_else(|| ConvertError::Shape(format!("no source for tensor `{}`", spec.name)))?;
    let variable = model.variable(&source)?;
    let all = model.floats(&source)?;

    let values = match part {
        Part::Whole => all,
        Part::Rows { index, of } => {
            let chunk = all.len() / of;
            all.get(index * chunk..(index + 1) * chunk)
                .unwrap_or_default()
                .to_vec()
        }
    };
    if values.len() != spec.elements() {
        return Err(ConvertError::Shape(format!(
            "`{source}` has shape {:?}; tensor `{}` needs {:?} (ggml order)",
            variable.dims, spec.name, spec.ne
        )));
    }
    Ok(values)
}

/// The CTranslate2 variable (and part of it) behind a whisper.cpp tensor name.
fn source_of(name: &str) -> Option<(String, Part)> {
    let whole = |s: &str| Some((s.to_owned(), Part::Whole));
    match name {
        "encoder.positional_embedding" => return whole("encoder/position_encodings/encodings"),
        "decoder.positional_embedding" => return whole("decoder/position_encodings/encodings"),
        "decoder.token_embedding.weight" => return whole("decoder/embeddings/weight"),
        _ => {}
    }
    let (stem, leaf) = name.rsplit_once('.')?;
    let mut parts = stem.split('.');
    let side = parts.next()?;
    let rest: Vec<&str> = parts.collect();

    let (path, part) = match rest.as_slice() {
        ["conv1"] | ["conv2"] => (rest.join("/"), Part::Whole),
        ["ln_post"] | ["ln"] => ("layer_norm".to_owned(), Part::Whole),
        ["blocks", layer, module @ ..] => {
            let (inner, part) = block_source(module)?;
            (format!("layer_{layer}/{inner}"), part)
        }
        _ => return None,
    };
    let leaf = match (path.ends_with("layer_norm"), leaf) {
        (true, "weight") => "gamma",
        (true, "bias") => "beta",
        (false, leaf) => leaf,
        _ => return None,
    };
    Some((format!("{side}/{path}/{leaf}"), part))
}

/// Within one block: the CTranslate2 module behind a whisper.cpp module.
fn block_source(module: &[&str]) -> Option<(String, Part)> {
    let rows = |index, of| Part::Rows { index, of };
    let (inner, part) = match module {
        ["attn_ln"] => ("self_attention/layer_norm", Part::Whole),
        ["attn", "query"] => ("self_attention/linear_0", rows(0, 3)),
        ["attn", "key"] => ("self_attention/linear_0", rows(1, 3)),
        ["attn", "value"] => ("self_attention/linear_0", rows(2, 3)),
        ["attn", "out"] => ("self_attention/linear_1", Part::Whole),
        ["cross_attn_ln"] => ("attention/layer_norm", Part::Whole),
        ["cross_attn", "query"] => ("attention/linear_0", Part::Whole),
        ["cross_attn", "key"] => ("attention/linear_1", rows(0, 2)),
        ["cross_attn", "value"] => ("attention/linear_1", rows(1, 2)),
        ["cross_attn", "out"] => ("attention/linear_2", Part::Whole),
        ["mlp_ln"] => ("ffn/layer_norm", Part::Whole),
        ["mlp", "0"] => ("ffn/linear_0", Part::Whole),
        ["mlp", "2"] => ("ffn/linear_1", Part::Whole),
        _ => return None,
    };
    Some((inner.to_owned(), part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_their_ctranslate2_variables() {
        let cases = [
            (
                "encoder.ln_post.bias",
                "encoder/layer_norm/beta",
                Part::Whole,
            ),
            ("encoder.conv2.weight", "encoder/conv2/weight", Part::Whole),
            (
                "encoder.blocks.3.attn.key.weight",
                "encoder/layer_3/self_attention/linear_0/weight",
                Part::Rows { index: 1, of: 3 },
            ),
            (
                "decoder.blocks.0.cross_attn.value.bias",
                "decoder/layer_0/attention/linear_1/bias",
                Part::Rows { index: 1, of: 2 },
            ),
            (
                "decoder.blocks.1.mlp.2.weight",
                "decoder/layer_1/ffn/linear_1/weight",
                Part::Whole,
            ),
            (
                "decoder.blocks.1.mlp_ln.weight",
                "decoder/layer_1/ffn/layer_norm/gamma",
                Part::Whole,
            ),
        ];
        for (name, source, part) in cases {
            assert_eq!(source_of(name), Some((source.to_owned(), part)), "{name}");
        }
        assert_eq!(source_of("decoder.blocks.0.attn.rotary.weight"), None);
    }
}
