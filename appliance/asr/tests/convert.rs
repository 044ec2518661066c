//! The converter against a small CTranslate2 Whisper file this test writes, and against the
//! real tiny.en package: the output passes the model check and whisper.cpp loads it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::collections::HashMap;
use std::path::Path;

use diala_asr::convert::{self, ConvertError, Quant};
use diala_asr::model::{self, GgmlType, ModelError};
use half::f16;
use whisper_rs::{WhisperContext, WhisperContextParameters};

const STATE: usize = 32;
const MELS: usize = 80;
const AUDIO_CTX: usize = 16;
const TEXT_CTX: usize = 8;
const VOCAB: usize = 51_864;

/// A writer of CTranslate2's `model.bin`, independent of the reader under test.
struct Ct2Writer {
    variables: Vec<(String, Vec<usize>, u8, Vec<u8>)>,
}

impl Ct2Writer {
    fn floats(&mut self, name: &str, dims: &[usize], f: impl Fn(usize) -> f32) {
        let count: usize = dims.iter().product();
        let data = (0..count)
            .flat_map(|i| f16::from_f32(f(i)).to_le_bytes())
            .collect();
        self.variables
            .push((name.to_owned(), dims.to_vec(), 4, data));
    }

    fn int16(&mut self, name: &str, value: i16) {
        self.variables
            .push((name.to_owned(), vec![], 2, value.to_le_bytes().to_vec()));
    }

    fn bytes(&self, aliases: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        let string = |out: &mut Vec<u8>, s: &str| {
            out.extend(((s.len() + 1) as u16).to_le_bytes());
            out.extend(s.as_bytes());
            out.push(0);
        };
        out.extend(6u32.to_le_bytes());
        string(&mut out, "WhisperSpec");
        out.extend(3u32.to_le_bytes());
        out.extend((self.variables.len() as u32).to_le_bytes());
        for (name, dims, dtype, data) in &self.variables {
            string(&mut out, name);
            out.push(dims.len() as u8);
            dims.iter()
                .for_each(|d| out.extend((*d as u32).to_le_bytes()));
            out.push(*dtype);
            out.extend((data.len() as u32).to_le_bytes());
            out.extend(data);
        }
        out.extend((aliases.len() as u32).to_le_bytes());
        for (alias, target) in aliases {
            string(&mut out, alias);
            string(&mut out, target);
        }
        out
    }
}

/// A deterministic value for element `i` of variable number `salt`.
fn value(salt: usize, i: usize) -> f32 {
    (((i * 7919 + salt * 104_729) % 2001) as f32 - 1000.0) / 4000.0
}

fn small_model() -> Ct2Writer {
    let mut w = Ct2Writer {
        variables: Vec::new(),
    };
    let mut salt = 0;
    let mut add = |w: &mut Ct2Writer, name: &str, dims: &[usize]| {
        salt += 1;
        let s = salt;
        w.floats(name, dims, move |i| value(s, i));
    };
    let (s, f) = (STATE, 4 * STATE);
    add(&mut w, "encoder/conv1/weight", &[s, MELS, 3]);
    add(&mut w, "encoder/conv1/bias", &[s]);
    add(&mut w, "encoder/conv2/weight", &[s, s, 3]);
    add(&mut w, "encoder/conv2/bias", &[s]);
    add(
        &mut w,
        "encoder/position_encodings/encodings",
        &[AUDIO_CTX, s],
    );
    add(
        &mut w,
        "decoder/position_encodings/encodings",
        &[TEXT_CTX, s],
    );
    add(&mut w, "decoder/embeddings/weight", &[VOCAB, s]);
    for side in ["encoder", "decoder"] {
        add(&mut w, &format!("{side}/layer_norm/gamma"), &[s]);
        add(&mut w, &format!("{side}/layer_norm/beta"), &[s]);
        w.int16(&format!("{side}/num_heads"), 2);
        let l = format!("{side}/layer_0");
        for norm in ["self_attention", "ffn"] {
            add(&mut w, &format!("{l}/{norm}/layer_norm/gamma"), &[s]);
            add(&mut w, &format!("{l}/{norm}/layer_norm/beta"), &[s]);
        }
        for (name, rows, cols) in [
            ("self_attention/linear_0", 3 * s, s),
            ("self_attention/linear_1", s, s),
            ("ffn/linear_0", f, s),
            ("ffn/linear_1", s, f),
        ] {
            add(&mut w, &format!("{l}/{name}/weight"), &[rows, cols]);
            add(&mut w, &format!("{l}/{name}/bias"), &[rows]);
        }
    }
    let l = "decoder/layer_0/attention";
    add(&mut w, &format!("{l}/layer_norm/gamma"), &[s]);
    add(&mut w, &format!("{l}/layer_norm/beta"), &[s]);
    for (name, rows) in [("linear_0", s), ("linear_1", 2 * s), ("linear_2", s)] {
        add(&mut w, &format!("{l}/{name}/weight"), &[rows, s]);
        add(&mut w, &format!("{l}/{name}/bias"), &[rows]);
    }
    w
}

