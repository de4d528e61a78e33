//! What apps send to place, complete and rate orders and to keep the category list.
use super::*;
#[derive(InputObject)]
pub struct NewServiceCategoryInput {
    /// Stable identifier, e.g. REPAIR.
    pub(super) code: String,
    pub(super) name: String,
    pub(super) response_minutes: i32,
    /// From placing to completion; default three days (urgent orders get half).
    pub(super) completion_minutes: Option<i32>,
}

/// Absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateServiceCategoryInput {
    pub(super) name: Option<String>,
    pub(super) response_minutes: Option<i32>,
    pub(super) completion_minutes: Option<i32>,
    /// false retires it: no new orders; existing ones keep it.
    pub(super) active: Option<bool>,
}

#[derive(InputObject)]
#[graphql(name = "PlaceOrderInput")]
pub struct PlaceOrderInputGql {
    pub(super) category_id: ID,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) address: String,
    /// Default: your own (verified) phone.
    pub(super) contact_phone: Option<String>,
    pub(super) preferred_time: Option<DateTime<Utc>>,
    pub(super) urgency: Option<Urgency>,
    /// Photos of the problem, uploaded with `createUploadUrl(purpose: ORDER_PHOTO)`; at most 9.
    #[graphql(default, validator(max_items = 9))]
    pub(super) photo_keys: Vec<String>,
    /// Photo links, as mini-programs from before uploads send them: an empty list is
    /// accepted, links are refused, since a link was never checked as a photo.
    #[graphql(
        default,
        deprecation = "links typed in before uploads existed; upload with createUploadUrl and send photoKeys",
        validator(max_items = 9)
    )]
    pub(super) photo_urls: Vec<String>,
}

/// Mini-programs from before uploads send `photoUrls`: their documents still run, and a link
/// is refused with what to do, not stored unchecked.
fn no_photo_links(urls: &[String]) -> Result<(), AppError> {
    if urls.is_empty() {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "photo links are no longer accepted: update the mini-program and attach the photos again",
        ))
    }
}

impl TryFrom<PlaceOrderInputGql> for NewOrder {
    type Error = AppError;

    fn try_from(input: PlaceOrderInputGql) -> Result<Self, AppError> {
        no_photo_links(&input.photo_urls)?;
        NewOrder::try_from(PlaceOrderInput {
            category_id: parse_id("categoryId", &input.category_id)?,
            title: input.title,
            description: input.description,
            address: input.address,
            contact_phone: input.contact_phone,
            preferred_time: input.preferred_time,
            urgency: input.urgency.map(Into::into),
            photo_keys: input.photo_keys,
        })
    }
}

#[derive(InputObject)]
pub struct PlaceOrderOnBehalfInput {
    pub(super) community_id: ID,
    /// Who is served, as they gave their name.
    pub(super) resident_name: String,
    /// Their phone: links the order to their account when one of the community has it, and is
    /// the contact phone unless `order.contactPhone` says otherwise.
    pub(super) phone: String,
    /// STAFF or HOTLINE.
    pub(super) channel: OrderChannel,
    pub(super) order: PlaceOrderInputGql,
}

#[derive(InputObject)]
#[graphql(name = "CompleteOrderInput")]
pub struct CompleteOrderInputGql {
    pub(super) summary: String,
    pub(super) minutes_spent: i32,
    /// Photos of the result, uploaded with `createUploadUrl(purpose: COMPLETION_PHOTO)`; at
    /// most 9.
    #[graphql(default, validator(max_items = 9))]
    pub(super) photo_keys: Vec<String>,
    /// Photo links, as mini-programs from before uploads send them: an empty list is
    /// accepted, links are refused, since a link was never checked as a photo.
    #[graphql(
        default,
        deprecation = "links typed in before uploads existed; upload with createUploadUrl and send photoKeys",
        validator(max_items = 9)
    )]
    pub(super) photo_urls: Vec<String>,
}

impl TryFrom<CompleteOrderInputGql> for CompletionReport {
    type Error = AppError;

    fn try_from(input: CompleteOrderInputGql) -> Result<Self, AppError> {
        no_photo_links(&input.photo_urls)?;
        CompletionReport::try_from(CompleteOrderInput {
            summary: input.summary,
            minutes_spent: input.minutes_spent,
            photo_keys: input.photo_keys,
        })
    }
}

#[derive(InputObject)]
pub struct RateOrderInput {
    /// 1 to 5.
    pub(super) stars: i32,
    pub(super) comment: Option<String>,
}
