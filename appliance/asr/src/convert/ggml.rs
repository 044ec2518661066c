//! Writer of whisper.cpp's ggml model file: header, mel filters, vocabulary, then each tensor
//! with its dimensions innermost first and its data in the type whisper.cpp expects for it.

use std::io::{self, Write};

use super::quant;
use crate::model::layout::{GgmlType, Hparams, MAGIC, TensorSpec};

fn i32_of(value: usize) -> io::Result<[u8; 4]> {
    i32::try_from(value)
        .map(i32::to_le_bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "value too large for the file"))
}

/// Writes the magic and the hyper-parameters.
pub fn write_header(out: &mut impl Write, h: &Hparams) -> io::Result<()> {
    out.write_all(&MAGIC.to_le_bytes())?;
    for field in h.fields() {
        let field = i32::try_from(field)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "header field too large"))?;
        out.write_all(&field.to_le_bytes())?;
    }
    Ok(())
}

/// Writes the mel filter bank: its row count, row length, then the f32 weights.
pub fn write_mel_filters(out: &mut impl Write, n_mels: usize, bank: &[f32]) -> io::Result<()> {
    out.write_all(&i32_of(n_mels)?)?;
    out.write_all(&i32_of(bank.len() / n_mels.max(1))?)?;
    out.write_all(&quant::f32_bytes(bank))
}

/// Writes the vocabulary: the token count, then each token's length and bytes.
pub fn write_vocabulary(out: &mut impl Write, tokens: &[Vec<u8>]) -> io::Result<()> {
    out.write_all(&i32_of(tokens.len())?)?;
    for token in tokens {
        out.write_all(&i32_of(token.len())?)?;
        out.write_all(token)?;
    }
    Ok(())
}

/// Writes one tensor in `ty`: rank, name length, type, dimensions, name, data.
pub fn write_tensor(
    out: &mut impl Write,
    spec: &TensorSpec,
    ty: GgmlType,
    values: &[f32],
) -> io::Result<()> {
    let data = match ty {
        GgmlType::F32 => quant::f32_bytes(values),
        GgmlType::F16 => quant::f16_bytes(values),
        GgmlType::Q8_0 => quant::q8_0_bytes(values).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "rows do not fill q8_0 blocks")
        })?,
        other => {
            let message = format!("writing {other:?} is not supported");
            return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        }
    };

    out.write_all(&i32_of(spec.ne.len())?)?;
    out.write_all(&i32_of(spec.name.len())?)?;
    out.write_all(&ty.id().to_le_bytes())?;
    for &dim in &spec.ne {
        out.write_all(&i32_of(dim)?)?;
    }
    out.write_all(spec.name.as_bytes())?;
    out.write_all(&data)
}