fn write_model_dir(dir: &Path, model: &[u8]) {
    std::fs::write(dir.join("model.bin"), model).unwrap();
    let mut vocabulary: Vec<String> = (b'!'..=b'~').map(|b| (b as char).to_string()).collect();
    vocabulary.extend([
        "Ġthe".to_owned(),
        "<|endoftext|>".to_owned(),
        "<|startoftranscript|>".to_owned(),
    ]);
    std::fs::write(dir.join("vocabulary.txt"), vocabulary.join("\n")).unwrap();
}

/// Every tensor of a ggml file: name -> (type id, dims, data).
fn read_ggml(path: &Path) -> HashMap<String, (i32, Vec<usize>, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let mut pos = 0;
    let i32_at = |pos: &mut usize| {
        let v = i32::from_le_bytes(bytes[*pos..*pos + 4].try_into().unwrap());
        *pos += 4;
        v
    };
    pos += 4 + 11 * 4;
    let (n_mel, n_fft) = (i32_at(&mut pos), i32_at(&mut pos));
    pos += (n_mel * n_fft * 4) as usize;
    for _ in 0..i32_at(&mut pos) {
        let len = i32_at(&mut pos) as usize;
        pos += len;
    }
    let mut tensors = HashMap::new();
    while pos < bytes.len() {
        let (n_dims, name_len, ty) = (i32_at(&mut pos), i32_at(&mut pos), i32_at(&mut pos));
        let dims: Vec<usize> = (0..n_dims).map(|_| i32_at(&mut pos) as usize).collect();
        let name = String::from_utf8(bytes[pos..pos + name_len as usize].to_vec()).unwrap();
        pos += name_len as usize;
        let count: usize = dims.iter().product();
        let size = match ty {
            0 => count * 4,
            1 => count * 2,
            8 => count / 32 * 34,
            other => panic!("type {other}"),
        };
        tensors.insert(name, (ty, dims, bytes[pos..pos + size].to_vec()));
        pos += size;
    }
    tensors
}

