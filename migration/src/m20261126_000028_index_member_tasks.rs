//! `myTasks` lists the orders a member took and those dispatched to them awaiting an answer.
//! As an OR of two indexed columns it read and sorted every order the member ever took; one
//! expression index on "whose task this is" walks newest first and stops after a page.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The member an order is a task of: its taker, or while it is DISPATCHED (never taken, so
/// without a taker) the member it was dispatched to. Literal SQL: the queries must repeat the
/// index's expression as text for the planner to use it.
pub const TASK_MEMBER: &str =
    "COALESCE(taker_id, CASE WHEN status = 'DISPATCHED' THEN assignee_id END)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX idx_orders_task_member ON orders (({TASK_MEMBER}), id)"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_orders_task_member").to_owned())
            .await
    }
}
