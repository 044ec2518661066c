//! What whisper.cpp expects in a ggml model file: the header fields, the element types, and
//! every tensor's name and shape as its loader creates them.
//!
//! The converter writes exactly this list and the start-up check compares a file against it,
//! so the two can never disagree about the format. Nothing here touches a file.

/// The file's first four bytes, `ggml` as a little-endian u32.
pub const MAGIC: u32 = 0x6767_6d6c;

/// Version factor by which whisper.cpp folds the quantization version into `ftype`.
pub const QNT_VERSION_FACTOR: i32 = 1000;

/// The quantization version this whisper.cpp writes and reads.
pub const QNT_VERSION: i32 = 2;

/// The eleven hyper-parameters after the magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    /// Tokens in the vocabulary, special tokens included.
    pub n_vocab: usize,
    /// Encoder positions (1500 for 30 s).
    pub n_audio_ctx: usize,
    /// Encoder width.
    pub n_audio_state: usize,
    /// Encoder attention heads.
    pub n_audio_head: usize,
    /// Encoder blocks.
    pub n_audio_layer: usize,
    /// Decoder positions.
    pub n_text_ctx: usize,
    /// Decoder width.
    pub n_text_state: usize,
    /// Decoder attention heads.
    pub n_text_head: usize,
    /// Decoder blocks.
    pub n_text_layer: usize,
    /// Mel bands of the input features.
    pub n_mels: usize,
    /// The weight type of the big matrices, with the quantization version folded in.
    pub ftype: i32,
}

impl Hparams {
    /// The header fields in file order.
    pub fn fields(&self) -> [i64; 11] {
        let f = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        [
            f(self.n_vocab),
            f(self.n_audio_ctx),
            f(self.n_audio_state),
            f(self.n_audio_head),
            f(self.n_audio_layer),
            f(self.n_text_ctx),
            f(self.n_text_state),
            f(self.n_text_head),
            f(self.n_text_layer),
            f(self.n_mels),
            i64::from(self.ftype),
        ]
    }

    /// The element type of the big matrices, or `None` for an `ftype` whisper.cpp rejects.
    pub fn weight_type(&self) -> Option<GgmlType> {
        Some(match self.ftype % QNT_VERSION_FACTOR {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            7 => GgmlType::Q8_0,
            8 => GgmlType::Q5_0,
            9 => GgmlType::Q5_1,
            _ => return None,
        })
    }
}

/// ggml element types a whisper model file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// IEEE half precision.
    F16,
    /// 4-bit blocks with a scale.
    Q4_0,
    /// 4-bit blocks with a scale and a minimum.
    Q4_1,
    /// 5-bit blocks with a scale.
    Q5_0,
    /// 5-bit blocks with a scale and a minimum.
    Q5_1,
    /// 8-bit blocks of 32 with an f16 scale.
    Q8_0,
}

impl GgmlType {
    /// The type's id in the file.
    pub fn id(self) -> i32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q5_0 => 6,
            GgmlType::Q5_1 => 7,
            GgmlType::Q8_0 => 8,
        }
    }

    /// The type with file id `id`.
    pub fn from_id(id: i32) -> Option<GgmlType> {
        [
            GgmlType::F32,
            GgmlType::F16,
            GgmlType::Q4_0,
            GgmlType::Q4_1,
            GgmlType::Q5_0,
            GgmlType::Q5_1,
            GgmlType::Q8_0,
        ]
        .into_iter()
        .find(|t| t.id() == id)
    }

    /// (bytes per block, elements per block).
    pub fn block(self) -> (usize, usize) {
        match self {
            GgmlType::F32 => (4, 1),
            GgmlType::F16 => (2, 1),
            GgmlType::Q4_0 => (18, 32),
            GgmlType::Q4_1 => (20, 32),
            GgmlType::Q5_0 => (22, 32),
            GgmlType::Q5_1 => (24, 32),
            GgmlType::Q8_0 => (34, 32),
        }
    }

    /// Bytes a row-major tensor of `elements` values takes, if they fill whole blocks.
    pub fn bytes_for(self, elements: usize) -> Option<usize> {
        let (bytes, per_block) = self.block();
        elements
            .is_multiple_of(per_block)
            .then(|| elements / per_block * bytes)
    }
}

/// How a tensor is stored: whisper.cpp fixes the element type by role, not by the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A large matrix, stored in the file's weight type.
    Matrix,
    /// A convolution kernel: f16 unless the whole file is f32.
    Conv,
    /// Biases, norms, positional embeddings: always f32.
    Float,
}

