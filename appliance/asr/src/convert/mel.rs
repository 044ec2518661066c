//! Whisper's mel filter bank: triangular filters on the Slaney mel scale with Slaney area
//! normalisation, the bank librosa builds for a 400-point FFT at 16 kHz. whisper.cpp reads it
//! from the model file, and CTranslate2 models do not carry it, so it is computed here.

/// Sample rate Whisper listens at.
const SAMPLE_RATE: f64 = 16_000.0;
/// FFT length of Whisper's 25 ms window.
pub const N_FFT: usize = 400;

/// Slaney's scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
const LINEAR_STEP_HZ: f64 = 200.0 / 3.0;
const LOG_START_HZ: f64 = 1000.0;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    let log_start_mel = LOG_START_HZ / LINEAR_STEP_HZ;
    if hz >= LOG_START_HZ {
        log_start_mel + (hz / LOG_START_HZ).ln() / log_step()
    } else {
        hz / LINEAR_STEP_HZ
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    let log_start_mel = LOG_START_HZ / LINEAR_STEP_HZ;
    if mel >= log_start_mel {
        LOG_START_HZ * (log_step() * (mel - log_start_mel)).exp()
    } else {
        mel * LINEAR_STEP_HZ
    }
}

/// The filter bank, `n_mels` rows of `N_FFT / 2 + 1` weights, row-major.
pub fn filters(n_mels: usize) -> Vec<f32> {
    let bins = N_FFT / 2 + 1;
    let nyquist = SAMPLE_RATE / 2.0;
    let top = hz_to_mel(nyquist);
    // n_mels + 2 edges, evenly spaced in mels from 0 Hz to Nyquist.
    let edges: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(top * i as f64 / (n_mels + 1) as f64))
        .collect();

    let mut out = Vec::with_capacity(n_mels * bins);
    for window in edges.windows(3) {
        let &[low, centre, high] = window else {
            continue;
        };
        // Slaney normalisation: every filter has the same area.
        let norm = 2.0 / (high - low);
        for bin in 0..bins {
            let hz = bin as f64 * nyquist / (bins - 1) as f64;
            let rising = (hz - low) / (centre - low);
            let falling = (high - hz) / (high - centre);
            out.push((rising.min(falling).max(0.0) * norm) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn matches_the_reference_bank() {
        let bank = filters(80);
        assert_eq!(bank.len(), 80 * 201);
        // Values of the bank Whisper ships (librosa, n_fft 400, 80 mels, 16 kHz).
        for (row, bin, want) in REFERENCE {
            let got = bank[row * 201 + bin];
            assert!(
                (got - want).abs() < 1e-6,
                "filter {row} bin {bin}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn every_filter_is_a_single_triangle() {
        for row in filters(80).chunks(201) {
            let nonzero: Vec<usize> = (0..201).filter(|&i| row[i] > 0.0).collect();
            assert!(!nonzero.is_empty());
            let (first, last) = (nonzero[0], nonzero[nonzero.len() - 1]);
            assert_eq!(nonzero.len(), last - first + 1, "gaps in a filter");
        }
    }

    const REFERENCE: [(usize, usize, f32); 8] = [
        (0, 1, 0.024_862_595),
        (0, 2, 0.0),
        (1, 2, 0.022_871_772),
        (10, 11, 0.004_954_375),
        (30, 30, 0.008_962_771),
        (40, 43, 0.014_735_566),
        (60, 93, 0.006_591_093),
        (79, 193, 0.003_141_313),
    ];
}
