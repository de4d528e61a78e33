//! Photos (before and after a repair, a merchant's storefront): the app asks for an upload
//! link, uploads straight to object storage, then names the file in the command that uses it.
//! That command checks that the file is the caller's, unused, really a JPEG/PNG/WebP and at
//! most 10 MB, and sends it to WeChat's image check; until the verdict arrives (at
//! `POST /wechat/push`) only its uploader sees it, and a risky one is removed.
use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use entity::{
    enums::{PhotoPurpose, PhotoReview},
    photo,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::ContentGuard;
use crate::{
    error::{AppError, AppResult, causes},
    identity::Actor,
    infra::{
        db::{begin_serialised, group_by_parent},
        object_storage::{ObjectStorage, SignedLink},
    },
};

pub const MAX_PHOTO_BYTES: u64 = 10 * 1024 * 1024;
/// Photos one order step (or a storefront) may carry.
pub const MAX_PHOTOS: usize = 9;
/// Upload links handed out per person per day but not yet used: bounds abandoned uploads.
const MAX_UNUSED_PER_DAY: u64 = 100;
const UPLOAD_LINK_TTL: Duration = Duration::from_secs(15 * 60);
const READ_LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// WeChat fetches the image some minutes after the check is submitted.
const CHECK_LINK_TTL: Duration = Duration::from_secs(60 * 60);

/// The image formats accepted, recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageFormat {
    Jpeg,
    Png,
    Webp,
}

impl ImageFormat {
    fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type {
            "image/jpeg" => Some(Self::Jpeg),
            "image/png" => Some(Self::Png),
            "image/webp" => Some(Self::Webp),
            _ => None,
        }
    }

    fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(Self::Jpeg),
            [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n', ..] => Some(Self::Png),
            [
                b'R',
                b'I',
                b'F',
                b'F',
                _,
                _,
                _,
                _,
                b'W',
                b'E',
                b'B',
                b'P',
                ..,
            ] => Some(Self::Webp),
            _ => None,
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
        }
    }
}

/// Bytes `sniff` needs.
const SNIFF_BYTES: u64 = 12;

/// What the app needs to upload one photo.
pub struct UploadTicket {
    pub file_key: String,
    pub link: SignedLink,
    pub expires_at: DateTime<Utc>,
}

/// A photo checked and submitted for review, ready to attach in the command's transaction.
pub struct CheckedPhoto {
    key: String,
    review: PhotoReview,
    trace_id: Option<String>,
}

/// Where photos are attached.
#[derive(Debug, Clone, Copy)]
pub enum Attachment {
    Order(Uuid),
    Merchant(Uuid),
    Wish(Uuid),
    PatrolSignoff(Uuid),
}

#[derive(Clone)]
pub struct PhotoService {
    pub storage: ObjectStorage,
    pub content: ContentGuard,
}

