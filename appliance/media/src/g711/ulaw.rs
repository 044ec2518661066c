//! mu-law (`PCMU`): 14 bits of magnitude and sign companded into 8 bits.

use super::segment;

/// Upper ends of the eight segments, on the biased 14-bit magnitude.
const SEGMENT_ENDS: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
/// The bias added before the segment search, so that segment 0 has the same step as the rest.
const BIAS: i32 = 0x84 >> 2;
/// The largest magnitude the code can carry, in 14-bit units.
const CLIP: i32 = 8159;

/// One code per 14-bit input value (the rounded 16-bit sample, offset to index 0).
static ENCODE: [u8; 1 << 14] = encode_table();
/// The linear value of each code.
static DECODE: [i16; 256] = decode_table();

/// Encodes one 16-bit linear sample, rounded to mu-law's 14 bits first.
pub fn encode_sample(sample: i16) -> u8 {
    // Rounded to the nearest step, not truncated: half the quantisation error of a shift.
    let value = ((i32::from(sample) + 2) >> 2).min(8191);
    let index = (value + 0x2000) as usize;
    // Every rounded and clipped sample plus the offset lies inside the table: the fallback is
    // never taken.
    ENCODE.get(index).copied().unwrap_or(0xFF)
}

/// Decodes one mu-law code to a 16-bit linear sample.
pub fn decode_sample(code: u8) -> i16 {
    // A u8 always indexes a 256-entry table.
    DECODE.get(usize::from(code)).copied().unwrap_or(0)
}

const fn encode_value(value: i32) -> u8 {
    let (mut magnitude, mask) = if value < 0 {
        (-value, 0x7F)
    } else {
        (value, 0xFF)
    };
    if magnitude > CLIP {
        magnitude = CLIP;
    }
    magnitude += BIAS;

    let seg = segment(magnitude, &SEGMENT_ENDS);
    let code = if seg >= 8 {
        0x7F
    } else {
        (seg << 4) as i32 | ((magnitude >> (seg + 1)) & 0xF)
    };
    (code ^ mask) as u8
}

#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build, not the daemon"
)]
const fn encode_table() -> [u8; 1 << 14] {
    let mut table = [0u8; 1 << 14];
    let mut index = 0;
    while index < table.len() {
        let value = index as i32 - 0x2000;
        table[index] = encode_value(value);
        index += 1;
    }
    table
}

const fn decode_value(code: u8) -> i16 {
    let inverted = !code;
    let mantissa = ((inverted & 0x0F) as i32) << 3;
    let exponent = ((inverted & 0x70) >> 4) as i32;
    let magnitude = ((mantissa + 0x84) << exponent) - 0x84;
    if inverted & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build, not the daemon"
)]
const fn decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = decode_value(code as u8);
        code += 1;
    }
    table
}
