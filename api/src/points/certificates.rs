//! Service certificates (志愿服务记录证明). Whoever records service certifies it: the
//! community issues a certificate of the confirmed records it holds for a volunteer over a
//! period. Each certificate is kept as issued (holder, issuer, period, total) with its PDF, and
//! its code lets anyone check it later without seeing anything else of the holder.
use std::{collections::HashMap, time::Duration};

use chrono::{Days, NaiveDate, Utc};
use entity::{
    activity, enums::RecordStatus, enums::ServiceSource, order, service_certificate,
    service_record, user, wish,
};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::certificate_pdf::{self, Certificate, Line};
use crate::{
    error::{AppError, AppResult, causes},
    identity::Actor,
    infra::{
        object_storage::ObjectStorage,
        rate_limit::{self, Limit},
        shared_store::SharedStore,
    },
    organisation,
    values::china_time,
};

/// The longest period one certificate covers.
const MAX_PERIOD_DAYS: u64 = 3 * 366;
/// More records than this will not fit a readable certificate: ask for a shorter period.
const MAX_RECORDS: u64 = 1_000;
/// Rendering a PDF costs real work: each person gets a few an hour.
const ISSUES_PER_USER: Limit = Limit {
    name: "service-certificates",
    max: 10,
    window: Duration::from_secs(60 * 60),
};
/// A link to download the PDF is used at once; the certificate can be asked for again.
const PDF_LINK_TTL: Duration = Duration::from_secs(15 * 60);
const PDF_TYPE: &str = "application/pdf";
/// Crockford's base32: no I, L, O or U to misread.
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 12 characters: 60 bits, not worth guessing at a rate-limited endpoint.
const CODE_LENGTH: usize = 12;

#[derive(Clone)]
pub struct CertificateDesk {
    pub storage: ObjectStorage,
    pub store: SharedStore,
    /// Where `GET /certificates/{code}` is reached from outside.
    pub verify_base: String,
}

pub struct Issued {
    pub certificate: service_certificate::Model,
    pub pdf_url: String,
}

impl CertificateDesk {
    pub fn verify_url(&self, code: &str) -> String {
        format!(
            "{}/certificates/{code}",
            self.verify_base.trim_end_matches('/')
        )
    }

