//! Named arrays in a bundle's tensor file. Each model lists the arrays it keeps
//! ([`Stored::arrays`]) and rebuilds itself from them and its scalars ([`Stored::restore`],
//! checking their shapes), so the bundle only assembles the models.

use safetensors::{Dtype, SafeTensors};

/// Why a model cannot be rebuilt from its arrays.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArrayError {
    /// The array is missing or unreadable.
    #[error("array {name}: {reason}")]
    Unreadable {
        /// The array.
        name: String,
        /// What the tensor file said.
        reason: String,
    },
    /// The array holds values of another type.
    #[error("array {name} is {found:?}, expected {expected:?}")]
    Dtype {
        /// The array.
        name: String,
        /// The type it holds.
        found: Dtype,
        /// The type the model reads.
        expected: Dtype,
    },
    /// The array does not have one value (or row) per anime.
    #[error("array {0} does not have one value per anime")]
    NotPerAnime(String),
    /// The arrays do not fit together or with the model's parameters; says which.
    #[error("{0}")]
    Inconsistent(String),
}

/// One array to store.
pub struct Array {
    /// Its name in the tensor file (`model.part`).
    pub name: String,
    /// Element type.
    pub dtype: Dtype,
    /// Shape.
    pub shape: Vec<usize>,
    /// Little-endian bytes.
    pub bytes: Vec<u8>,
}

/// An array of plain values of `shape` named `name`.
pub fn array<T: bytemuck::Pod>(name: &str, dtype: Dtype, shape: Vec<usize>, data: &[T]) -> Array {
    Array {
        name: name.to_owned(),
        dtype,
        shape,
        bytes: bytemuck::cast_slice(data).to_vec(),
    }
}

/// A one-dimensional array.
pub fn vector<T: bytemuck::Pod>(name: &str, dtype: Dtype, data: &[T]) -> Array {
    array(name, dtype, vec![data.len()], data)
}

/// The arrays of a tensor file, read by name and element type.
pub struct Arrays<'a> {
    st: &'a SafeTensors<'a>,
}

impl<'a> Arrays<'a> {
    /// Reads `st`.
    pub fn new(st: &'a SafeTensors<'a>) -> Arrays<'a> {
        Arrays { st }
    }

    /// The array `name`, which must hold `dtype` values.
    pub fn get<T: bytemuck::Pod>(&self, name: &str, dtype: Dtype) -> Result<Vec<T>, ArrayError> {
        let view = self.st.tensor(name).map_err(|e| ArrayError::Unreadable {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        if view.dtype() != dtype {
            return Err(ArrayError::Dtype {
                name: name.to_owned(),
                found: view.dtype(),
                expected: dtype,
            });
        }
        Ok(bytemuck::pod_collect_to_vec(view.data()))
    }

    /// Whether the file holds `name`.
    pub fn has(&self, name: &str) -> bool {
        self.st.tensor(name).is_ok()
    }
}

/// A model that keeps its arrays in the bundle.
pub trait Stored: Sized {
    /// What it is rebuilt with besides its arrays: its parameters and scalars (from the
    /// manifest) and the number of anime.
    type With;

    /// Its arrays, named as stored.
    fn arrays(&self) -> Vec<Array>;

    /// It again, from its arrays; the error says which array is inconsistent.
    fn restore(arrays: &Arrays, with: Self::With) -> Result<Self, ArrayError>;
}

/// Checks that `values` (the array `name`) has one value per anime.
pub fn per_anime<T>(values: &[T], name: &str, n_anime: usize) -> Result<(), ArrayError> {
    if values.len() == n_anime {
        Ok(())
    } else {
        Err(ArrayError::NotPerAnime(name.to_owned()))
    }
}
