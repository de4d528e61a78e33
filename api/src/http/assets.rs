//! Files compiled into the binary (GraphiQL, the staff console), served under a path that
//! holds a digest of their content, so browsers cache them for good and never keep an old one.
use std::sync::OnceLock;

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// (name, content type, bytes)
pub type File = (&'static str, &'static str, &'static [u8]);

pub struct Bundle {
    /// Where its files are served: `{prefix}/{version}/{name}`.
    prefix: &'static str,
    files: &'static [File],
    version: OnceLock<String>,
}

impl Bundle {
    pub const fn new(prefix: &'static str, files: &'static [File]) -> Self {
        Self {
            prefix,
            files,
            version: OnceLock::new(),
        }
    }

    fn version(&self) -> &str {
        self.version.get_or_init(|| {
            let mut hasher = Sha256::new();
            for (name, _, bytes) in self.files {
                hasher.update(name.as_bytes());
                hasher.update(bytes);
            }
            hex::encode(&hasher.finalize()[..6])
        })
    }

    /// The path a page links `name` by.
    pub fn path(&self, name: &str) -> String {
        format!("{}/{}/{name}", self.prefix, self.version())
    }

    /// The file at `{version}/{name}`, cached for a year; 404 for any other version.
    pub fn serve(&self, version: &str, name: &str) -> Response {
        match self.files.iter().find(|(file, ..)| *file == name) {
            Some((_, content_type, bytes)) if version == self.version() => (
                [
                    (header::CONTENT_TYPE, *content_type),
                    (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                ],
                *bytes,
            )
                .into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }
}
