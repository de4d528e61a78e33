//! Content security (内容安全): text a user writes for others to see is checked with WeChat's
//! `msgSecCheck` (v2, with the author's openid) before anything is stored. The domain commands
//! check it, after validating it, so every entry point (GraphQL, Open311, the CLI) gets the
//! same rule; they can only store a `Cleared` text. A risky verdict
//! refuses the request (BAD_USER_INPUT, reason CONTENT_REJECTED). A "review" verdict, or
//! WeChat being unreachable under the fail-open policy (`CONTENT_CHECK_FAIL_OPEN`, default
//! on), stores the text and flags it for the author's community STAFF, in the transaction that stores
//! it: text a command refused after the check is never flagged. The flag takes the author's
//! community as the statement that stores it finds it, so a check needs only the author's
//! openid, which each instance remembers: a command's checks cost no read of their own.
use chrono::Utc;
use entity::{content_flag, enums::PhotoReview, user};
use futures::future::join_all;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait,
    sea_query::{Expr, InsertStatement},
};
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

pub mod photos;

use crate::{
    error::{AppError, AppResult, causes},
    identity::{self, Actor},
    infra::{
        db,
        memo::Memo,
        wechat::{WechatApi, WechatError},
    },
    pagination::{Page, PageRequest, fetch_page},
};

/// WeChat's scenes: where the text will be shown.
#[derive(Debug, Clone, Copy)]
pub enum Scene {
    /// A profile (names).
    Profile = 1,
    /// A comment (ratings).
    Comment = 2,
    /// A post others read (orders, offers, activities, merchants).
    Forum = 3,
}

/// WeChat's v1 code for risky content, still returned by some endpoints.
const RISKY: i64 = 87014;

#[derive(Clone)]
pub enum ContentGuard {
    /// No WeChat credentials (development): nothing is checked.
    Off,
    Wechat {
        api: WechatApi,
        fail_open: bool,
        /// Authors' openids by user id. An account's openid never changes while it can sign
        /// in (erasing the account ends its sessions), so an entry is never stale for a
        /// request that passed the session check.
        openids: Arc<Memo<Uuid, String>>,
    },
}

/// Most authors' openids an instance remembers.
const REMEMBERED_OPENIDS: usize = 10_000;

enum Verdict {
    Pass,
    Flag(&'static str),
}

/// Text a user wrote for others to see, validated and through content security: only
/// `ContentGuard::clear` makes one, so a command cannot store user text it did not check.
/// Flags the check raised are recorded with the text, in the transaction that stores it.
#[must_use = "record it where the text is stored"]
pub struct Cleared {
    text: String,
    flag: Option<content_flag::Model>,
}

/// A flag for text (or a photo's key) stored without clearance, for STAFF of the author's
/// community.
fn flag(author_id: Uuid, field: &str, excerpt: &str, reason: &str) -> content_flag::Model {
    content_flag::Model {
        id: Uuid::now_v7(),
        author_id,
        community_id: None,
        field: field.to_owned(),
        excerpt: excerpt.chars().take(200).collect(),
        reason: reason.to_owned(),
        created_at: Utc::now(),
        resolved_by: None,
        resolved_at: None,
    }
}

/// The flag's insert. It files the flag under the community the author belongs to when it
/// runs, which is where the text is stored: no read before, nothing stale.
fn flag_insert(flag: content_flag::Model) -> InsertStatement {
    let community = user::Entity::find_by_id(flag.author_id)
        .select_only()
        .column(user::Column::CommunityId)
        .into_query();
    let community = Expr::SubQuery(None, Box::new(community.into()));
    db::insert_taking(&flag, (content_flag::Column::CommunityId, community))
}

impl Cleared {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Records the check's flag (if any) beside the stored text; returns the text to store.
    pub async fn record(self, db: &impl ConnectionTrait) -> AppResult<String> {
        let (text, flag) = self.into_write();
        if let Some(flag) = flag {
            db.execute(&flag).await?;
        }
        Ok(text)
    }