impl PhotoService {
    /// An upload link for one photo of `byte_size` bytes; the key is recorded as the caller's.
    pub async fn create_upload(
        &self,
        db: &DatabaseConnection,
        actor: &Actor,
        purpose: PhotoPurpose,
        content_type: &str,
        byte_size: i64,
    ) -> AppResult<UploadTicket> {
        let format = ImageFormat::from_content_type(content_type).ok_or_else(|| {
            AppError::bad_input("contentType must be image/jpeg, image/png or image/webp")
        })?;
        if !(1..=MAX_PHOTO_BYTES as i64).contains(&byte_size) {
            return Err(AppError::bad_input(format!(
                "byteSize must be between 1 and {MAX_PHOTO_BYTES} (10 MB)"
            )));
        }
        let now = Utc::now();
        // Counted and added to in one step per person: concurrent requests cannot each see
        // room for one more.
        let txn = begin_serialised(db, &format!("uploads:{}", actor.id)).await?;
        let unused = photo::Entity::find()
            .filter(photo::Column::OwnerId.eq(actor.id))
            .filter(photo::Column::AttachedAt.is_null())
            .filter(photo::Column::CreatedAt.gt(now - chrono::Duration::days(1)))
            .count(&txn)
            .await?;
        if unused >= MAX_UNUSED_PER_DAY {
            return Err(AppError::bad_input(
                "too many uploads today that were never used; attach or stop uploading photos",
            ));
        }
        let file_key = object_key("uploads", purpose, actor.id, format);
        photo::ActiveModel {
            key: Set(file_key.clone()),
            stored_key: Set(None),
            owner_id: Set(actor.id),
            purpose: Set(purpose),
            content_type: Set(content_type.to_owned()),
            byte_size: Set(byte_size),
            order_id: Set(None),
            merchant_id: Set(None),
            wish_id: Set(None),
            patrol_signoff_id: Set(None),
            review: Set(PhotoReview::Unchecked),
            trace_id: Set(None),
            created_at: Set(now),
            attached_at: Set(None),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        let link = self
            .storage
            .upload_link(&file_key, content_type, byte_size as u64, UPLOAD_LINK_TTL)
            .await?;
        Ok(UploadTicket {
            file_key,
            link,
            expires_at: now + chrono::Duration::from_std(UPLOAD_LINK_TTL).unwrap_or_default(),
        })
    }

    /// Checks the uploaded files named by `keys` and submits each to WeChat's image check. Run
    /// before the command's transaction: it waits on storage and WeChat.
    pub async fn check(
        &self,
        db: &DatabaseConnection,
        actor: &Actor,
        purpose: PhotoPurpose,
        keys: &[String],
    ) -> AppResult<Vec<CheckedPhoto>> {
        check_count(keys)?;
        // Most commands name no photo: no round trip for them.
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows: HashMap<String, photo::Model> = photo::Entity::find()
            .filter(photo::Column::Key.is_in(keys.iter().cloned()))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.key.clone(), row))
            .collect();
        let mut checked: Vec<CheckedPhoto> = Vec::with_capacity(keys.len());
        for key in keys {
            if checked.iter().any(|photo| &photo.key == key) {
                continue;
            }
            let row = rows
                .get(key)
                .filter(|row| row.owner_id == actor.id)
                .ok_or_else(|| AppError::bad_input(format!("{key} is not a photo you uploaded")))?;
            if row.purpose != purpose {
                return Err(AppError::bad_input(format!(
                    "{key} was uploaded for another purpose ({:?})",
                    row.purpose
                )));
            }
            if row.attached_at.is_some() {
                return Err(AppError::bad_input(format!("{key} is already in use")));
            }
            let stored = self.store(db, row).await?;
            let size = self.storage.size(&stored).await?.unwrap_or_default();
            if size != row.byte_size as u64 {
                return Err(AppError::bad_input(format!(
                    "{key} holds {size} bytes, not the {} announced for it",
                    row.byte_size
                )));
            }
            let declared = ImageFormat::from_content_type(&row.content_type);
            let found = if size < SNIFF_BYTES {
                None
            } else {
                ImageFormat::sniff(&self.storage.first_bytes(&stored, SNIFF_BYTES).await?)
            };
            if found.is_none() || found != declared {
                return Err(AppError::bad_input(format!(
                    "{key} is not the {} image it was announced as",
                    row.content_type
                )));
            }
            let url = self
                .storage
                .read_link(&stored, &row.content_type, CHECK_LINK_TTL)
                .await?;
            let (review, trace_id) = self.content.check_image(db, actor, key, &url).await?;
            checked.push(CheckedPhoto {
                key: key.clone(),
                review,
                trace_id,
            });
        }
        Ok(checked)
    }

    /// Moves an uploaded file to a key of its own, which no upload link signed, and records
    /// it: from here on a PUT through the upload link changes nothing that is checked or
    /// shown. Done once: a command retried after a failed transaction finds it recorded.
    async fn store(&self, db: &DatabaseConnection, row: &photo::Model) -> AppResult<String> {
        if let Some(stored) = &row.stored_key {
            return Ok(stored.clone());
        }
        let format = ImageFormat::from_content_type(&row.content_type)
            .ok_or_else(|| not_an_image(&row.key))?;
        let stored = object_key("photos", row.purpose, row.owner_id, format);
        if !self.storage.rename(&row.key, &stored).await? {
            return Err(AppError::bad_input(format!(
                "{} has not been uploaded yet (or its upload failed)",
                row.key
            )));
        }
        let recorded = photo::Entity::update_many()
            .set(photo::ActiveModel {
                stored_key: Set(Some(stored.clone())),
                ..Default::default()
            })
            .filter(photo::Column::Key.eq(&row.key))
            .filter(photo::Column::StoredKey.is_null())
            .exec(db)
            .await?;
        if recorded.rows_affected != 1 {
            return Err(AppError::conflict(format!(
                "{} was used by another request a moment ago",
                row.key
            )));
        }
        Ok(stored)
    }

    /// Removes the files of detached photos; a failure leaves an orphan file, not an error.
    pub async fn delete_files(&self, photos: &[photo::Model]) {
        for photo in photos {
            if let Err(error) = self.storage.delete(photo.served_key()).await {
                tracing::warn!(error = %causes(&error), "a detached photo's file stays in storage");
            }
        }
    }

    /// A short-lived link to show a photo, answered with the type it was checked as.
    pub async fn link(&self, photo: &photo::Model) -> AppResult<String> {
        self.storage
            .read_link(photo.served_key(), &photo.content_type, READ_LINK_TTL)
            .await
    }

    /// Applies WeChat's verdict on the check `trace_id`: a risky photo is hidden at once and
    /// its file removed. Verdicts for unknown or already decided checks change nothing, so a
    /// repeated push is harmless.
    pub async fn apply_verdict(
        &self,
        db: &DatabaseConnection,
        trace_id: &str,
        risky: bool,
    ) -> AppResult<()> {
        let review = if risky {
            PhotoReview::Rejected
        } else {
            PhotoReview::Passed
        };
        let decided = photo::Entity::find()
            .filter(photo::Column::TraceId.eq(trace_id))
            .filter(photo::Column::Review.eq(PhotoReview::Pending))
            .all(db)
            .await?;
        for photo in decided {
            let served = photo.served_key().to_owned();
            let mut photo: photo::ActiveModel = photo.into();
            photo.review = Set(review);
            photo.update(db).await?;
            if risky {
                self.storage.delete(&served).await?;
            }
        }
        Ok(())
    }
}

