//! The service certificate (志愿服务记录证明) as an A4 PDF, set in a bundled CJK font: who served,
//! where, over which period, the total confirmed hours and each record, and a verification
//! code with its QR code on every page.
use std::sync::LazyLock;

use chrono::NaiveDate;
use krilla::{
    Document,
    color::rgb,
    geom::{PathBuilder, Point, Rect},
    metadata::Metadata,
    num::NormalizedF32,
    page::PageSettings,
    paint::Fill,
    text::{Font, TextDirection},
};
use qrcode::QrCode;

/// WenQuanYi Micro Hei, cut down to Latin and CJK (see `api/assets/fonts/README.md`). The
/// staff console serves the same bytes to browsers that lack a CJK font.
pub const CJK_FONT: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei-hongfan.ttf");

/// A document embeds only the glyphs it uses.
static FONT: LazyLock<Option<Font>> = LazyLock::new(|| Font::new(CJK_FONT.into(), 0));

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 60.0;
const ROW_HEIGHT: f32 = 18.0;
const BODY_SIZE: f32 = 12.0;
const ROW_SIZE: f32 = 10.0;
/// Where the record table stops on each page, leaving room for the verification block.
const TABLE_BOTTOM: f32 = PAGE_HEIGHT - 190.0;
const QR_SIZE: f32 = 96.0;
/// Table columns: date, source, what, hours.
const COLUMNS: [f32; 4] = [
    MARGIN,
    MARGIN + 80.0,
    MARGIN + 150.0,
    PAGE_WIDTH - MARGIN - 70.0,
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the bundled font could not be read")]
    Font,
    #[error("the verification link does not fit a QR code")]
    Qr(#[from] qrcode::types::QrError),
    #[error("the PDF could not be written: {0:?}")]
    Pdf(krilla::error::KrillaError),
}

pub struct Certificate<'a> {
    pub holder_name: &'a str,
    pub issuer: &'a str,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total_minutes: i64,
    pub code: &'a str,
    pub verify_url: &'a str,
    pub issued_on: NaiveDate,
    pub lines: &'a [Line],
}

/// One confirmed service record.
pub struct Line {
    pub date: NaiveDate,
    /// 订单服务, 志愿活动 or 微心愿.
    pub source: &'static str,
    /// The order's, activity's or wish's title.
    pub what: String,
    pub minutes: i64,
}

/// Hours to at most two decimals, without trailing zeros: 135 minutes → "2.25".
pub fn hours_text(minutes: i64) -> String {
    let text = format!("{:.2}", super::rules::hours(minutes));
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

pub fn render(certificate: &Certificate<'_>) -> Result<Vec<u8>, RenderError> {
    let font = FONT.clone().ok_or(RenderError::Font)?;
    let qr = QrCode::new(certificate.verify_url.as_bytes())?;
    let chunks = paginate(certificate.lines);
    let pages = chunks.len();
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("志愿服务记录证明 {}", certificate.code))
            .creator("红帆".to_owned())
            .language("zh-CN".to_owned()),
    );
    for (index, lines) in chunks.into_iter().enumerate() {
        let a4 = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid page size");
        let mut page = document.start_page_with(a4);
        {
            let mut pen = Pen {
                surface: page.surface(),
                font: font.clone(),
            };
            let mut y = if index == 0 {
                pen.heading(certificate)
            } else {
                MARGIN + 20.0
            };
            y = pen.table(y, lines);
            if index + 1 == pages {
                let total = format!("合计：{} 小时", hours_text(certificate.total_minutes));
                pen.text(MARGIN, y + 24.0, BODY_SIZE, &total);
            }
            pen.verification(certificate, &qr, index + 1, pages);
            pen.surface.finish();
        }
        page.finish();
    }
    document.finish().map_err(RenderError::Pdf)
}

