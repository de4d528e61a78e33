//! Where uploaded photos and generated 小程序码 live: an S3-compatible bucket in production
//! (Tencent COS, Aliyun OSS, MinIO, …), files under the data directory on the embedded
//! default. Apps never see credentials: they get short-lived signed links, which S3 checks
//! itself and which this server checks for local files (`serve_local`).
use std::{path::Path as FsPath, sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Path as UrlPath, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use object_store::{
    Attribute, AttributeValue, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload,
    WriteMultipart,
    aws::{AmazonS3, AmazonS3Builder},
    local::LocalFileSystem,
    path::Path,
    signer::{SignedUrlOptions, Signer},
};
use serde::Deserialize;
use sha2::Sha256;

use crate::{
    config::Settings,
    error::{AppError, AppResult, causes},
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

    /// A link to PUT the object once, with exactly `content_type` and `length` bytes. Both are
    /// part of a local link's signature; S3 signs the `Content-Type` header.
    pub async fn upload_link(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        ttl: Duration,
    ) -> AppResult<SignedLink> {
        let headers = vec![("Content-Type".to_owned(), content_type.to_owned())];
        let url = match &self.links {
            Links::S3(s3) => {
                let value = HeaderValue::from_str(content_type)
                    .map_err(|_| AppError::bad_input("contentType is not a valid header value"))?;
                // object_store refuses to sign Content-Length (it reserves the header), so on
                // S3 the length is held to the announced size when the photo is attached.
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
            } => {
                let expires = expiry(ttl);
                let signature = sign(secret, &Method::PUT, key, expires, content_type, length);
                format!("{base_url}/files/{key}?expires={expires}&signature={signature}")
            }
        };
        Ok(SignedLink { url, headers })
    }

    /// A link to GET the object, answered with `content_type` (the type that was checked, not
    /// one guessed from the key or sent by the uploader). `content_type` is one of the few
    /// types this server stores, all of them safe in a URL's query as they are.
    pub async fn read_link(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
    ) -> AppResult<String> {
        match &self.links {
            Links::S3(s3) => {
                let options = SignedUrlOptions::default()
                    .with_query([("response-content-type", content_type)]);
                Ok(s3
                    .signed_url_opts(Method::GET, &Path::from(key), ttl, &options)
                    .await
                    .map_err(unavailable)?
                    .to_string())
            }
            Links::Local {
                base_url,
                key: secret,
            } => {
                let expires = expiry(ttl);
                let signature = sign(secret, &Method::GET, key, expires, content_type, 0);
                Ok(format!(
                    "{base_url}/files/{key}?expires={expires}&type={content_type}&signature={signature}"
                ))
            }
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

    /// Stores a file the server made; on S3 with its content type.
    pub async fn put(
        &self,
        key: &str,
        content_type: &'static str,
        bytes: Vec<u8>,
    ) -> AppResult<()> {
        // Local files keep no attributes: their type travels in the signed read link.
        let attributes = match self.links {
            Links::S3(_) => Attributes::from_iter([(
                Attribute::ContentType,
                AttributeValue::from(content_type),
            )]),
            Links::Local { .. } => Attributes::new(),
        };
        self.store
            .put_opts(
                &Path::from(key),
                PutPayload::from(bytes),
                PutOptions::from(attributes),
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Moves an object to a new key; `Ok(false)` when nothing was stored under `from`.
    pub async fn rename(&self, from: &str, to: &str) -> AppResult<bool> {
        match self.store.rename(&Path::from(from), &Path::from(to)).await {
            Ok(()) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Checks a local link's signature and expiry for a request of `content_type` and
    /// `length` bytes (a GET link: the type it is answered with, and 0); S3 checks its own.
    fn verify_local(
        &self,
        method: &Method,
        key: &str,
        link: &LinkQuery,
        content_type: &str,
        length: u64,
    ) -> bool {
        let Links::Local { key: secret, .. } = &self.links else {
            return false;
        };
        if link.expires <= Utc::now().timestamp() {
            return false;
        }
        let Ok(signature) = URL_SAFE_NO_PAD.decode(&link.signature) else {
            return false;
        };
        mac(secret, method, key, link.expires, content_type, length)
            .verify_slice(&signature)
            .is_ok()
    }
}

fn unavailable(error: object_store::Error) -> AppError {
    tracing::error!(error = %causes(&error), "object storage failed");
    AppError::Unavailable("file storage is unavailable; try again shortly".into())
}

fn expiry(ttl: Duration) -> i64 {
    Utc::now().timestamp() + ttl.as_secs() as i64
}

fn mac(
    secret: &[u8],
    method: &Method,
    key: &str,
    expires: i64,
    content_type: &str,
    length: u64,
) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(format!("files\n{method}\n{key}\n{expires}\n{content_type}\n{length}").as_bytes());
    mac
}

fn sign(
    secret: &[u8],
    method: &Method,
    key: &str,
    expires: i64,
    content_type: &str,
    length: u64,
) -> String {
    let mac = mac(secret, method, key, expires, content_type, length);
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[derive(Deserialize)]
pub struct LinkQuery {
    expires: i64,
    signature: String,
    /// A read link's content type.
    #[serde(rename = "type", default)]
    content_type: String,
}

/// Parts a local upload is written in: what one upload holds in memory at a time.
const UPLOAD_CHUNK_BYTES: usize = 256 * 1024;

/// `GET` and `PUT /files/{key}` for local storage: only with a valid, unexpired link. A PUT
/// is checked (signature, declared type and length) before a byte of its body is read, then
/// streamed to its file, and only where nothing was stored yet.
pub async fn serve_local(
    State(storage): State<ObjectStorage>,
    method: Method,
    UrlPath(key): UrlPath<String>,
    Query(link): Query<LinkQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let answer = if method == Method::PUT {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let Some(length) = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
        else {
            return (
                StatusCode::LENGTH_REQUIRED,
                "send the file with its Content-Length",
            )
                .into_response();
        };
        if !link.content_type.is_empty()
            || !storage.verify_local(&method, &key, &link, content_type, length)
        {
            return forbidden();
        }
        write_local(&storage, &key, length, body).await
    } else {
        if !storage.verify_local(&method, &key, &link, &link.content_type, 0) {
            return forbidden();
        }
        read_local(&storage, &key, &link.content_type).await
    };
    answer.unwrap_or_else(|_| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "this link is invalid or has expired, or the file is not the type and size it was \
         signed for",
    )
        .into_response()
}

async fn write_local(
    storage: &ObjectStorage,
    key: &str,
    length: u64,
    body: Body,
) -> AppResult<Response> {
    if length > MAX_LOCAL_UPLOAD_BYTES as u64 {
        return Ok(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    }
    let path = Path::from(key);
    // A link writes once: what it wrote may already have been checked.
    if storage.size(key).await?.is_some() {
        return Ok((StatusCode::CONFLICT, "this file was uploaded already").into_response());
    }
    let upload = storage
        .store
        .put_multipart(&path)
        .await
        .map_err(unavailable)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, UPLOAD_CHUNK_BYTES);
    let mut received = 0u64;
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let Ok(chunk) = chunk else {
            writer.abort().await.map_err(unavailable)?;
            return Ok(StatusCode::BAD_REQUEST.into_response());
        };
        received += chunk.len() as u64;
        if received > length {
            writer.abort().await.map_err(unavailable)?;
            return Ok(StatusCode::BAD_REQUEST.into_response());
        }
        writer.wait_for_capacity(1).await.map_err(unavailable)?;
        writer.put(chunk);
    }
    if received != length {
        writer.abort().await.map_err(unavailable)?;
        return Ok((StatusCode::BAD_REQUEST, "the upload ended early").into_response());
    }
    writer.finish().await.map_err(unavailable)?;
    Ok(StatusCode::OK.into_response())
}

async fn read_local(storage: &ObjectStorage, key: &str, content_type: &str) -> AppResult<Response> {
    match storage.store.get(&Path::from(key)).await {
        Ok(found) => Ok((
            [
                (header::CONTENT_TYPE, content_type),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            Body::from_stream(found.into_stream()),
        )
            .into_response()),
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
        let jpeg = "image/jpeg";
        let link = query(
            storage
                .read_link("a/b.jpg", jpeg, Duration::from_secs(60))
                .await
                .unwrap(),
        );
        assert!(storage.verify_local(&Method::GET, "a/b.jpg", &link, jpeg, 0));
        assert!(!storage.verify_local(&Method::GET, "a/b.jpg", &link, "text/html", 0));
        assert!(!storage.verify_local(&Method::PUT, "a/b.jpg", &link, jpeg, 0));
        assert!(!storage.verify_local(&Method::GET, "a/c.jpg", &link, jpeg, 0));
        let expired = query(
            storage
                .read_link("a/b.jpg", jpeg, Duration::ZERO)
                .await
                .unwrap(),
        );
        assert!(!storage.verify_local(&Method::GET, "a/b.jpg", &expired, jpeg, 0));
    }

    #[tokio::test]
    async fn upload_links_are_bound_to_type_and_length() {
        let dir = tempfile::tempdir().unwrap();
        let storage = ObjectStorage::local(dir.path(), "http://h", b"secret").unwrap();
        let link = storage
            .upload_link("a/b.jpg", "image/jpeg", 1000, Duration::from_secs(60))
            .await
            .unwrap();
        let link: LinkQuery = Query::try_from_uri(&link.url.parse().unwrap()).unwrap().0;
        assert!(storage.verify_local(&Method::PUT, "a/b.jpg", &link, "image/jpeg", 1000));
        assert!(!storage.verify_local(&Method::PUT, "a/b.jpg", &link, "text/html", 1000));
        assert!(!storage.verify_local(&Method::PUT, "a/b.jpg", &link, "image/jpeg", 9_000_000));
    }
}
