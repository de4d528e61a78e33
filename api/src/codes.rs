//! 小程序码 (mini-program codes) printed at an activity's sign-in desk or a merchant's counter:
//! scanning one opens the configured page with the activity's or merchant's id as `scene`.
//! Each is generated once with WeChat's `getwxacodeunlimit` and kept in object storage.
use std::time::Duration;

use base64::Engine;
use serde_json::json;
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    infra::{
        object_storage::ObjectStorage,
        wechat::{WechatApi, WechatError},
    },
};

/// A printed code is fetched once and saved by the app: the link may be short-lived.
const LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// What `getwxacodeunlimit` returns without `is_hyaline`.
const CODE_TYPE: &str = "image/jpeg";

/// What a code opens.
#[derive(Debug, Clone, Copy)]
pub enum CodeFor {
    ActivityCheckIn(Uuid),
    MerchantCounter(Uuid),
}

#[derive(Clone)]
pub struct MiniProgramCodes {
    pub storage: ObjectStorage,
    /// `None` without WeChat credentials (development): no codes.
    pub wechat: Option<WechatApi>,
    pub check_in_page: String,
    pub counter_page: String,
    pub console_login_page: String,
    /// release, trial or develop: which version of the mini-program a scan opens.
    pub env_version: String,
}

impl MiniProgramCodes {
    /// A link to the code's image, generating the image on first use.
    pub async fn link(&self, code: CodeFor) -> AppResult<String> {
        let (key, page, id) = match code {
            CodeFor::ActivityCheckIn(id) => (
                format!("codes/activities/{}.jpg", id.simple()),
                &self.check_in_page,
                id,
            ),
            CodeFor::MerchantCounter(id) => (
                format!("codes/merchants/{}.jpg", id.simple()),
                &self.counter_page,
                id,
            ),
        };
        if self.storage.size(&key).await?.is_none() {
            // Two instances generating the same code at once store the same image: harmless.
            let image = self.image(id, page).await?;
            self.storage.put(&key, CODE_TYPE, image).await?;
        }
        self.storage.read_link(&key, CODE_TYPE, LINK_TTL).await
    }

    /// A staff console's login code, as a `data:` URL: it lives as long as its ticket, so it
    /// is not stored. `None` without WeChat credentials (development), where the console
    /// logs in by openid instead.
    pub async fn console_login(&self, ticket: Uuid) -> AppResult<Option<String>> {
        if self.wechat.is_none() {
            return Ok(None);
        }
        let image = self.image(ticket, &self.console_login_page).await?;
        Ok(Some(format!(
            "data:{CODE_TYPE};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(image)
        )))
    }

    /// The image of a code opening `page` with `id` as its scene.
    async fn image(&self, id: Uuid, page: &str) -> AppResult<Vec<u8>> {
        let wechat = self.wechat.as_ref().ok_or_else(|| {
            AppError::Unavailable(
                "小程序码 need WeChat credentials (WECHAT_APPID, WECHAT_SECRET)".into(),
            )
        })?;
        // The id without hyphens is exactly the 32 characters `scene` allows.
        wechat
            .post_for_image(
                "/wxa/getwxacodeunlimit",
                &json!({
                    "scene": id.simple().to_string(),
                    "page": page,
                    "check_path": false,
                    "env_version": self.env_version,
                }),
            )
            .await
            .map_err(|error| match error {
                WechatError::Refused { errcode, errmsg } => AppError::Unavailable(format!(
                    "WeChat refused to generate the code ({errcode} {errmsg}); check the page \
                     setting"
                )),
                WechatError::Unavailable(why) => AppError::Unavailable(why),
            })
    }
}