/// Refuses more than `MAX_PHOTOS` keys before anything is looked up.
pub fn check_count(keys: &[String]) -> AppResult<()> {
    if keys.len() > MAX_PHOTOS {
        return Err(AppError::bad_input(format!("at most {MAX_PHOTOS} photos")));
    }
    Ok(())
}

fn not_an_image(key: &str) -> AppError {
    AppError::bad_input(format!("{key} is not a JPEG, PNG or WebP image"))
}

/// A fresh key under `area` (`uploads` for what a link writes, `photos` for what is shown).
fn object_key(area: &str, purpose: PhotoPurpose, owner: Uuid, format: ImageFormat) -> String {
    let folder = match purpose {
        PhotoPurpose::OrderPhoto => "orders",
        PhotoPurpose::CompletionPhoto => "completions",
        PhotoPurpose::MerchantPhoto => "merchants",
        PhotoPurpose::WishPhoto => "wishes",
        PhotoPurpose::PatrolPhoto => "patrols",
    };
    format!(
        "{area}/{folder}/{}/{}.{}",
        owner.simple(),
        Uuid::now_v7().simple(),
        format.extension()
    )
}

/// Attaches checked photos inside the command's transaction. A photo attached meanwhile by a
/// concurrent request is a conflict, so one file never shows in two places.
pub async fn attach(
    txn: &impl ConnectionTrait,
    owner: Uuid,
    to: Attachment,
    photos: Vec<CheckedPhoto>,
) -> AppResult<()> {
    let now = Utc::now();
    for photo in photos {
        let (mut order_id, mut merchant_id, mut wish_id, mut signoff_id) = (None, None, None, None);
        match to {
            Attachment::Order(id) => order_id = Some(id),
            Attachment::Merchant(id) => merchant_id = Some(id),
            Attachment::Wish(id) => wish_id = Some(id),
            Attachment::PatrolSignoff(id) => signoff_id = Some(id),
        }
        let attached = photo::Entity::update_many()
            .set(photo::ActiveModel {
                order_id: Set(order_id),
                merchant_id: Set(merchant_id),
                wish_id: Set(wish_id),
                patrol_signoff_id: Set(signoff_id),
                review: Set(photo.review),
                trace_id: Set(photo.trace_id),
                attached_at: Set(Some(now)),
                ..Default::default()
            })
            .filter(photo::Column::Key.eq(&photo.key))
            .filter(photo::Column::OwnerId.eq(owner))
            .filter(photo::Column::AttachedAt.is_null())
            .exec(txn)
            .await?;
        if attached.rows_affected != 1 {
            return Err(AppError::conflict(format!(
                "{} was used by another request a moment ago",
                photo.key
            )));
        }
    }
    Ok(())
}

