//! Service certificates (志愿服务记录证明): what each issued certificate said, so that anyone
//! holding its code can check it, and where its PDF is kept.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServiceCertificates {
    Table,
    Id,
    Code,
    UserId,
    CommunityId,
    PeriodFrom,
    PeriodTo,
    HolderName,
    Issuer,
    TotalMinutes,
    RecordCount,
    Fingerprint,
    PdfKey,
    IssuedAt,
}

#[derive(DeriveIden)]
enum Communities {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceCertificates::Table)
                    .col(pk_uuid(ServiceCertificates::Id))
                    .col(string_uniq(ServiceCertificates::Code))
                    .col(uuid(ServiceCertificates::UserId))
                    .col(uuid(ServiceCertificates::CommunityId))
                    .col(date(ServiceCertificates::PeriodFrom))
                    .col(date(ServiceCertificates::PeriodTo))
                    .col(string(ServiceCertificates::HolderName))
                    .col(string(ServiceCertificates::Issuer))
                    .col(big_integer(ServiceCertificates::TotalMinutes))
                    .col(integer(ServiceCertificates::RecordCount))
                    .col(string(ServiceCertificates::Fingerprint))
                    .col(string(ServiceCertificates::PdfKey))
                    .col(timestamp_with_time_zone(ServiceCertificates::IssuedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceCertificates::Table, ServiceCertificates::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceCertificates::Table, ServiceCertificates::CommunityId)
                            .to(Communities::Table, Communities::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The same records certified twice give the same certificate.
        manager
            .create_index(
                Index::create()
                    .name("idx_service_certificates_content")
                    .table(ServiceCertificates::Table)
                    .col(ServiceCertificates::UserId)
                    .col(ServiceCertificates::Fingerprint)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceCertificates::Table).to_owned())
            .await
    }
}
