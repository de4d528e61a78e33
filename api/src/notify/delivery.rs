//! Telling people outside the app: each inbox row is sent as a WeChat subscription message
//! (订阅消息) when its kind has a template and the person consented, by a worker that any
//! number of instances may run.
//!
//! A worker claims due rows by leasing them (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two
//! instances never claim the same row; SQLite has one instance), sends each, and records the
//! outcome: SENT, SKIPPED (no template or no consent; the message stays in the inbox), or a
//! failure, retried with exponential backoff until `MAX_ATTEMPTS`, then DEAD for ADMIN to see.
//! A row is sent at most once per success; a crash between sending and recording (rare) can
//! repeat that one message when its lease ends.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{enums::Delivery, inbox_message, subscribe_consent, user};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    config::{Source, Template, Templates},
    error::{AppError, AppResult},
    identity::Actor,
    infra::{
        db::begin_write,
        wechat::{WechatApi, WechatError},
    },
    pagination::{Page, PageRequest, fetch_page},
    values::china_time,
};

pub const MAX_ATTEMPTS: i32 = 5;
/// How long a claimed row is left to its worker before another may retry it.
const LEASE: chrono::Duration = chrono::Duration::minutes(2);
const BATCH: u64 = 20;
/// Most batches one run claims: 40 rows a second per instance at the default period (about
/// 3.5 million a day), and a backlog costs the requests beside it no more than that.
const BATCHES_PER_RUN: usize = 10;
/// Most one-time consents kept per kind (WeChat itself counts them too).
const MAX_CONSENTS: i32 = 50;

/// How messages leave: through WeChat, or into the log (no credentials: development).
#[derive(Clone)]
pub enum Sender {
    Log,
    Wechat {
        api: WechatApi,
        templates: Templates,
    },
}

/// An inbox kind as the app names it: `OrderDispatchedToYou` → `ORDER_DISPATCHED_TO_YOU`.
pub fn template_key(kind: &str) -> String {
    let mut key = String::new();
    for (i, c) in kind.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            key.push('_');
        }
        key.push(c.to_ascii_uppercase());
    }
    key
}

/// Counts what the user accepted in `wx.requestSubscribeMessage`; each accepted key allows
/// one more message of that kind. Declined keys change nothing.
pub async fn record_consent(
    db: &DatabaseConnection,
    actor: &Actor,
    keys: Vec<String>,
    accepted: bool,
) -> AppResult<u64> {
    if keys.is_empty() || keys.len() > 20 {
        return Err(AppError::bad_input("give between 1 and 20 template keys"));
    }
    if !accepted {
        return Ok(0);
    }
    let now = Utc::now();
    for key in &keys {
        let key = key.trim().to_ascii_uppercase();
        if key.is_empty()
            || key.len() > 64
            || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(AppError::bad_input(
                "template keys are message kinds such as ORDER_DISPATCHED_TO_YOU",
            ));
        }
        subscribe_consent::Entity::insert(subscribe_consent::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(actor.id),
            template_key: Set(key),
            remaining: Set(1),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                subscribe_consent::Column::UserId,
                subscribe_consent::Column::TemplateKey,
            ])
            .value(
                subscribe_consent::Column::Remaining,
                Expr::cust(format!(
                    "CASE WHEN subscribe_consents.remaining < {MAX_CONSENTS} \
                     THEN subscribe_consents.remaining + 1 ELSE {MAX_CONSENTS} END"
                )),
            )
            .value(subscribe_consent::Column::UpdatedAt, Expr::value(now))
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(keys.len() as u64)
}

