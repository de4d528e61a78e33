use sea_orm::entity::prelude::*;

/// A certificate of someone's confirmed service in a community over a period, as issued.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_certificates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Printed on the certificate and in its QR code; anyone holding it may verify.
    #[sea_orm(unique)]
    pub code: String,
    pub user_id: Uuid,
    /// The community whose records it certifies, and which issues it.
    pub community_id: Uuid,
    /// China-time dates, both inclusive.
    pub period_from: Date,
    pub period_to: Date,
    /// The holder's name and the issuer's as printed, whatever changes later.
    pub holder_name: String,
    pub issuer: String,
    pub total_minutes: i64,
    pub record_count: i32,
    /// A hash of the period and the records certified: the same content gives the same
    /// certificate.
    pub fingerprint: String,
    /// Where its PDF is kept in object storage.
    pub pdf_key: String,
    pub issued_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