    /// `record` for a caller that sends the flag's insert (if any) with its own statements.
    pub fn into_write(self) -> (String, Option<InsertStatement>) {
        (self.text, self.flag.map(flag_insert))
    }

    /// `record` for an optional text.
    pub async fn record_optional(
        cleared: Option<Self>,
        db: &impl ConnectionTrait,
    ) -> AppResult<Option<String>> {
        match cleared {
            Some(cleared) => Ok(Some(cleared.record(db).await?)),
            None => Ok(None),
        }
    }
}

impl ContentGuard {
    pub fn wechat(api: WechatApi, fail_open: bool) -> Self {
        Self::Wechat {
            api,
            fail_open,
            openids: Arc::new(Memo::new(REMEMBERED_OPENIDS)),
        }
    }

    /// Checks one text (already validated: an oversize or malformed text never reaches
    /// WeChat) that `author` wrote for others to see, in `scene`. Empty text passes.
    pub async fn clear(
        &self,
        db: &DatabaseConnection,
        author: &Actor,
        scene: Scene,
        field: &str,
        text: String,
    ) -> AppResult<Cleared> {
        let [cleared] = self.clear_all(db, author, scene, [(field, text)]).await?;
        Ok(cleared)
    }

    /// `clear` for several texts of one command, checking the texts concurrently (one WeChat
    /// round trip's wait, not N); the first risky one, in the order given, refuses them all.
    pub async fn clear_all<const N: usize>(
        &self,
        db: &DatabaseConnection,
        author: &Actor,
        scene: Scene,
        texts: [(&str, String); N],
    ) -> AppResult<[Cleared; N]> {
        let (api, fail_open, openids) = match self {
            Self::Wechat {
                api,
                fail_open,
                openids,
            } if texts.iter().any(|(_, t)| !t.trim().is_empty()) => (api, *fail_open, openids),
            _ => return Ok(texts.map(|(_, text)| Cleared { text, flag: None })),
        };
        let openid = openid_of(openids, db, author.id).await?;
        let verdicts = join_all(texts.iter().map(|(field, text)| async {
            if text.trim().is_empty() {
                return Ok(Verdict::Pass);
            }
            verdict(api, fail_open, &openid, scene, field, text).await
        }))
        .await;
        let flags = texts
            .iter()
            .zip(verdicts)
            .map(|((field, text), verdict)| match verdict? {
                Verdict::Pass => Ok(None),
                Verdict::Flag(reason) => Ok(Some(flag(author.id, field, text, reason))),
            })
            .collect::<AppResult<Vec<_>>>()?;
        let mut flags = flags.into_iter();
        Ok(texts.map(|(_, text)| Cleared {
            text,
            flag: flags.next().flatten(),
        }))
    }

    /// `clear` for an optional text.
    pub async fn clear_optional(
        &self,
        db: &DatabaseConnection,
        author: &Actor,
        scene: Scene,
        field: &str,
        text: Option<String>,
    ) -> AppResult<Option<Cleared>> {
        match text {
            Some(text) => Ok(Some(self.clear(db, author, scene, field, text).await?)),
            None => Ok(None),
        }
    }

