//! Reader of CTranslate2's `model.bin`: named tensors with their shapes and types.
//!
//! It reads only what the file says and checks every length against the bytes there are, so a
//! truncated or foreign file is an error, never a panic. It never interprets the model.

use std::collections::BTreeMap;
use std::ops::Range;

use half::{bf16, f16};

use super::ConvertError;

/// The element type of a stored variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 8-bit integer.
    I8,
    /// 16-bit integer.
    I16,
    /// 32-bit integer.
    I32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    Bf16,
}

impl DType {
    fn from_code(code: u8) -> Option<DType> {
        Some(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::Bf16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::Bf16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// One stored variable: its shape, type and where its bytes are.
#[derive(Debug, Clone)]
pub struct Variable {
    /// The shape, outermost first (row-major).
    pub dims: Vec<usize>,
    /// The element type.
    pub dtype: DType,
    data: Range<usize>,
}

/// A parsed `model.bin`.
#[derive(Debug)]
pub struct Ct2Model {
    /// The model specification, e.g. `WhisperSpec`.
    pub spec: String,
    bytes: Vec<u8>,
    variables: BTreeMap<String, Variable>,
    aliases: BTreeMap<String, String>,
}

impl Ct2Model {
    /// Parses the contents of a `model.bin`.
    pub fn parse(bytes: Vec<u8>) -> Result<Ct2Model, ConvertError> {
        let mut cursor = Cursor {
            bytes: &bytes,
            pos: 0,
        };
        let version = cursor.u32()?;
        if !(5..=6).contains(&version) {
            return Err(ConvertError::Ct2Format(format!(
                "format version {version} (this reader knows versions 5 and 6)"
            )));
        }
        let spec = cursor.string()?;
        let _revision = cursor.u32()?;

        let mut variables = BTreeMap::new();
        for _ in 0..cursor.u32()? {
            let (name, variable) = cursor.variable()?;
            variables.insert(name, variable);
        }
        let mut aliases = BTreeMap::new();
        for _ in 0..cursor.u32()? {
            let alias = cursor.string()?;
            aliases.insert(alias, cursor.string()?);
        }
        if cursor.pos != bytes.len() {
            return Err(ConvertError::Ct2Format(
                "bytes left after the last alias".to_owned(),
            ));
        }
        Ok(Ct2Model {
            spec,
            bytes,
            variables,
            aliases,
        })
    }

    /// The variable called `name`, following an alias if it is one.
    pub fn variable(&self, name: &str) -> Result<&Variable, ConvertError> {
        let target = self.aliases.get(name).map_or(name, String::as_str);
        self.variables
            .get(target)
            .ok_or_else(|| ConvertError::MissingVariable(name.to_owned()))
    }

    /// Whether a variable (or alias) called `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.variable(name).is_ok()
    }

    /// The values of a floating-point variable as f32, row-major.
    pub fn floats(&self, name: &str) -> Result<Vec<f32>, ConvertError> {
        let variable = self.variable(name)?;
        let bytes = self.bytes.get(variable.data.clone()).unwrap_or_default();
        let pairs = bytes.chunks_exact(2).map(array::<2>);
        Ok(match variable.dtype {
            DType::F32 => bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(array(c)))
                .collect(),
            DType::F16 => pairs.map(|p| f16::from_le_bytes(p).to_f32()).collect(),
            DType::Bf16 => pairs.map(|p| bf16::from_le_bytes(p).to_f32()).collect(),
            other => {
                return Err(ConvertError::Ct2Format(format!(
                    "`{name}` holds {other:?} values where floats were expected \
                     (an int8-quantized model cannot be imported; use a float16 or float32 one)"
                )));
            }
        })
    }

    /// The value of an integer scalar such as `encoder/num_heads`.
    pub fn integer(&self, name: &str) -> Result<i64, ConvertError> {
        let variable = self.variable(name)?;
        let bytes = self.bytes.get(variable.data.clone()).unwrap_or_default();
        let value = match (variable.dtype, bytes) {
            (DType::I8, [a]) => i64::from(i8::from_le_bytes([*a])),
            (DType::I16, [a, b]) => i64::from(i16::from_le_bytes([*a, *b])),
            (DType::I32, [a, b, c, d]) => i64::from(i32::from_le_bytes([*a, *b, *c, *d])),
            _ => {
                return Err(ConvertError::Ct2Format(format!(
                    "`{name}` is not an integer scalar"
                )));
            }
        };
        Ok(value)
    }
}

/// The first `N` bytes of `slice` as an array; callers pass slices of exactly `N` bytes.
pub(crate) fn array<const N: usize>(slice: &[u8]) -> [u8; N] {
    slice
        .get(..N)
        .and_then(|s| s.try_into().ok())
        .unwrap_or([0; N])
}

/// A bounds-checked little-endian reader over the file's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ConvertError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        let slice = end.and_then(|end| self.bytes.get(self.pos..end));
        let slice = slice.ok_or_else(|| {
            ConvertError::Ct2Format(format!("file ends early at byte {}", self.pos))
        })?;
        self.pos += n;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, ConvertError> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }

    fn u16(&mut self) -> Result<u16, ConvertError> {
        Ok(u16::from_le_bytes(array(self.take(2)?)))
    }

    fn u32(&mut self) -> Result<u32, ConvertError> {
        Ok(u32::from_le_bytes(array(self.take(4)?)))
    }

    /// A string stored as a u16 length that counts a trailing NUL, then the bytes.
    fn string(&mut self) -> Result<String, ConvertError> {
        let len = usize::from(self.u16()?);
        let raw = self.take(len)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(raw.to_vec())
            .map_err(|_| ConvertError::Ct2Format("a name is not UTF-8".to_owned()))
    }

    fn variable(&mut self) -> Result<(String, Variable), ConvertError> {
        let name = self.string()?;
        let rank = self.u8()?;
        let dims = (0..rank)
            .map(|_| self.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let code = self.u8()?;
        let dtype = DType::from_code(code).ok_or_else(|| {
            ConvertError::Ct2Format(format!("`{name}` has unknown type code {code}"))
        })?;
        let byte_count = self.u32()? as usize;

        let elements: usize = dims.iter().product();
        if elements.checked_mul(dtype.size()) != Some(byte_count) {
            return Err(ConvertError::Ct2Format(format!(
                "`{name}` declares shape {dims:?} of {dtype:?} but {byte_count} bytes"
            )));
        }
        let start = self.pos;
        self.take(byte_count)?;
        let data = start..self.pos;
        Ok((name, Variable { dims, dtype, data }))
    }
}