/// The photos attached to these orders, oldest first, rejected ones left out.
pub async fn of_orders(
    db: &DatabaseConnection,
    order_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<photo::Model>>> {
    of_parents(db, photo::Column::OrderId, order_ids, |photo| {
        photo.order_id
    })
    .await
}

/// The storefront photos of these merchants, oldest first, rejected ones left out.
pub async fn of_merchants(
    db: &DatabaseConnection,
    merchant_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<photo::Model>>> {
    of_parents(db, photo::Column::MerchantId, merchant_ids, |photo| {
        photo.merchant_id
    })
    .await
}

/// The photos of these wishes, oldest first, rejected ones left out.
pub async fn of_wishes(
    db: &DatabaseConnection,
    wish_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<photo::Model>>> {
    of_parents(db, photo::Column::WishId, wish_ids, |photo| photo.wish_id).await
}

async fn of_parents(
    db: &DatabaseConnection,
    parent: photo::Column,
    ids: &[Uuid],
    parent_of: fn(&photo::Model) -> Option<Uuid>,
) -> AppResult<HashMap<Uuid, Vec<photo::Model>>> {
    let rows = photo::Entity::find()
        .filter(parent.is_in(ids.iter().copied()))
        .filter(photo::Column::Review.ne(PhotoReview::Rejected))
        .order_by_asc(photo::Column::AttachedAt)
        .all(db)
        .await?;
    Ok(group_by_parent(rows, parent_of))
}

/// Forgets photos taken off what they were attached to (their files are deleted after the
/// transaction commits, with `PhotoService::delete_files`).
pub async fn detach(txn: &impl ConnectionTrait, photos: &[photo::Model]) -> AppResult<()> {
    if !photos.is_empty() {
        photo::Entity::delete_many()
            .filter(photo::Column::Key.is_in(photos.iter().map(|photo| photo.key.clone())))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Whether `viewer` may see the photo (whoever may see what it is attached to): a photo
/// awaiting its verdict only by its uploader, a rejected one by nobody.
pub fn visible_to(photo: &photo::Model, viewer: Option<Uuid>) -> bool {
    match photo.review {
        PhotoReview::Unchecked | PhotoReview::Passed => true,
        PhotoReview::Pending => viewer == Some(photo.owner_id),
        PhotoReview::Rejected => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_their_first_bytes() {
        assert_eq!(
            ImageFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\0"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        assert_eq!(ImageFormat::sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(ImageFormat::sniff(b"<svg xmlns="), None);
        assert_eq!(ImageFormat::sniff(b""), None);
    }
}