fn f32s(data: &[u8]) -> Vec<f32> {
    data.chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn f16s(data: &[u8]) -> Vec<f32> {
    data.chunks(2)
        .map(|c| f16::from_le_bytes(c.try_into().unwrap()).to_f32())
        .collect()
}

fn source(name: &str, model: &Ct2Writer) -> Vec<f32> {
    let (_, _, _, data) = model.variables.iter().find(|v| v.0 == name).unwrap();
    f16s(data)
}

#[test]
fn converts_a_small_model_that_whisper_cpp_loads() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model();
    write_model_dir(
        dir.path(),
        &model.bytes(&[("decoder/projection/weight", "decoder/embeddings/weight")]),
    );
    let output = dir.path().join("small-f16.bin");

    let info = convert::import(dir.path(), &output, Quant::F16).unwrap();
    assert_eq!(info.hparams.n_audio_state, STATE);
    assert_eq!(info.hparams.n_vocab, VOCAB);
    assert_eq!(
        (info.hparams.n_audio_layer, info.hparams.n_text_head),
        (1, 2)
    );
    assert_eq!(info.weight_type, GgmlType::F16);
    assert_eq!(model::check(&output).unwrap(), info);

    let tensors = read_ggml(&output);
    // The fused self-attention projection is split: key rows are the second third.
    let fused = source("encoder/layer_0/self_attention/linear_0/weight", &model);
    let (ty, dims, data) = &tensors["encoder.blocks.0.attn.key.weight"];
    assert_eq!((*ty, dims.as_slice()), (1, [STATE, STATE].as_slice()));
    assert_eq!(f16s(data), fused[STATE * STATE..2 * STATE * STATE]);
    assert!(!tensors.contains_key("encoder.blocks.0.attn.key.bias"));
    // Cross-attention value bias is the second half of the fused k;v bias, kept as f32.
    let kv_bias = source("decoder/layer_0/attention/linear_1/bias", &model);
    let (ty, _, data) = &tensors["decoder.blocks.0.cross_attn.value.bias"];
    assert_eq!((*ty, f32s(data)), (0, kv_bias[STATE..].to_vec()));
    // Conv biases become (n, 1), positional embeddings stay f32 with dims reversed.
    assert_eq!(tensors["encoder.conv1.bias"].1, [1, STATE]);
    let (ty, dims, _) = &tensors["encoder.positional_embedding"];
    assert_eq!((*ty, dims.as_slice()), (0, [STATE, AUDIO_CTX].as_slice()));
    assert_eq!(tensors["encoder.conv2.weight"].1, [3, STATE, STATE]);

    let context = WhisperContext::new_with_params(&output, WhisperContextParameters::default());
    assert!(context.is_ok(), "whisper.cpp refused the converted model");
}

#[test]
fn quantizes_matrices_to_q8_0_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let model = small_model();
    write_model_dir(dir.path(), &model.bytes(&[]));
    let output = dir.path().join("small-q8.bin");

    let info = convert::import(dir.path(), &output, Quant::Q8_0).unwrap();
    assert_eq!(info.weight_type, GgmlType::Q8_0);

    let tensors = read_ggml(&output);
    let (ty, _, data) = &tensors["decoder.blocks.0.mlp.0.weight"];
    assert_eq!(*ty, 8);
    let original = source("decoder/layer_0/ffn/linear_0/weight", &model);
    let restored: Vec<f32> = data
        .chunks(34)
        .flat_map(|b| {
            let scale = f16::from_le_bytes([b[0], b[1]]).to_f32();
            b[2..].iter().map(move |&q| f32::from(q as i8) * scale)
        })
        .collect();
    let worst = original
        .iter()
        .zip(&restored)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(worst < 0.25 / 127.0, "q8_0 error {worst}");
    assert_eq!(
        tensors["encoder.conv1.weight"].0, 1,
        "convolutions stay f16"
    );
    assert_eq!(tensors["decoder.ln.weight"].0, 0, "norms stay f32");

    assert!(WhisperContext::new_with_params(&output, WhisperContextParameters::default()).is_ok());
}

#[test]
fn refuses_damaged_input_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.bin");
    let bytes = small_model().bytes(&[]);

    write_model_dir(dir.path(), &bytes[..bytes.len() / 2]);
    let error = convert::import(dir.path(), &output, Quant::Q8_0).unwrap_err();
    assert!(matches!(error, ConvertError::Ct2Format(_)), "{error}");
    assert!(error.to_string().contains("ends early"), "{error}");

    let mut model = small_model();
    model.variables.retain(|v| v.0 != "encoder/conv2/bias");
    write_model_dir(dir.path(), &model.bytes(&[]));
    let error = convert::import(dir.path(), &output, Quant::Q8_0).unwrap_err();
    assert!(error.to_string().contains("encoder/conv2/bias"), "{error}");

    let error =
        convert::import(&dir.path().join("vocabulary.txt"), &output, Quant::F16).unwrap_err();
    assert!(matches!(error, ConvertError::NotAModel { .. }), "{error}");
    assert!(!output.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no partial file left"
    );
}

