//! Accounts and profiles.
use chrono::Utc;
use entity::user;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    sea_query::OnConflict,
};
use uuid::Uuid;

use serde_json::json;

use super::Actor;
use crate::{
    content::{Cleared, ContentGuard, Scene},
    error::{AppError, AppResult, causes},
    infra::{
        db::begin_write,
        wechat::{WechatApi, WechatError},
    },
    notify::{Committed, DomainEvent},
    orders::workflow::OPEN_WORK,
    organisation, validate,
    values::{Phone, Skills},
    wishes,
};

pub async fn get_user(db: &impl ConnectionTrait, id: Uuid) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))
}

/// The users these ids name, by id (an export's people).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<std::collections::HashMap<Uuid, user::Model>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// The account of `community` with this phone, if exactly one has it.
pub async fn find_by_phone(
    db: &impl ConnectionTrait,
    community_id: Uuid,
    phone: &str,
) -> AppResult<Option<user::Model>> {
    let mut found = user::Entity::find()
        .filter(user::Column::CommunityId.eq(community_id))
        .filter(user::Column::Phone.eq(phone))
        .limit(2)
        .all(db)
        .await?;
    Ok(if found.len() == 1 { found.pop() } else { None })
}

/// Finds the user with this openid, creating a bare account on first login.
pub async fn find_or_create_user(
    db: &impl ConnectionTrait,
    openid: &str,
) -> AppResult<user::Model> {
    if openid.contains(char::is_whitespace) || openid.starts_with(LEGACY_ERASED_PREFIX) {
        return Err(AppError::bad_input("this account no longer exists"));
    }
    let now = Utc::now();
    // ON CONFLICT DO NOTHING: two first logins racing each other both end with one account.
    user::Entity::insert(user::ActiveModel {
        id: Set(Uuid::now_v7()),
        openid: Set(openid.to_owned()),
        name: Set(None),
        phone: Set(None),
        community_id: Set(None),
        grid_id: Set(None),
        address: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        show_on_leaderboard: Set(true),
        skills: Set(String::new()),
    })
    .on_conflict(
        OnConflict::column(user::Column::Openid)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    user::Entity::find()
        .filter(user::Column::Openid.eq(openid))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("user vanished after insert")))
}

/// The name shown on leaderboards and public notices: masked (张**) when the user opted out.
pub fn public_name(user: &user::Model) -> String {
    let name = user.name.as_deref().unwrap_or("志愿者");
    if user.show_on_leaderboard {
        name.to_owned()
    } else {
        let first: String = name.chars().take(1).collect();
        format!("{first}**")
    }
}

pub struct ProfileInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub community_id: Option<Uuid>,
    /// A grid of the user's community (after any change of community in the same input).
    pub grid_id: Option<Uuid>,
    pub address: Option<String>,
    pub show_on_leaderboard: Option<bool>,
    /// Replaces the list (at most 10, each 1–20 characters).
    pub skills: Option<Vec<String>>,
}

/// Absent fields are left as they are.
pub async fn update_profile(
    db: &DatabaseConnection,
    content: &ContentGuard,
    actor: &Actor,
    input: ProfileInput,
) -> AppResult<Committed<user::Model>> {
    let mut changes = user::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(actor.id),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    let name = input
        .name
        .map(|name| validate::text("name", &name, 1, 50))
        .transpose()?;
    if let Some(phone) = input.phone {
        changes.phone = Set(Some(Phone::parse("phone", &phone)?.into()));
    }
    if let Some(address) = input.address {
        changes.address = Set(Some(validate::text("address", &address, 1, 200)?));
    }
    if let Some(show) = input.show_on_leaderboard {
        changes.show_on_leaderboard = Set(show);
    }
    if let Some(skills) = input.skills {
        changes.skills = Set(Skills::parse(&skills)?.into());
    }
    if let Some(community_id) = input.community_id {
        organisation::open_community(db, community_id).await?;
        changes.community_id = Set(Some(community_id));
        // A grid belongs to one community.
        changes.grid_id = Set(None);
    }
    if let Some(grid_id) = input.grid_id {
        let community = match input.community_id {
            Some(community) => Some(community),
            None => get_user(db, actor.id).await?.community_id,
        };
        let grid = organisation::get_grid(db, grid_id).await?;
        if Some(grid.community_id) != community || grid.archived_at.is_some() {
            return Err(AppError::bad_input(
                "gridId must be a current grid of your community",
            ));
        }
        changes.grid_id = Set(Some(grid_id));
    }
    let name = content
        .clear_optional(db, actor, Scene::Profile, "name", name)
        .await?;
    let txn = begin_write(db).await?;
    if let Some(name) = Cleared::record_optional(name, &txn).await? {
        changes.name = Set(Some(name));
    }
    let user = changes.update(&txn).await?;
    txn.commit().await?;
    Ok(Committed::new(
        user,
        DomainEvent::ProfileChanged { user_id: actor.id },
    ))
}

