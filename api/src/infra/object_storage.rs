//! Where uploaded photos and generated 小程序码 live: an S3-compatible bucket in production
//! (Tencent COS, Aliyun OSS, MinIO, …), files under the data directory on the embedded
//! default. Apps never see credentials: they get short-lived signed links, which S3 checks
//! itself and which this server checks for local files (`serve_local`).
use std::{path::Path as FsPath, sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::{Path as UrlPath, Query, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use hmac::{Hmac, Mac};
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload,
    aws::{AmazonS3, AmazonS3Builder},
    local::LocalFileSystem,
    path::Path,
    signer::{SignedUrlOptions, Signer},
};
use serde::Deserialize;
use sha2::Sha256;

use crate::{
    config::Settings,
    error::{AppError, AppResult},
};

/// The largest object the local upload route accepts (photos are checked at 10 MB).
pub const MAX_LOCAL_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

#[derive(Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    links: Links,
}

#[derive(Clone)]
enum Links {
    /// S3 signs its own links (SigV4 query signatures).
    S3(Arc<AmazonS3>),
    /// This server's `/files/…` route, signed with a key only the servers know.
    Local { base_url: String, key: Arc<[u8]> },
}

/// A link that lets its holder do one thing to one object until it expires.
pub struct SignedLink {
    pub url: String,
    /// Headers the request must carry exactly as given (they are part of the signature).
    pub headers: Vec<(String, String)>,
}

