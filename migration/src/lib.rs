//! Database schema, one migration per file, applied in order by `Migrator`.
pub use sea_orm_migration::prelude::*;

/// governanceStats' rollup of closed orders per community, category and day, and per month.
pub mod order_day_stats {
    pub use super::m20261125_000017_create_order_day_stats::{
        COUNT_COLUMNS, OPEN_ORDERS, day_of, minutes_between, rebuild_statements,
    };
    pub use super::m20261207_000042_create_order_month_stats::rebuild_month_statements;
}

/// The SQL functions of writes that go as one statement (PostgreSQL).
pub mod one_statement_writes {
    pub use super::m20261207_000043_one_statement_writes::GUARD_UNMET;
}

/// The expression `myTasks` finds a member's orders by, as its index has it.
pub mod member_tasks {
    pub use super::m20261126_000028_index_member_tasks::TASK_MEMBER;
}

mod m20261123_000001_create_organisation;
mod m20261123_000002_create_identity;
mod m20261123_000003_create_orders;
mod m20261123_000004_create_points;
mod m20261123_000005_create_merchants;
mod m20261125_000006_create_adjustment_requests;
mod m20261125_000007_append_only_records;
mod m20261125_000008_organisation_admin;
mod m20261125_000009_create_inbox;
mod m20261125_000010_create_subscribe_consents;
mod m20261125_000011_create_content_flags;
mod m20261125_000012_create_photos;
mod m20261125_000013_governance;
mod m20261125_000014_create_notice_objections;
mod m20261125_000015_create_escalations;
mod m20261125_000016_create_auto_routes;
mod m20261125_000017_create_order_day_stats;
mod m20261125_000018_create_wishes;
mod m20261125_000019_create_good_deeds;
mod m20261125_000020_create_assessment_rules;
mod m20261125_000021_create_merchant_statements;
mod m20261125_000022_create_api_keys;
mod m20261125_000023_create_points_policies;
mod m20261125_000024_points_expiry;
mod m20261125_000025_wish_photos;
mod m20261125_000026_create_units;
mod m20261126_000027_create_service_certificates;
mod m20261126_000028_index_member_tasks;
mod m20261202_000029_photo_stored_keys;
mod m20261202_000030_create_household_links;
mod m20261202_000031_create_consultations;
mod m20261202_000032_create_patrols;
mod m20261202_000033_create_console_login_tickets;
mod m20261206_000034_activity_attendance;
mod m20261206_000035_create_property_ratings;
mod m20261206_000036_create_patrol_plans;
mod m20261206_000037_create_topic_comments;
mod m20261207_000038_index_role_holders;
mod m20261207_000039_publication_objections;
mod m20261207_000040_topic_proposals;
mod m20261207_000041_placing_budgets;
mod m20261207_000042_create_order_month_stats;
mod m20261207_000043_one_statement_writes;
mod m20261208_000044_gift_budgets;
mod m20261208_000045_inbox_fanouts;

/// An index named `name` on `columns` of `table`.
fn index<T: IntoIden + 'static>(name: &str, table: T, columns: Vec<T>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    index.to_owned()
}

fn unique_index<T: IntoIden + 'static>(
    name: &str,
    table: T,
    columns: Vec<T>,
) -> IndexCreateStatement {
    index(name, table, columns).unique().to_owned()
}

/// Adds each (table, column), one per statement: SQLite alters a table one column at a time.
async fn add_columns(
    manager: &SchemaManager<'_>,
    columns: Vec<(DynIden, ColumnDef)>,
) -> Result<(), DbErr> {
    for (table, column) in columns {
        manager
            .alter_table(Table::alter().table(table).add_column(column).to_owned())
            .await?;
    }
    Ok(())
}

/// Drops what `add_columns` added.
async fn drop_columns(
    manager: &SchemaManager<'_>,
    columns: Vec<(DynIden, ColumnDef)>,
) -> Result<(), DbErr> {
    for (table, column) in columns {
        let column = Alias::new(column.get_column_name());
        manager
            .alter_table(Table::alter().table(table).drop_column(column).to_owned())
            .await?;
    }
    Ok(())
}

/// Drops `tables` in the order given (dependents first).
async fn drop_tables(manager: &SchemaManager<'_>, tables: Vec<DynIden>) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(table).to_owned())
            .await?;
    }
    Ok(())
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_organisation::Migration),
            Box::new(m20261123_000002_create_identity::Migration),
            Box::new(m20261123_000003_create_orders::Migration),
            Box::new(m20261123_000004_create_points::Migration),
            Box::new(m20261123_000005_create_merchants::Migration),
            Box::new(m20261125_000006_create_adjustment_requests::Migration),
            Box::new(m20261125_000007_append_only_records::Migration),
            Box::new(m20261125_000008_organisation_admin::Migration),
            Box::new(m20261125_000009_create_inbox::Migration),
            Box::new(m20261125_000010_create_subscribe_consents::Migration),
            Box::new(m20261125_000011_create_content_flags::Migration),
            Box::new(m20261125_000012_create_photos::Migration),
            Box::new(m20261125_000013_governance::Migration),
            Box::new(m20261125_000014_create_notice_objections::Migration),
            Box::new(m20261125_000015_create_escalations::Migration),
            Box::new(m20261125_000016_create_auto_routes::Migration),
            Box::new(m20261125_000017_create_order_day_stats::Migration),
            Box::new(m20261125_000018_create_wishes::Migration),
            Box::new(m20261125_000019_create_good_deeds::Migration),
            Box::new(m20261125_000020_create_assessment_rules::Migration),
            Box::new(m20261125_000021_create_merchant_statements::Migration),
            Box::new(m20261125_000022_create_api_keys::Migration),
            Box::new(m20261125_000023_create_points_policies::Migration),
            Box::new(m20261125_000024_points_expiry::Migration),
            Box::new(m20261125_000025_wish_photos::Migration),
            Box::new(m20261125_000026_create_units::Migration),
            Box::new(m20261126_000027_create_service_certificates::Migration),
            Box::new(m20261126_000028_index_member_tasks::Migration),
            Box::new(m20261202_000029_photo_stored_keys::Migration),
            Box::new(m20261202_000030_create_household_links::Migration),
            Box::new(m20261202_000031_create_consultations::Migration),
            Box::new(m20261202_000032_create_patrols::Migration),
            Box::new(m20261202_000033_create_console_login_tickets::Migration),
            Box::new(m20261206_000034_activity_attendance::Migration),
            Box::new(m20261206_000035_create_property_ratings::Migration),
            Box::new(m20261206_000036_create_patrol_plans::Migration),
            Box::new(m20261206_000037_create_topic_comments::Migration),
            Box::new(m20261207_000038_index_role_holders::Migration),
            Box::new(m20261207_000039_publication_objections::Migration),
            Box::new(m20261207_000040_topic_proposals::Migration),
            Box::new(m20261207_000041_placing_budgets::Migration),
            Box::new(m20261207_000042_create_order_month_stats::Migration),
            Box::new(m20261207_000043_one_statement_writes::Migration),
            Box::new(m20261208_000044_gift_budgets::Migration),
            Box::new(m20261208_000045_inbox_fanouts::Migration),
        ]
    }
}