/// The records split over pages: fewer on the first, which carries the heading.
fn paginate(lines: &[Line]) -> Vec<&[Line]> {
    let first = ((TABLE_BOTTOM - 250.0) / ROW_HEIGHT) as usize;
    let later = ((TABLE_BOTTOM - MARGIN - 40.0) / ROW_HEIGHT) as usize;
    let mut chunks = vec![&lines[..first.min(lines.len())]];
    let mut rest = &lines[first.min(lines.len())..];
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(later.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

struct Pen<'a> {
    surface: krilla::surface::Surface<'a>,
    font: Font,
}

impl Pen<'_> {
    fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.surface.draw_text(
            Point::from_xy(x, y),
            self.font.clone(),
            size,
            text,
            false,
            TextDirection::Auto,
        );
    }

    /// Title and the certifying paragraph; returns where the table starts.
    fn heading(&mut self, certificate: &Certificate<'_>) -> f32 {
        let title = "志愿服务记录证明";
        let title_size = 24.0;
        self.text(
            (PAGE_WIDTH - width(title) * title_size) / 2.0,
            MARGIN + 40.0,
            title_size,
            title,
        );
        let paragraph = format!(
            "兹证明 {} 于 {} 至 {} 期间在{}参加志愿服务，经社区确认的服务时长共计 {} 小时（{} 条记录），记录如下。",
            certificate.holder_name,
            long_date(certificate.from),
            long_date(certificate.to),
            certificate.issuer,
            hours_text(certificate.total_minutes),
            certificate.lines.len(),
        );
        let mut y = MARGIN + 100.0;
        for line in wrap(&paragraph, (PAGE_WIDTH - 2.0 * MARGIN) / BODY_SIZE) {
            self.text(MARGIN, y, BODY_SIZE, &line);
            y += BODY_SIZE * 1.8;
        }
        y + 20.0
    }

    fn table(&mut self, mut y: f32, lines: &[Line]) -> f32 {
        for (column, label) in COLUMNS
            .iter()
            .zip(["日期", "来源", "服务内容", "时长（小时）"])
        {
            self.text(*column, y, ROW_SIZE, label);
        }
        self.rule(y + 6.0);
        let what_width = (COLUMNS[3] - COLUMNS[2] - 10.0) / ROW_SIZE;
        for line in lines {
            y += ROW_HEIGHT;
            self.text(COLUMNS[0], y, ROW_SIZE, &line.date.to_string());
            self.text(COLUMNS[1], y, ROW_SIZE, line.source);
            self.text(COLUMNS[2], y, ROW_SIZE, &truncate(&line.what, what_width));
            self.text(COLUMNS[3], y, ROW_SIZE, &hours_text(line.minutes));
        }
        y
    }

    fn rule(&mut self, y: f32) {
        if let Some(rect) = Rect::from_xywh(MARGIN, y, PAGE_WIDTH - 2.0 * MARGIN, 0.5) {
            self.fill_rects(&[rect]);
        }
    }

    /// Issuer, date, code and QR at the foot of every page, so each page can be checked alone.
    fn verification(
        &mut self,
        certificate: &Certificate<'_>,
        qr: &QrCode,
        page: usize,
        pages: usize,
    ) {
        let top = PAGE_HEIGHT - MARGIN - QR_SIZE;
        self.rule(top - 16.0);
        let lines = [
            format!("出具单位：{}", certificate.issuer),
            format!("出具日期：{}", long_date(certificate.issued_on)),
            format!("验证码：{}", certificate.code),
            "扫描右侧二维码或访问以下地址核验：".to_owned(),
            certificate.verify_url.to_owned(),
            format!("第 {page} 页，共 {pages} 页"),
        ];
        for (index, line) in lines.iter().enumerate() {
            self.text(MARGIN, top + 10.0 + index as f32 * 16.0, ROW_SIZE, line);
        }
        let modules = qr.width();
        let module = QR_SIZE / modules as f32;
        let left = PAGE_WIDTH - MARGIN - QR_SIZE;
        let dark: Vec<Rect> = qr
            .to_colors()
            .iter()
            .enumerate()
            .filter(|(_, color)| **color == qrcode::Color::Dark)
            .filter_map(|(index, _)| {
                let (row, column) = (index / modules, index % modules);
                Rect::from_xywh(
                    left + column as f32 * module,
                    top + row as f32 * module,
                    module,
                    module,
                )
            })
            .collect();
        self.fill_rects(&dark);
    }

    fn fill_rects(&mut self, rects: &[Rect]) {
        let mut path = PathBuilder::new();
        for rect in rects {
            path.push_rect(*rect);
        }
        if let Some(path) = path.finish() {
            self.surface.set_fill(Some(Fill {
                paint: rgb::Color::black().into(),
                opacity: NormalizedF32::ONE,
                rule: Default::default(),
            }));
            self.surface.draw_path(&path);
        }
    }
}

