//! Records that are history, not state, refuse to change in the database itself, whoever
//! connects: points entries (the balance is their sum), order events (the audit trail) and
//! redemptions once they left PENDING (a verification, cancellation or expiry is final).
use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables whose rows may never be updated or deleted.
const APPEND_ONLY: &[&str] = &["points_entries", "order_events"];

fn postgres_up() -> String {
    let mut sql = String::from(
        "CREATE FUNCTION hongfan_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN RAISE EXCEPTION '% on % is refused: its rows are a permanent record', \
         TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$;",
    );
    for table in APPEND_ONLY {
        sql.push_str(&format!(
            "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION hongfan_refuse_change();"
        ));
    }
    sql.push_str(
        "CREATE TRIGGER redemptions_no_delete BEFORE DELETE ON redemptions \
         FOR EACH ROW EXECUTE FUNCTION hongfan_refuse_change(); \
         CREATE TRIGGER redemptions_final BEFORE UPDATE ON redemptions \
         FOR EACH ROW WHEN (OLD.status <> 'PENDING') EXECUTE FUNCTION hongfan_refuse_change();",
    );
    sql
}

fn sqlite_up() -> String {
    let refuse = |name: &str, event: &str, table: &str, when: &str| {
        format!(
            "CREATE TRIGGER {name} BEFORE {event} ON {table} {when} \
             BEGIN SELECT RAISE(ABORT, '{event} on {table} is refused: its rows are a permanent record'); END;"
        )
    };
    let mut sql = String::new();
    for table in APPEND_ONLY {
        sql.push_str(&refuse(&format!("{table}_no_update"), "UPDATE", table, ""));
        sql.push_str(&refuse(&format!("{table}_no_delete"), "DELETE", table, ""));
    }
    sql.push_str(&refuse(
        "redemptions_no_delete",
        "DELETE",
        "redemptions",
        "",
    ));
    sql.push_str(&refuse(
        "redemptions_final",
        "UPDATE",
        "redemptions",
        "WHEN OLD.status <> 'PENDING'",
    ));
    sql
}

fn down_sql(backend: DatabaseBackend) -> String {
    match backend {
        DatabaseBackend::Postgres => {
            let mut sql: String = APPEND_ONLY
                .iter()
                .map(|table| format!("DROP TRIGGER {table}_append_only ON {table};"))
                .collect();
            sql.push_str(
                "DROP TRIGGER redemptions_no_delete ON redemptions; \
                 DROP TRIGGER redemptions_final ON redemptions; \
                 DROP FUNCTION hongfan_refuse_change();",
            );
            sql
        }
        _ => {
            let mut sql: String = APPEND_ONLY
                .iter()
                .map(|table| {
                    format!("DROP TRIGGER {table}_no_update; DROP TRIGGER {table}_no_delete;")
                })
                .collect();
            sql.push_str("DROP TRIGGER redemptions_no_delete; DROP TRIGGER redemptions_final;");
            sql
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Postgres => postgres_up(),
            _ => sqlite_up(),
        };
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = down_sql(manager.get_database_backend());
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }
}
