//! Service certificates (志愿服务记录证明): a volunteer asks; the community's records certify.
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::{actor, parse_id, state};
use crate::points::{certificates::Issued, rules};

/// A certificate of confirmed volunteer service, as issued. Anyone holding its code can check
/// it at `verifyUrl`, which shows the holder's name, hours, period and issuer, nothing else.
#[derive(SimpleObject)]
pub struct ServiceCertificate {
    /// The verification code printed on it (with a QR code of `verifyUrl`).
    code: String,
    holder_name: String,
    /// The community that recorded the service and certifies it.
    issuer: String,
    /// China-time dates, both inclusive.
    from: NaiveDate,
    to: NaiveDate,
    total_minutes: i64,
    total_hours: f64,
    record_count: i32,
    issued_at: DateTime<Utc>,
    verify_url: String,
    /// A link to download the PDF, valid for 15 minutes; ask again for a new one.
    pdf_url: String,
}

#[derive(Default)]
pub struct CertificateMutation;

#[Object]
impl CertificateMutation {
    /// Certifies my confirmed volunteer service in a community (by default mine) from `from`
    /// to `to` (China-time dates, inclusive, at most three years, not after today) as a PDF.
    /// Asking again for the same records gives the same certificate; a new one counts
    /// against a budget of 10 an hour.
    async fn service_certificate(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        community_id: Option<ID>,
    ) -> Result<ServiceCertificate> {
        let actor = actor(ctx).await?;
        let community_id = community_id
            .map(|id| parse_id("communityId", &id))
            .transpose()?;
        let state = state(ctx)?;
        let Issued {
            certificate,
            pdf_url,
        } = state
            .certificates
            .issue(&state.db, actor, community_id, from, to)
            .await?;
        Ok(ServiceCertificate {
            verify_url: state.certificates.verify_url(&certificate.code),
            code: certificate.code,
            holder_name: certificate.holder_name,
            issuer: certificate.issuer,
            from: certificate.period_from,
            to: certificate.period_to,
            total_minutes: certificate.total_minutes,
            total_hours: rules::hours(certificate.total_minutes),
            record_count: certificate.record_count,
            issued_at: certificate.issued_at,
            pdf_url,
        })
    }
}