fn long_date(day: NaiveDate) -> String {
    day.format("%Y年%m月%d日").to_string()
}

/// Width in ems, near enough for layout: CJK and full-width forms take one, the rest a little
/// over half.
fn width(text: &str) -> f32 {
    text.chars().map(char_width).sum()
}

fn char_width(c: char) -> f32 {
    if c.is_ascii() { 0.55 } else { 1.0 }
}

/// Lines of at most `ems` wide, broken between characters (Chinese text has no spaces), but
/// never before closing punctuation, which may hang past the end.
fn wrap(text: &str, ems: f32) -> Vec<String> {
    let mut lines = vec![String::new()];
    let mut used = 0.0;
    for c in text.chars() {
        if used + char_width(c) > ems && !"，。、；：！？）》".contains(c) {
            lines.push(String::new());
            used = 0.0;
        }
        used += char_width(c);
        lines.last_mut().expect("never empty").push(c);
    }
    lines
}

fn truncate(text: &str, ems: f32) -> String {
    if width(text) <= ems {
        return text.to_owned();
    }
    let mut cut = wrap(text, ems - 1.0).swap_remove(0);
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_keep_two_decimals_at_most() {
        assert_eq!(hours_text(135), "2.25");
        assert_eq!(hours_text(90), "1.5");
        assert_eq!(hours_text(120), "2");
        assert_eq!(hours_text(1), "0.02");
        assert_eq!(hours_text(0), "0");
    }

    #[test]
    fn long_text_wraps_and_truncates_by_width() {
        let lines = wrap("志愿服务abc", 4.5);
        assert_eq!(lines, ["志愿服务", "abc"]);
        assert_eq!(wrap("志愿服务，好", 4.0), ["志愿服务，", "好"]);
        assert_eq!(truncate("清理楼道小广告", 4.0), "清理楼…");
        assert_eq!(truncate("清理", 4.0), "清理");
    }

    #[test]
    fn records_fill_pages_in_order() {
        let line = |minutes| Line {
            date: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            source: "志愿活动",
            what: "清理楼道".into(),
            minutes,
        };
        let lines: Vec<Line> = (0..100).map(line).collect();
        let pages = paginate(&lines);
        assert!(pages.len() > 2);
        assert_eq!(pages.iter().map(|page| page.len()).sum::<usize>(), 100);
        assert_eq!(pages[1][0].minutes, pages[0].len() as i64);
        assert_eq!(paginate(&[]).len(), 1);
    }

    #[test]
    fn a_certificate_reads_back_from_its_pdf() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 5).expect("date");
        let lines: Vec<Line> = (0..60)
            .map(|_| Line {
                date: day,
                source: "志愿活动",
                what: "清理楼道小广告".into(),
                minutes: 45,
            })
            .collect();
        let pdf = render(&Certificate {
            holder_name: "李建国",
            issuer: "凤凰社区",
            from: day,
            to: day,
            total_minutes: 45 * 60,
            code: "ABCD2345WXYZ",
            verify_url: "https://hongfan.example/certificates/ABCD2345WXYZ",
            issued_on: day,
            lines: &lines,
        })
        .expect("rendered");
        let document = lopdf::Document::load_mem(&pdf).expect("a PDF");
        let pages: Vec<u32> = document.get_pages().keys().copied().collect();
        assert_eq!(pages.len(), paginate(&lines).len());
        assert!(pages.len() > 1);
        let first = document.extract_text(&pages[..1]).expect("text");
        assert!(first.contains("兹证明 李建国 于 2026年03月05日"), "{first}");
        assert!(first.contains("凤凰社区"), "{first}");
        let last = document
            .extract_text(&pages[pages.len() - 1..])
            .expect("text");
        assert!(last.contains("合计：45 小时"), "{last}");
        assert!(last.contains("验证码：ABCD2345WXYZ"), "{last}");
    }
}
