//! Proposals (方案) on a topic: STAFF post them before the vote, beside the residents'
//! comments and moderated the same way. A proposal is a comment with a title.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TopicComments {
    Table,
    ProposalTitle,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TopicComments::Table)
                    .add_column(string_null(TopicComments::ProposalTitle))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TopicComments::Table)
                    .drop_column(TopicComments::ProposalTitle)
                    .to_owned(),
            )
            .await
    }
}
