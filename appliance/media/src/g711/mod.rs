//! G.711 companding: the 8-bit mu-law (North America, Japan) and A-law (everywhere else) codes
//! that telephone trunks and Twilio Media Streams carry, to and from 16-bit linear PCM.
//!
//! Both laws follow the ITU G.711 segment tables. A 16-bit sample is first rounded to the
//! nearest 14-bit (mu-law) or 13-bit (A-law) value, then encoded exactly as sox does, so a stream
//! we encode is byte-identical to sox's and decodes identically everywhere. Encoding and decoding
//! are table lookups built at compile time, so they cannot fail and never allocate beyond the
//! output they are asked for. This module must never grow anything stateful: G.711 is
//! memoryless, sample by sample.

pub mod alaw;
pub mod ulaw;

/// The G.711 law of a stream, as negotiated in SDP (`PCMU`, `PCMA`) or named by a media stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// mu-law, RTP payload type 0 (`PCMU`).
    MuLaw,
    /// A-law, RTP payload type 8 (`PCMA`).
    ALaw,
}

impl Law {
    /// Encodes one 16-bit linear sample.
    pub fn encode_sample(self, sample: i16) -> u8 {
        match self {
            Law::MuLaw => ulaw::encode_sample(sample),
            Law::ALaw => alaw::encode_sample(sample),
        }
    }

    /// Decodes one code to a 16-bit linear sample.
    pub fn decode_sample(self, code: u8) -> i16 {
        match self {
            Law::MuLaw => ulaw::decode_sample(code),
            Law::ALaw => alaw::decode_sample(code),
        }
    }

    /// Encodes `samples`, appending one code per sample to `out`.
    pub fn encode(self, samples: &[i16], out: &mut Vec<u8>) {
        out.extend(samples.iter().map(|&s| self.encode_sample(s)));
    }

    /// Decodes `codes`, appending one 16-bit sample per code to `out`.
    pub fn decode(self, codes: &[u8], out: &mut Vec<i16>) {
        out.extend(codes.iter().map(|&c| self.decode_sample(c)));
    }
}

/// The segment whose upper end is at or above `magnitude`, or 8 when it is above all of them.
#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of range fails the build, not the daemon"
)]
const fn segment(magnitude: i32, ends: &[i32; 8]) -> usize {
    let mut seg = 0;
    while seg < 8 && magnitude > ends[seg] {
        seg += 1;
    }
    seg
}
