//! Photos: upload links, and photos as shown on what they are attached to.
use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    enums::{self, PhotoReview},
    photo,
};

use super::{actor, state};
use crate::content::photos;

/// What a photo is for; it decides where it may be attached.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "enums::PhotoPurpose")]
#[allow(clippy::enum_variant_names, reason = "the API's names: ORDER_PHOTO, …")]
pub enum PhotoPurpose {
    /// The problem, attached by `placeOrder(photoKeys)`.
    OrderPhoto,
    /// The result, attached by `completeOrder(photoKeys)`.
    CompletionPhoto,
    /// A storefront, attached by `setMerchantPhotos`.
    MerchantPhoto,
    /// What a micro-wish is about, attached by `postWish(input: { photoKeys })`.
    WishPhoto,
    /// A patrol point, attached by `signOffPatrolPoint(input: { photoKeys })`.
    PatrolPhoto,
}

#[derive(SimpleObject)]
pub struct HttpHeader {
    name: String,
    value: String,
}

/// How to upload one photo: `PUT` the file's bytes to `url` with exactly these headers (in the
/// mini-program: `wx.request({ method: 'PUT', url, header, data })` with the file read as an
/// ArrayBuffer), then name `fileKey` in the mutation that uses the photo.
#[derive(SimpleObject)]
pub struct UploadTicket {
    file_key: String,
    url: String,
    method: String,
    headers: Vec<HttpHeader>,
    /// The link stops working after this.
    expires_at: DateTime<Utc>,
}

/// A photo as its viewer may see it. `url` is a signed link that works for 15 minutes: ask
/// again for a fresh one.
#[derive(SimpleObject)]
pub struct Photo {
    file_key: String,
    purpose: PhotoPurpose,
    url: String,
    /// Waiting for WeChat's image check: only you (its uploader) see it until then.
    under_review: bool,
}

impl Photo {
    pub async fn show(ctx: &Context<'_>, photo: &photo::Model) -> Result<Self> {
        Ok(Self {
            url: state(ctx)?.photos.link(photo).await?,
            file_key: photo.key.clone(),
            purpose: photo.purpose.into(),
            under_review: photo.review == PhotoReview::Pending,
        })
    }
}

#[derive(Default)]
pub struct PhotoMutation;

#[Object]
impl PhotoMutation {
    /// A short-lived link to upload one JPEG, PNG or WebP photo of at most 10 MB.
    async fn create_upload_url(
        &self,
        ctx: &Context<'_>,
        purpose: PhotoPurpose,
        content_type: String,
        byte_size: i64,
    ) -> Result<UploadTicket> {
        let actor = actor(ctx).await?;
        let state = state(ctx)?;
        let ticket = state
            .photos
            .create_upload(&state.db, actor, purpose.into(), &content_type, byte_size)
            .await?;
        Ok(UploadTicket {
            file_key: ticket.file_key,
            url: ticket.link.url,
            method: "PUT".to_owned(),
            headers: ticket
                .link
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            expires_at: ticket.expires_at,
        })
    }
}

/// The photos of a parent `viewer` may see.
pub async fn visible(ctx: &Context<'_>, rows: Vec<photo::Model>) -> Result<Vec<Photo>> {
    let viewer = super::caller(ctx).ok().map(|caller| caller.user_id);
    let mut shown = Vec::new();
    for row in rows.iter().filter(|row| photos::visible_to(row, viewer)) {
        shown.push(Photo::show(ctx, row).await?);
    }
    Ok(shown)
}
