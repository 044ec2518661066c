//! A-law (`PCMA`): 13 bits of magnitude and sign companded into 8 bits, even bits inverted.

use super::segment;

/// Upper ends of the eight segments, on the 13-bit magnitude.
const SEGMENT_ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// One code per 13-bit input value (the rounded 16-bit sample, offset to index 0).
static ENCODE: [u8; 1 << 13] = encode_table();
/// The linear value of each code.
static DECODE: [i16; 256] = decode_table();

/// Encodes one 16-bit linear sample, rounded to A-law's 13 bits first.
pub fn encode_sample(sample: i16) -> u8 {
    // Rounded to the nearest step, not truncated: half the quantisation error of a shift.
    let value = ((i32::from(sample) + 4) >> 3).min(4095);
    let index = (value + 0x1000) as usize;
    // Every rounded and clipped sample plus the offset lies inside the table: the fallback is
    // never taken.
    ENCODE.get(index).copied().unwrap_or(0xD5)
}

/// Decodes one A-law code to a 16-bit linear sample.
pub fn decode_sample(code: u8) -> i16 {
    // A u8 always indexes a 256-entry table.
    DECODE.get(usize::from(code)).copied().unwrap_or(0)
}

const fn encode_value(value: i32) -> u8 {
    // Negative values use the one's complement, so -1 and 0 share the smallest step.
    let (magnitude, mask) = if value >= 0 {
        (value, 0xD5)
    } else {
        (-value - 1, 0x55)
    };

    let seg = segment(magnitude, &SEGMENT_ENDS);
    let code = if seg >= 8 {
        0x7F
    } else {
        let shift = if seg < 2 { 1 } else { seg };
        (seg << 4) as i32 | ((magnitude >> shift) & 0xF)
    };
    (code ^ mask) as u8
}

#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build, not the daemon"
)]
const fn encode_table() -> [u8; 1 << 13] {
    let mut table = [0u8; 1 << 13];
    let mut index = 0;
    while index < table.len() {
        let value = index as i32 - 0x1000;
        table[index] = encode_value(value);
        index += 1;
    }
    table
}

const fn decode_value(code: u8) -> i16 {
    let code = code ^ 0x55;
    let mantissa = ((code & 0x0F) as i32) << 4;
    let seg = ((code & 0x70) >> 4) as i32;
    let magnitude = match seg {
        0 => mantissa + 8,
        1 => mantissa + 0x108,
        _ => (mantissa + 0x108) << (seg - 1),
    };
    if code & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
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
