//! Element encodings of the ggml file: f32, f16, and q8_0 blocks.
//!
//! q8_0 packs 32 consecutive values of a row into one f16 scale (the largest magnitude over
//! 127) and 32 signed bytes; it keeps Whisper's accuracy at about half the size of f16.

use half::f16;

/// Values per q8_0 block.
pub const Q8_0_BLOCK: usize = 32;

/// `values` as little-endian f32.
pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `values` as little-endian IEEE half precision, rounded to nearest.
pub fn f16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| f16::from_f32(v).to_le_bytes())
        .collect()
}

/// `values` as q8_0 blocks, or `None` if their count is not a multiple of the block size
/// (rows of a Whisper matrix always are).
pub fn q8_0_bytes(values: &[f32]) -> Option<Vec<u8>> {
    if !values.len().is_multiple_of(Q8_0_BLOCK) {
        return None;
    }
    let mut out = Vec::with_capacity(values.len() / Q8_0_BLOCK * (2 + Q8_0_BLOCK));
    for block in values.chunks_exact(Q8_0_BLOCK) {
        let max = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = max / 127.0;
        let inverse = if scale == 0.0 { 0.0 } else { 1.0 / scale };
        out.extend_from_slice(&f16::from_f32(scale).to_le_bytes());
        // The cast saturates, and |v * inverse| <= 127 by construction.
        out.extend(
            block
                .iter()
                .map(|v| ((v * inverse).round() as i8).to_le_bytes()[0]),
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, clippy::unwrap_used)]

    use super::*;

    fn dequantize(bytes: &[u8]) -> Vec<f32> {
        bytes
            .chunks_exact(2 + Q8_0_BLOCK)
            .flat_map(|b| {
                let scale = f16::from_le_bytes([b[0], b[1]]).to_f32();
                b[2..].iter().map(move |&q| f32::from(q as i8) * scale)
            })
            .collect()
    }

    #[test]
    fn q8_0_round_trips_within_half_a_step() {
        let values: Vec<f32> = (0..64).map(|i| ((i as f32) * 0.37).sin() * 0.2).collect();
        let bytes = q8_0_bytes(&values).unwrap();
        assert_eq!(bytes.len(), 2 * 34);

        let back = dequantize(&bytes);
        for (block, restored) in values.chunks(32).zip(back.chunks(32)) {
            let step = block.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0;
            for (a, b) in block.iter().zip(restored) {
                assert!((a - b).abs() <= step * 0.51 + 1e-6, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn q8_0_keeps_the_extremes_and_zero_blocks() {
        let mut values = vec![0.0f32; 64];
        values[3] = -2.0;
        values[40] = 1.0;
        let back = dequantize(&q8_0_bytes(&values).unwrap());
        assert!((back[3] + 2.0).abs() < 2e-3);
        assert_eq!(back[0], 0.0);
        assert!((back[40] - 1.0).abs() < 1e-3);
        assert!(q8_0_bytes(&values[..33]).is_none());
    }
}
