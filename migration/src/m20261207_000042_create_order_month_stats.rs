//! governanceStats over a year summed ~77,000 day rows for a street of 30 communities (a sort
//! that spilled to disk: ~120 ms). The same counts per month sit beside the day rows, kept by
//! the same step in the same statement (`orders::stats::restate`): a year is then ~2,700 rows,
//! and the day rows serve only the part-months at a period's ends.
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000017_create_order_day_stats::COUNT_COLUMNS;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrderMonthStats {
    Table,
    CommunityId,
    CategoryId,
    Month,
}

/// Rebuilds the month rows from the day rows (after the day rows were rebuilt).
pub fn rebuild_month_statements() -> Vec<String> {
    let sums: Vec<String> = COUNT_COLUMNS
        .iter()
        .map(|column| format!("CAST(SUM({column}) AS BIGINT)"))
        .collect();
    vec![
        "DELETE FROM order_month_stats".to_owned(),
        format!(
            "INSERT INTO order_month_stats (community_id, category_id, month, {columns}) \
             SELECT community_id, category_id, substr(day, 1, 7), {sums} FROM order_day_stats \
             GROUP BY community_id, category_id, substr(day, 1, 7)",
            columns = COUNT_COLUMNS.join(", "),
            sums = sums.join(", "),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(OrderMonthStats::Table)
            .col(uuid(OrderMonthStats::CommunityId))
            .col(uuid(OrderMonthStats::CategoryId))
            .col(string(OrderMonthStats::Month))
            .primary_key(
                Index::create()
                    .col(OrderMonthStats::CommunityId)
                    .col(OrderMonthStats::Month)
                    .col(OrderMonthStats::CategoryId),
            );
        for column in COUNT_COLUMNS {
            table.col(big_integer(Alias::new(column)).default(0));
        }
        manager.create_table(table.to_owned()).await?;
        let db = manager.get_connection();
        for statement in rebuild_month_statements() {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrderMonthStats::Table).to_owned())
            .await
    }
}