#[test]
fn a_model_split_across_packages_is_joined_in_part_order() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = small_model().bytes(&[]);
    write_model_dir(dir.path(), &bytes);
    let whole = dir.path().join("whole.ggml");
    convert::import(dir.path(), &whole, Quant::Q8_0).unwrap();

    // As PyPI's size limit makes a larger model ship: two packages, the vocabulary in the
    // first, each with one part of model.bin.
    let (first, second) = (dir.path().join("part1"), dir.path().join("part2"));
    let (head, tail) = bytes.split_at(bytes.len() / 3);
    std::fs::create_dir(&first).unwrap();
    write_model_dir(&first, head);
    std::fs::rename(first.join("model.bin"), first.join("model.bin.part1")).unwrap();
    std::fs::create_dir(&second).unwrap();
    std::fs::write(second.join("model.bin.part2"), tail).unwrap();

    let joined = dir.path().join("joined.ggml");
    convert::import_parts(&[&second, &first], &joined, Quant::Q8_0).unwrap();
    assert_eq!(
        std::fs::read(&joined).unwrap(),
        std::fs::read(&whole).unwrap()
    );

    let lonely = dir.path().join("lonely.ggml");
    let error = convert::import_parts(&[&second], &lonely, Quant::Q8_0).unwrap_err();
    assert!(
        error.to_string().contains("model.bin.part1 is missing"),
        "{error}"
    );
    let error = convert::import_parts(&[&first], &lonely, Quant::Q8_0).unwrap_err();
    assert!(matches!(error, ConvertError::Ct2Format(_)), "{error}");
    let error = convert::import_parts(&[&first, dir.path()], &lonely, Quant::Q8_0).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("both a whole model.bin and parts"),
        "{error}"
    );
    assert!(!lonely.exists());
}

#[test]
fn the_model_check_refuses_truncated_and_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    write_model_dir(dir.path(), &small_model().bytes(&[]));
    let output = dir.path().join("model.ggml");
    convert::import(dir.path(), &output, Quant::Q8_0).unwrap();
    let good = std::fs::read(&output).unwrap();

    let cut = dir.path().join("cut.ggml");
    std::fs::write(&cut, &good[..good.len() - 10]).unwrap();
    let error = model::check(&cut).unwrap_err();
    assert!(matches!(error, ModelError::Invalid { .. }), "{error}");
    assert!(error.to_string().contains("ends inside tensor"), "{error}");

    let foreign = dir.path().join("model.bin");
    let error = model::check(&foreign).unwrap_err();
    assert!(matches!(error, ModelError::NotGgml { .. }), "{error}");
    assert!(
        error.to_string().contains("diala-edge model import"),
        "{error}"
    );

    let mut bad_header = good.clone();
    bad_header[4 + 9 * 4] = 81; // n_mels
    std::fs::write(&cut, bad_header).unwrap();
    assert!(model::check(&cut).unwrap_err().to_string().contains("mel"));

    let missing = model::check(&dir.path().join("absent.bin")).unwrap_err();
    assert!(matches!(missing, ModelError::Read { .. }), "{missing}");
}

#[test]
fn imports_the_real_tiny_en_package_and_whisper_cpp_loads_it() {
    for quant in [Quant::Q8_0, Quant::F16] {
        let path = common::imported_model(quant);
        let info = model::check(&path).unwrap();
        assert_eq!(info.hparams.n_vocab, 51_864);
        assert_eq!(
            (info.hparams.n_audio_layer, info.hparams.n_audio_state),
            (4, 384)
        );
        let size_mb = info.bytes / 1_000_000;
        match quant {
            Quant::Q8_0 => assert!((40..50).contains(&size_mb), "{size_mb} MB"),
            Quant::F16 => assert!((70..80).contains(&size_mb), "{size_mb} MB"),
        }
        let context = WhisperContext::new_with_params(&path, WhisperContextParameters::default())
            .expect("whisper.cpp loads the imported tiny.en");
        assert!(!context.is_multilingual());
        context.create_state().unwrap();
    }
}
