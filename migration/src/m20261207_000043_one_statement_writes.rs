//! Two PostgreSQL functions that let a whole change go as one statement outside an explicit
//! transaction (one round trip instead of BEGIN, the statements and COMMIT):
//! `hongfan_uuid7()` makes ids in SQL for rows whose number the statement itself finds (one
//! inbox row per holder of a role; PostgreSQL 15 has no uuidv7), and
//! `hongfan_require(ok)` aborts the statement, and so everything it wrote, unless `ok`: the
//! guard of a compare-and-set whose miss sends the caller to its transaction path
//! (`infra::db::write_at_once`). SQLite needs neither: it takes the transaction path.
use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// The SQLSTATE `hongfan_require` raises.
pub const GUARD_UNMET: &str = "HF001";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        // Milliseconds since the epoch in the first 48 bits of a random (v4) uuid, whose
        // version nibble then turns from 4 into 7 (RFC 9562).
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION hongfan_uuid7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
               SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                 PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                 FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
             $$",
        )
        .await?;
        db.execute_unprepared(&format!(
            "CREATE OR REPLACE FUNCTION hongfan_require(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
             BEGIN
               IF ok IS NOT TRUE THEN
                 RAISE EXCEPTION 'the guard of a one-statement write was not met' USING ERRCODE = '{GUARD_UNMET}';
               END IF;
               RETURN true;
             END $$"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP FUNCTION IF EXISTS hongfan_require(boolean)")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS hongfan_uuid7()")
            .await?;
        Ok(())
    }
}