/// Takes one consent for `key`, if there is one left.
async fn spend_consent(db: &DatabaseConnection, user_id: Uuid, key: &str) -> AppResult<bool> {
    let spent = subscribe_consent::Entity::update_many()
        .col_expr(
            subscribe_consent::Column::Remaining,
            Expr::col(subscribe_consent::Column::Remaining).sub(1),
        )
        .filter(subscribe_consent::Column::UserId.eq(user_id))
        .filter(subscribe_consent::Column::TemplateKey.eq(key))
        .filter(subscribe_consent::Column::Remaining.gt(0))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

async fn give_back_consent(db: &DatabaseConnection, user_id: Uuid, key: &str) -> AppResult<()> {
    subscribe_consent::Entity::update_many()
        .col_expr(
            subscribe_consent::Column::Remaining,
            Expr::col(subscribe_consent::Column::Remaining).add(1),
        )
        .filter(subscribe_consent::Column::UserId.eq(user_id))
        .filter(subscribe_consent::Column::TemplateKey.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Claims up to a batch of due rows for this worker by moving their next attempt past the
/// lease; rows another worker holds are skipped, not waited for.
async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<Vec<inbox_message::Model>> {
    let txn = begin_write(db).await?;
    let mut due = inbox_message::Entity::find()
        .filter(inbox_message::Column::Delivery.eq(Delivery::Pending))
        .filter(inbox_message::Column::NextAttemptAt.lte(now))
        .order_by_asc(inbox_message::Column::NextAttemptAt)
        .limit(BATCH);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = due.all(&txn).await?;
    if !rows.is_empty() {
        inbox_message::Entity::update_many()
            .col_expr(
                inbox_message::Column::NextAttemptAt,
                Expr::value(now + LEASE),
            )
            .filter(inbox_message::Column::Id.is_in(rows.iter().map(|row| row.id)))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(rows)
}

enum Outcome {
    Sent,
    Logged,
    Skipped(String),
    Failed(String),
}

/// Sends what is due at `now`, a batch at a time until none is left (a published order alone
/// makes a row per Party member of its community) or a run has claimed `BATCHES_PER_RUN`;
/// returns how many rows it settled or rescheduled. A row it reschedules is due after `now`,
/// so no run claims a row twice.
pub async fn deliver_due(
    db: &DatabaseConnection,
    sender: &Sender,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut settled = 0;
    for _ in 0..BATCHES_PER_RUN {
        let rows = claim(db, now).await?;
        deliver(db, sender, &rows, now).await?;
        settled += rows.len();
        if rows.len() < BATCH as usize {
            break;
        }
    }
    Ok(settled)
}

async fn deliver(
    db: &DatabaseConnection,
    sender: &Sender,
    rows: &[inbox_message::Model],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    // Every recipient's openid in one query, not one per message.
    let openids: HashMap<Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|row| row.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|user| (user.id, user.openid))
        .collect();
    for row in rows {
        let openid = openids.get(&row.user_id).map(String::as_str);
        let outcome = attempt(db, sender, row, openid).await?;
        record(db, row, outcome, now).await?;
    }
    Ok(())
}

async fn attempt(
    db: &DatabaseConnection,
    sender: &Sender,
    row: &inbox_message::Model,
    openid: Option<&str>,
) -> AppResult<Outcome> {
    let key = template_key(&row.kind);
    let template = match sender {
        Sender::Log => None,
        Sender::Wechat { templates, .. } => match templates.get(&key) {
            Some(template) => Some(template),
            None => return Ok(Outcome::Skipped(format!("no template for {key}"))),
        },
    };
    if !spend_consent(db, row.user_id, &key).await? {
        return Ok(Outcome::Skipped("no consent".into()));
    }
    let (Sender::Wechat { api, .. }, Some(template)) = (sender, template) else {
        tracing::info!(kind = %key, message = %row.id, "no WeChat credentials: not sent");
        return Ok(Outcome::Logged);
    };
    let Some(openid) = openid else {
        return Ok(Outcome::Skipped("the account is gone".into()));
    };
    let result = api
        .post(
            "/cgi-bin/message/subscribe/send",
            &message(template, row, openid),
        )
        .await;
    Ok(match result {
        Ok(_) => Outcome::Sent,
        // The person withdrew consent or the template no longer fits: never worth retrying.
        Err(error @ WechatError::Refused { .. }) => Outcome::Skipped(error.to_string()),
        Err(error @ WechatError::Unavailable(_)) => {
            give_back_consent(db, row.user_id, &key).await?;
            Outcome::Failed(error.to_string())
        }
    })
}

fn message(template: &Template, row: &inbox_message::Model, openid: &str) -> Value {
    let data: serde_json::Map<String, Value> = template
        .fields
        .iter()
        .map(|(field, source)| {
            let value = match source {
                Source::Message => row.message.chars().take(20).collect::<String>(),
                Source::Time => china_time::local(row.created_at)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            };
            (field.clone(), json!({ "value": value }))
        })
        .collect();
    let mut body = json!({
        "touser": openid,
        "template_id": template.template_id,
        "data": data,
    });
    if let Some(page) = &template.page {
        let page = match row.order_id {
            Some(order) => format!("{page}?orderId={order}"),
            None => page.clone(),
        };
        body["page"] = json!(page);
    }
    body
}

/// The wait before attempt `n + 1`: 30 s, 1, 2, 4 … minutes.
fn backoff(attempts: i32) -> chrono::Duration {
    chrono::Duration::seconds(30 * (1_i64 << attempts.clamp(0, 10)))
}

async fn record(
    db: &DatabaseConnection,
    row: &inbox_message::Model,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let attempts = row.attempts + 1;
    let mut changes = inbox_message::ActiveModel {
        attempts: Set(attempts),
        ..Default::default()
    };
    match outcome {
        Outcome::Sent | Outcome::Logged => {
            changes.delivery = Set(if matches!(outcome, Outcome::Sent) {
                Delivery::Sent
            } else {
                Delivery::Logged
            });
            changes.sent_at = Set(Some(now));
        }
        Outcome::Skipped(why) => {
            changes.delivery = Set(Delivery::Skipped);
            changes.last_error = Set(Some(why));
        }
        Outcome::Failed(why) => {
            tracing::warn!(message = %row.id, attempts, error = %why, "subscription message not sent");
            changes.last_error = Set(Some(why));
            if attempts >= MAX_ATTEMPTS {
                changes.delivery = Set(Delivery::Dead);
            } else {
                changes.next_attempt_at = Set(now + backoff(row.attempts));
            }
        }
    }
    inbox_message::Entity::update_many()
        .set(changes)
        .filter(inbox_message::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(())
}

/// ADMIN: messages given up on, newest first.
pub async fn dead_letters(
    db: &DatabaseConnection,
    actor: &Actor,
    page: PageRequest,
) -> AppResult<Page<inbox_message::Model>> {
    if !actor.roles.is_admin() {
        return Err(AppError::forbidden(
            "only ADMIN may see undelivered messages",
        ));
    }
    let select =
        inbox_message::Entity::find().filter(inbox_message::Column::Delivery.eq(Delivery::Dead));
    fetch_page(db, select, inbox_message::Column::Id, page).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_named_as_the_app_names_them() {
        assert_eq!(
            template_key("OrderDispatchedToYou"),
            "ORDER_DISPATCHED_TO_YOU"
        );
        assert_eq!(template_key("NewOrder"), "NEW_ORDER");
    }

    #[test]
    fn retries_back_off_exponentially() {
        assert_eq!(backoff(0), chrono::Duration::seconds(30));
        assert_eq!(backoff(1), chrono::Duration::seconds(60));
        assert_eq!(backoff(4), chrono::Duration::seconds(480));
    }
}