/// One tensor the loader expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Its name, e.g. `encoder.blocks.0.attn.query.weight`.
    pub name: String,
    /// Its shape in ggml order: the innermost (contiguous) dimension first.
    pub ne: Vec<usize>,
    /// How it is stored.
    pub role: Role,
}

impl TensorSpec {
    /// The element type this tensor has in a file whose matrices are `weight`.
    pub fn ggml_type(&self, weight: GgmlType) -> GgmlType {
        match (self.role, weight) {
            (Role::Matrix, w) => w,
            (Role::Conv, GgmlType::F32) => GgmlType::F32,
            (Role::Conv, _) => GgmlType::F16,
            (Role::Float, _) => GgmlType::F32,
        }
    }

    /// The number of values.
    pub fn elements(&self) -> usize {
        self.ne.iter().product()
    }
}

fn spec(name: String, ne: &[usize], role: Role) -> TensorSpec {
    TensorSpec {
        name,
        ne: ne.to_vec(),
        role,
    }
}

/// The tensors of one attention block (`attn` or `cross_attn`) with its layer norm.
fn attention(prefix: &str, kind: &str, ln: &str, s: usize, out: &mut Vec<TensorSpec>) {
    out.push(spec(format!("{prefix}.{ln}.weight"), &[s], Role::Float));
    out.push(spec(format!("{prefix}.{ln}.bias"), &[s], Role::Float));
    for part in ["query", "key", "value", "out"] {
        out.push(spec(
            format!("{prefix}.{kind}.{part}.weight"),
            &[s, s],
            Role::Matrix,
        ));
        // whisper has no key bias: a bias on keys only shifts every score of a query alike.
        if part != "key" {
            out.push(spec(
                format!("{prefix}.{kind}.{part}.bias"),
                &[s],
                Role::Float,
            ));
        }
    }
}

/// The MLP of one block with its layer norm.
fn mlp(prefix: &str, s: usize, out: &mut Vec<TensorSpec>) {
    out.push(spec(format!("{prefix}.mlp_ln.weight"), &[s], Role::Float));
    out.push(spec(format!("{prefix}.mlp_ln.bias"), &[s], Role::Float));
    out.push(spec(
        format!("{prefix}.mlp.0.weight"),
        &[s, 4 * s],
        Role::Matrix,
    ));
    out.push(spec(format!("{prefix}.mlp.0.bias"), &[4 * s], Role::Float));
    out.push(spec(
        format!("{prefix}.mlp.2.weight"),
        &[4 * s, s],
        Role::Matrix,
    ));
    out.push(spec(format!("{prefix}.mlp.2.bias"), &[s], Role::Float));
}

/// Every tensor whisper.cpp's loader creates for a model with these hyper-parameters.
pub fn tensors(h: &Hparams) -> Vec<TensorSpec> {
    let (a, t) = (h.n_audio_state, h.n_text_state);
    let mut out = vec![
        spec(
            "encoder.positional_embedding".into(),
            &[a, h.n_audio_ctx],
            Role::Float,
        ),
        spec("encoder.conv1.weight".into(), &[3, h.n_mels, a], Role::Conv),
        spec("encoder.conv1.bias".into(), &[1, a], Role::Float),
        spec("encoder.conv2.weight".into(), &[3, a, a], Role::Conv),
        spec("encoder.conv2.bias".into(), &[1, a], Role::Float),
        spec("encoder.ln_post.weight".into(), &[a], Role::Float),
        spec("encoder.ln_post.bias".into(), &[a], Role::Float),
    ];
    for i in 0..h.n_audio_layer {
        let prefix = format!("encoder.blocks.{i}");
        mlp(&prefix, a, &mut out);
        attention(&prefix, "attn", "attn_ln", a, &mut out);
    }

    out.push(spec(
        "decoder.positional_embedding".into(),
        &[t, h.n_text_ctx],
        Role::Float,
    ));
    out.push(spec(
        "decoder.token_embedding.weight".into(),
        &[t, h.n_vocab],
        Role::Matrix,
    ));
    out.push(spec("decoder.ln.weight".into(), &[t], Role::Float));
    out.push(spec("decoder.ln.bias".into(), &[t], Role::Float));
    for i in 0..h.n_text_layer {
        let prefix = format!("decoder.blocks.{i}");
        mlp(&prefix, t, &mut out);
        attention(&prefix, "attn", "attn_ln", t, &mut out);
        attention(&prefix, "cross_attn", "cross_attn_ln", t, &mut out);
    }
    out
}