    /// Submits a photo (reachable at `url`) to WeChat's asynchronous image check: its review
    /// state and the check's trace id, whose verdict `POST /wechat/push` applies later.
    pub async fn check_image(
        &self,
        db: &DatabaseConnection,
        author: &Actor,
        key: &str,
        url: &str,
    ) -> AppResult<(PhotoReview, Option<String>)> {
        let Self::Wechat {
            api,
            fail_open,
            openids,
        } = self
        else {
            return Ok((PhotoReview::Unchecked, None));
        };
        let openid = openid_of(openids, db, author.id).await?;
        let answer = api
            .post(
                "/wxa/media_check_async",
                &json!({
                    "media_url": url,
                    "media_type": IMAGE,
                    "version": 2,
                    "scene": Scene::Forum as i32,
                    "openid": openid,
                }),
            )
            .await;
        match answer {
            Ok(answer) => match answer["trace_id"].as_str() {
                Some(trace_id) => Ok((PhotoReview::Pending, Some(trace_id.to_owned()))),
                None => Err(AppError::Unavailable(
                    "WeChat's image check gave no trace id; try again shortly".into(),
                )),
            },
            Err(error) => {
                tracing::warn!(error = %causes(&error), "image check unavailable");
                if !fail_open {
                    return Err(AppError::Unavailable(
                        "the image check is unavailable; try again shortly".into(),
                    ));
                }
                db.execute(&flag_insert(flag(author.id, "photo", key, "UNCHECKED")))
                    .await?;
                Ok((PhotoReview::Unchecked, None))
            }
        }
    }
}

/// The author's openid, for WeChat: remembered after the first read.
async fn openid_of(
    openids: &Memo<Uuid, String>,
    db: &DatabaseConnection,
    author_id: Uuid,
) -> AppResult<String> {
    if let Some(openid) = openids.get(&author_id) {
        return Ok(openid);
    }
    let openid = identity::get_user(db, author_id).await?.openid;
    openids.put(author_id, openid.clone());
    Ok(openid)
}

/// WeChat's verdict on one text; a risky one refuses the request.
async fn verdict(
    api: &WechatApi,
    fail_open: bool,
    openid: &str,
    scene: Scene,
    field: &str,
    text: &str,
) -> AppResult<Verdict> {
    let answer = api
        .post(
            "/wxa/msg_sec_check",
            &json!({
                "content": text,
                "version": 2,
                "scene": scene as i32,
                "openid": openid,
            }),
        )
        .await;
    match answer {
        Ok(answer) => match answer["result"]["suggest"].as_str() {
            Some("risky") => Err(rejected(field)),
            Some("review") => Ok(Verdict::Flag("REVIEW")),
            _ => Ok(Verdict::Pass),
        },
        Err(WechatError::Refused { errcode: RISKY, .. }) => Err(rejected(field)),
        Err(error) => {
            tracing::warn!(error = %causes(&error), field, "content security unavailable");
            if fail_open {
                Ok(Verdict::Flag("UNCHECKED"))
            } else {
                Err(AppError::Unavailable(
                    "the content check is unavailable; try again shortly".into(),
                ))
            }
        }
    }
}

/// `media_type` of an image in `mediaCheckAsync`.
const IMAGE: i32 = 2;

fn rejected(field: &str) -> AppError {
    AppError::ContentRejected(format!(
        "{field} did not pass WeChat's content security check; please rephrase it"
    ))
}

/// STAFF: unresolved flags of their community's authors, newest first.
pub async fn flags(
    db: &DatabaseConnection,
    actor: &Actor,
    community_id: Uuid,
    page: PageRequest,
) -> AppResult<Page<content_flag::Model>> {
    if !actor.roles.is_staff_of(community_id) {
        return Err(AppError::forbidden(
            "only STAFF of the community may review its flagged content",
        ));
    }
    let select = content_flag::Entity::find()
        .filter(content_flag::Column::CommunityId.eq(community_id))
        .filter(content_flag::Column::ResolvedAt.is_null());
    fetch_page(db, select, content_flag::Column::Id, page).await
}

/// STAFF mark a flag looked at (they correct or remove the text where it lives).
pub async fn resolve(
    db: &DatabaseConnection,
    actor: &Actor,
    flag_id: Uuid,
) -> AppResult<content_flag::Model> {
    let flag = content_flag::Entity::find_by_id(flag_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("flag"))?;
    if !flag
        .community_id
        .is_some_and(|c| actor.roles.is_staff_of(c))
    {
        return Err(AppError::forbidden(
            "only STAFF of the author's community may resolve this flag",
        ));
    }
    let mut flag: content_flag::ActiveModel = flag.into();
    flag.resolved_by = Set(Some(actor.id));
    flag.resolved_at = Set(Some(Utc::now()));
    Ok(flag.update(db).await?)
}