impl ObjectStorage {
    /// The bucket when `STORAGE_S3_BUCKET` is set, else files under `HONGFAN_DATA_DIR`.
    /// `public_url` is where this server is reached; `key` signs local links.
    pub fn from_settings(
        settings: &Settings,
        public_url: &str,
        key: &[u8],
    ) -> anyhow::Result<Self> {
        match &settings.storage_s3_bucket {
            Some(bucket) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(&settings.storage_s3_region)
                    .with_virtual_hosted_style_request(settings.storage_s3_virtual_hosted);
                if let Some(endpoint) = &settings.storage_s3_endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (
                    &settings.storage_s3_access_key_id,
                    &settings.storage_s3_secret_access_key,
                ) {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret.expose());
                }
                let s3 = Arc::new(builder.build()?);
                Ok(Self {
                    store: s3.clone(),
                    links: Links::S3(s3),
                })
            }
            None => Self::local(
                &FsPath::new(&settings.hongfan_data_dir).join("files"),
                public_url,
                key,
            ),
        }
    }

    pub fn local(dir: &FsPath, public_url: &str, key: &[u8]) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            store: Arc::new(LocalFileSystem::new_with_prefix(dir)?),
            links: Links::Local {
                base_url: public_url.trim_end_matches('/').to_owned(),
                key: key.into(),
            },
        })
    }

    /// Local files are served by this server's `/files/…` route.
    pub fn is_local(&self) -> bool {
        matches!(self.links, Links::Local { .. })
    }

    /// A link to PUT the object with exactly `content_type`.
    pub async fn upload_link(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
    ) -> AppResult<SignedLink> {
        let headers = vec![("Content-Type".to_owned(), content_type.to_owned())];
        let url = match &self.links {
            Links::S3(s3) => {
                let value = HeaderValue::from_str(content_type)
                    .map_err(|_| AppError::bad_input("contentType is not a valid header value"))?;
                let options =
                    SignedUrlOptions::default().with_signed_header(header::CONTENT_TYPE, value);
                s3.signed_url_opts(Method::PUT, &Path::from(key), ttl, &options)
                    .await
                    .map_err(unavailable)?
                    .to_string()
            }
            Links::Local {
                base_url,
                key: secret,
            } => local_link(base_url, secret, &Method::PUT, key, ttl),
        };
        Ok(SignedLink { url, headers })
    }

    /// A link to GET the object.
    pub async fn read_link(&self, key: &str, ttl: Duration) -> AppResult<String> {
        match &self.links {
            Links::S3(s3) => Ok(s3
                .signed_url(Method::GET, &Path::from(key), ttl)
                .await
                .map_err(unavailable)?
                .to_string()),
            Links::Local {
                base_url,
                key: secret,
            } => Ok(local_link(base_url, secret, &Method::GET, key, ttl)),
        }
    }

    /// The object's size, or `None` when nothing was stored under `key`.
    pub async fn size(&self, key: &str) -> AppResult<Option<u64>> {
        match self.store.head(&Path::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Up to `n` first bytes of an object at least `n` long.
    pub async fn first_bytes(&self, key: &str, n: u64) -> AppResult<Bytes> {
        self.store
            .get_range(&Path::from(key), 0..n)
            .await
            .map_err(unavailable)
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> AppResult<()> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Checks a local link's signature and expiry; S3 links are checked by S3.
    fn verify_local(&self, method: &Method, key: &str, link: &LinkQuery) -> bool {
        let Links::Local { key: secret, .. } = &self.links else {
            return false;
        };
        if link.expires <= Utc::now().timestamp() {
            return false;
        }
        let Ok(signature) = URL_SAFE_NO_PAD.decode(&link.signature) else {
            return false;
        };
        mac(secret, method, key, link.expires)
            .verify_slice(&signature)
            .is_ok()
    }
}

fn unavailable(error: object_store::Error) -> AppError {
    tracing::error!(%error, "object storage failed");
    AppError::Unavailable("file storage is unavailable; try again shortly".into())
}

fn mac(secret: &[u8], method: &Method, key: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("files\n{method}\n{key}\n{expires}").as_bytes());
    mac
}

fn local_link(base_url: &str, secret: &[u8], method: &Method, key: &str, ttl: Duration) -> String {
    let expires = Utc::now().timestamp() + ttl.as_secs() as i64;
    let signature =
        URL_SAFE_NO_PAD.encode(mac(secret, method, key, expires).finalize().into_bytes());
    format!("{base_url}/files/{key}?expires={expires}&signature={signature}")
}

#[derive(Deserialize)]
pub struct LinkQuery {
    expires: i64,
    signature: String,
}

/// `GET` and `PUT /files/{key}` for local storage: only with a valid, unexpired link.
pub async fn serve_local(
    State(storage): State<ObjectStorage>,
    method: Method,
    UrlPath(key): UrlPath<String>,
    Query(link): Query<LinkQuery>,
    body: Bytes,
) -> Response {
    if !storage.verify_local(&method, &key, &link) {
        return (StatusCode::FORBIDDEN, "this link is invalid or has expired").into_response();
    }
    let answer = if method == Method::PUT {
        storage
            .put(&key, body.to_vec())
            .await
            .map(|()| StatusCode::OK.into_response())
    } else {
        read_local(&storage, &key).await
    };
    answer.unwrap_or_else(|_| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

async fn read_local(storage: &ObjectStorage, key: &str) -> AppResult<Response> {
    match storage.store.get(&Path::from(key)).await {
        Ok(found) => {
            let bytes = found.bytes().await.map_err(unavailable)?;
            let content_type = match key.rsplit('.').next() {
                Some("png") => "image/png",
                Some("webp") => "image/webp",
                _ => "image/jpeg",
            };
            Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
        }
        Err(object_store::Error::NotFound { .. }) => Ok(StatusCode::NOT_FOUND.into_response()),
        Err(error) => Err(unavailable(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_links_are_bound_to_method_key_and_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let storage = ObjectStorage::local(dir.path(), "http://h", b"secret").unwrap();
        let query =
            |link: String| -> LinkQuery { Query::try_from_uri(&link.parse().unwrap()).unwrap().0 };
        let link = query(
            storage
                .read_link("a/b.jpg", Duration::from_secs(60))
                .await
                .unwrap(),
        );
        assert!(storage.verify_local(&Method::GET, "a/b.jpg", &link));
        assert!(!storage.verify_local(&Method::PUT, "a/b.jpg", &link));
        assert!(!storage.verify_local(&Method::GET, "a/c.jpg", &link));
        let expired = query(storage.read_link("a/b.jpg", Duration::ZERO).await.unwrap());
        assert!(!storage.verify_local(&Method::GET, "a/b.jpg", &expired));
    }
}
