use sea_orm::entity::prelude::*;

/// An objection to a published notice (a topic's result, a street's red/black list) by one
/// party — a person on the roll, or a listed company through one of its people — and the
/// answer it got.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "publication_objections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The topic or property round objected to.
    pub subject_id: Uuid,
    /// Who objects: the person, or the company they speak for; once per subject.
    pub party_id: Uuid,
    pub objector_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub created_at: DateTimeUtc,
    pub answered_by: Option<Uuid>,
    pub answered_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