/// Sets the user's phone to the number WeChat verified for a `getPhoneNumber` code. Without
/// WeChat credentials (development) the code is taken as the number itself.
pub async fn bind_phone(
    db: &DatabaseConnection,
    wechat: Option<&WechatApi>,
    actor: &Actor,
    code: &str,
) -> AppResult<Committed<user::Model>> {
    let code = code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(AppError::bad_input("the phone code is empty or malformed"));
    }
    let number = match wechat {
        None => code.to_owned(),
        Some(api) => {
            let answer = api
                .post("/wxa/business/getuserphonenumber", &json!({ "code": code }))
                .await
                .map_err(|error| match error {
                    WechatError::Refused { errcode: 40029, .. } => {
                        AppError::bad_input("the phone code is invalid or used; ask the user again")
                    }
                    WechatError::Refused { .. } | WechatError::Unavailable(_) => {
                        tracing::warn!(error = %causes(&error), "getuserphonenumber failed");
                        AppError::Unavailable("WeChat is unavailable; try again shortly".into())
                    }
                })?;
            answer["phone_info"]["purePhoneNumber"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let phone = Phone::parse("phone", &number)?;
    let user = user::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(actor.id),
        phone: Set(Some(phone.into())),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(Committed::new(
        user,
        DomainEvent::ProfileChanged { user_id: actor.id },
    ))
}

/// What an erased account's openid becomes: it holds a space, which no WeChat openid and no
/// login code (`WechatLogin::openid_for_code`) can, so nobody logs in as an erased account.
fn erased_openid(user_id: Uuid) -> String {
    format!("erased {user_id}")
}

/// Openids erased before `erased_openid` existed; logins with them are refused.
const LEGACY_ERASED_PREFIX: &str = "deleted:";

/// What `user_id` still has to do or hand over, one line each: orders they placed, serve or
/// are dispatched while they are open work (`workflow::OPEN_WORK`, escalated ones included),
/// wishes they posted or claimed that are not settled, redemptions not yet used.
async fn open_work_of(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<Vec<String>> {
    use entity::{enums::RedemptionStatus, order, redemption, wish};
    let mut open = Vec::new();
    let orders = order::Entity::find()
        .filter(order::Column::Status.is_in(OPEN_WORK))
        .filter(
            Condition::any()
                .add(order::Column::RequesterId.eq(user_id))
                .add(order::Column::AssigneeId.eq(user_id))
                .add(order::Column::TakerId.eq(user_id)),
        )
        .limit(5)
        .all(db)
        .await?;
    for order in orders {
        open.push(if order.requester_id == user_id {
            format!("your order “{}” is not finished", order.title)
        } else {
            format!("the order “{}” is with you", order.title)
        });
    }
    let wishes = wish::Entity::find()
        .filter(wish::Column::Status.is_in(wishes::UNSETTLED))
        .filter(
            Condition::any()
                .add(wish::Column::ResidentId.eq(user_id))
                .add(wish::Column::ClaimerId.eq(user_id)),
        )
        .limit(5)
        .all(db)
        .await?;
    for wish in wishes {
        open.push(if wish.resident_id == user_id {
            format!("your wish “{}” is not settled", wish.title)
        } else {
            format!("you claimed the wish “{}”", wish.title)
        });
    }
    let pending = redemption::Entity::find()
        .filter(redemption::Column::UserId.eq(user_id))
        .filter(redemption::Column::Status.eq(RedemptionStatus::Pending))
        .count(db)
        .await?;
    if pending > 0 {
        open.push(format!("{pending} redemption(s) not yet used or cancelled"));
    }
    Ok(open)
}

/// Erases a user's personal data, unless they still have open work (`open_work_of`): the
/// refusal names it. What others need keeps its history: orders lose their contact phone and
/// address, the user's name becomes anonymous, their openid is freed.
pub async fn erase(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<user::Model> {
    use entity::{household_link, order};
    let open = open_work_of(db, user_id).await?;
    if !open.is_empty() {
        return Err(AppError::conflict(format!(
            "finish, hand back or cancel your open work before deleting your account: {}",
            open.join("; ")
        )));
    }
    // Its households name the account and its address.
    household_link::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(household_link::Column::GiverId.eq(user_id))
                .add(household_link::Column::ReceiverId.eq(user_id)),
        )
        .exec(db)
        .await?;
    order::Entity::update_many()
        .set(order::ActiveModel {
            contact_phone: Set(String::new()),
            address: Set(String::new()),
            ..Default::default()
        })
        .filter(order::Column::RequesterId.eq(user_id))
        .exec(db)
        .await?;
    Ok(user::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(user_id),
        openid: Set(erased_openid(user_id)),
        name: Set(None),
        phone: Set(None),
        address: Set(None),
        grid_id: Set(None),
        show_on_leaderboard: Set(false),
        skills: Set(String::new()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?)
}
