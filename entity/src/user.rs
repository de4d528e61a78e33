use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub openid: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub community_id: Option<Uuid>,
    /// The grid (网格) of the community the user lives in.
    pub grid_id: Option<Uuid>,
    pub address: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Whether the name may appear on leaderboards and public notices.
    pub show_on_leaderboard: bool,
    /// What a Party member can do (水电, 法律, …), stored as `,水电,法律,` so that one skill is
    /// matched with `LIKE '%,水电,%'` (see `validate::Skills`).
    pub skills: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// What a list shows of a person (an order's requester): a list whose selection reads
/// nothing else joins only these columns (`LISTED_COLUMNS`, in this order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub id: Uuid,
    pub name: Option<String>,
}

pub const LISTED_COLUMNS: [Column; 2] = [Column::Id, Column::Name];

impl From<&Model> for Listed {
    fn from(user: &Model) -> Self {
        Self {
            id: user.id,
            name: user.name.clone(),
        }
    }
}
