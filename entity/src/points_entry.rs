use sea_orm::entity::prelude::*;

use crate::enums::EntryKind;

/// One append-only line of the points ledger. Entries are never updated or deleted; a mistake
/// is undone by a REVERSAL entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "points_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: EntryKind,
    /// Signed: positive credits, negative debits.
    pub amount: i64,
    pub balance_after: i64,
    /// What caused it: `service_record`, `points_entry` (for a reversal), …
    pub reference_type: Option<String>,
    pub reference_id: Option<Uuid>,
    /// Points per hour applied, for EARN entries.
    pub rate: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    #[sea_orm(unique)]
    pub idempotency_key: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
