use sea_orm::entity::prelude::*;

/// A topic's result: sequence 1 is sealed at the close; later sequences are corrections,
/// visible beside it. Rows are never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic_id: Uuid,
    pub sequence: i32,
    /// Ballots per option, as a JSON list in the options' order.
    pub counts: Json,
    pub eligible: i32,
    pub turnout: i32,
    /// Whether the turnout reached the quorum.
    pub valid: bool,
    /// SHA-256 over the published (receipt, choices) list, in hex.
    pub digest: String,
    pub reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