    /// Certifies the caller's confirmed service in `community_id` (by default their own
    /// community) from `from` to `to`, China-time dates inclusive. Asking again for the same
    /// records gives the same certificate.
    pub async fn issue(
        &self,
        db: &DatabaseConnection,
        actor: &Actor,
        community_id: Option<Uuid>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Issued> {
        let today = china_time::today();
        if to < from || (to - from).num_days() as u64 > MAX_PERIOD_DAYS {
            return Err(AppError::bad_input(
                "`to` must not be before `from`, and at most three years later",
            ));
        }
        if to > today {
            return Err(AppError::bad_input("`to` must not be after today"));
        }
        let holder = user::Entity::find_by_id(actor.id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let holder_name = holder
            .name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .ok_or_else(|| {
                AppError::bad_input("set your name in your profile first: a certificate names you")
            })?;
        let community_id = community_id.or(holder.community_id).ok_or_else(|| {
            AppError::bad_input("give communityId: you have not joined a community")
        })?;
        let community = organisation::get_community(db, community_id).await?;
        let records = confirmed_records(db, actor.id, community_id, from, to).await?;
        if records.is_empty() {
            return Err(AppError::bad_input(
                "you have no confirmed service in this community over this period",
            ));
        }
        let fingerprint = fingerprint(community_id, from, to, &records);
        if let Some(existing) = find_issued(db, actor.id, &fingerprint).await? {
            return self.issued(existing).await;
        }
        rate_limit::check(&self.store, ISSUES_PER_USER, &actor.id.to_string()).await?;

        let lines = lines_of(db, &records).await?;
        let code = new_code();
        let certificate = service_certificate::Model {
            id: Uuid::now_v7(),
            pdf_key: format!("certificates/{code}.pdf"),
            code,
            user_id: actor.id,
            community_id,
            period_from: from,
            period_to: to,
            holder_name,
            issuer: community.name,
            total_minutes: lines.iter().map(|line| line.minutes).sum(),
            record_count: lines.len() as i32,
            fingerprint,
            issued_at: Utc::now(),
        };
        let pdf = self.render(&certificate, lines).await?;
        // The file first: a certificate row always has its PDF.
        self.storage
            .put(&certificate.pdf_key, PDF_TYPE, pdf)
            .await?;
        let inserted = service_certificate::ActiveModel::from(certificate.clone())
            .insert(db)
            .await;
        match inserted {
            Ok(certificate) => self.issued(certificate).await,
            // A concurrent request certified the same records first: theirs stands.
            Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                if let Err(error) = self.storage.delete(&certificate.pdf_key).await {
                    tracing::warn!(error = %causes(&error), "a duplicate certificate's PDF stays in storage");
                }
                let winner = find_issued(db, actor.id, &certificate.fingerprint)
                    .await?
                    .ok_or_else(|| {
                        AppError::conflict("the certificate is being issued; try again")
                    })?;
                self.issued(winner).await
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn issued(&self, certificate: service_certificate::Model) -> AppResult<Issued> {
        let pdf_url = self
            .storage
            .read_link(&certificate.pdf_key, PDF_TYPE, PDF_LINK_TTL)
            .await?;
        Ok(Issued {
            certificate,
            pdf_url,
        })
    }

    async fn render(
        &self,
        certificate: &service_certificate::Model,
        lines: Vec<Line>,
    ) -> AppResult<Vec<u8>> {
        let verify_url = self.verify_url(&certificate.code);
        let certificate = certificate.clone();
        // Laying out and subsetting the font is CPU work: keep it off the request threads.
        tokio::task::spawn_blocking(move || {
            certificate_pdf::render(&Certificate {
                holder_name: &certificate.holder_name,
                issuer: &certificate.issuer,
                from: certificate.period_from,
                to: certificate.period_to,
                total_minutes: certificate.total_minutes,
                code: &certificate.code,
                verify_url: &verify_url,
                issued_on: china_time::date_of(certificate.issued_at),
                lines: &lines,
            })
        })
        .await
        .map_err(|error| AppError::Internal(error.into()))?
        .map_err(|error| AppError::Internal(error.into()))
    }
}

/// The certificate with this code, for anyone who holds it.
pub async fn by_code(
    db: &DatabaseConnection,
    code: &str,
) -> AppResult<Option<service_certificate::Model>> {
    let code = code.trim().to_ascii_uppercase();
    if code.len() != CODE_LENGTH || !code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return Ok(None);
    }
    Ok(service_certificate::Entity::find()
        .filter(service_certificate::Column::Code.eq(code))
        .one(db)
        .await?)
}

async fn find_issued(
    db: &DatabaseConnection,
    user_id: Uuid,
    fingerprint: &str,
) -> AppResult<Option<service_certificate::Model>> {
    Ok(service_certificate::Entity::find()
        .filter(service_certificate::Column::UserId.eq(user_id))
        .filter(service_certificate::Column::Fingerprint.eq(fingerprint))
        .one(db)
        .await?)
}

/// Confirmed records of the period, by the day the service was recorded.
async fn confirmed_records(
    db: &DatabaseConnection,
    user_id: Uuid,
    community_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<service_record::Model>> {
    let end = to
        .checked_add_days(Days::new(1))
        .ok_or_else(|| AppError::bad_input("`to` is out of range"))?;
    let records = service_record::Entity::find()
        .filter(service_record::Column::UserId.eq(user_id))
        .filter(service_record::Column::CommunityId.eq(community_id))
        .filter(service_record::Column::Status.eq(RecordStatus::Confirmed))
        .filter(service_record::Column::CreatedAt.gte(china_time::start_of(from)))
        .filter(service_record::Column::CreatedAt.lt(china_time::start_of(end)))
        .order_by_asc(service_record::Column::CreatedAt)
        .order_by_asc(service_record::Column::Id)
        .limit(MAX_RECORDS + 1)
        .all(db)
        .await?;
    if records.len() as u64 > MAX_RECORDS {
        return Err(AppError::bad_input(format!(
            "more than {MAX_RECORDS} records in this period: ask for a shorter one"
        )));
    }
    Ok(records)
}

/// Each record with the title of the order, activity or wish it came from.
async fn lines_of(
    db: &DatabaseConnection,
    records: &[service_record::Model],
) -> AppResult<Vec<Line>> {
    let ids = |pick: fn(&service_record::Model) -> Option<Uuid>| -> Vec<Uuid> {
        records.iter().filter_map(pick).collect()
    };
    let orders = titles::<order::Entity>(
        db,
        order::Column::Id,
        order::Column::Title,
        ids(|r| r.order_id),
    )
    .await?;
    let activities = titles::<activity::Entity>(
        db,
        activity::Column::Id,
        activity::Column::Title,
        ids(|r| r.activity_id),
    )
    .await?;
    let wishes = titles::<wish::Entity>(
        db,
        wish::Column::Id,
        wish::Column::Title,
        ids(|r| r.wish_id),
    )
    .await?;
    let title = |titles: &HashMap<Uuid, String>, id: Option<Uuid>| {
        id.and_then(|id| titles.get(&id))
            .cloned()
            .unwrap_or_default()
    };
    Ok(records
        .iter()
        .map(|record| {
            let (source, what) = match record.source {
                ServiceSource::Order => ("订单服务", title(&orders, record.order_id)),
                ServiceSource::Activity => ("志愿活动", title(&activities, record.activity_id)),
                ServiceSource::Wish => ("微心愿", title(&wishes, record.wish_id)),
            };
            Line {
                date: china_time::date_of(record.created_at),
                source,
                what,
                minutes: i64::from(record.minutes),
            }
        })
        .collect())
}

/// id → title of the rows of one table.
async fn titles<E: EntityTrait>(
    db: &DatabaseConnection,
    id: E::Column,
    title: E::Column,
    ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(E::find()
        .filter(id.is_in(ids))
        .select_only()
        .columns([id, title])
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

fn fingerprint(
    community_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    records: &[service_record::Model],
) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("{community_id}|{from}|{to}"));
    for record in records {
        hash.update(format!("|{}:{}", record.id, record.minutes));
    }
    hash.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LENGTH)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect()
}
