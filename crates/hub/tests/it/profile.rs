//! The Profile tab as partners use it, on SQLite and PostgreSQL: logos checked by their content
//! (PNG, JPEG, WebP accepted, resized and served under immutable hashed URLs; HTML behind a PNG
//! signature, SVG, GIF, oversized files and decompression bombs refused inline with nothing
//! stored), the brand name's rules, the Partner-Payment-only toggle, the Partner API's view of
//! all three, the previews of saved and unsaved values, roles and tenancy.

use crate::support::app::{Role, TestApp, for_each_backend};
use crate::webhooks::demo;
use domain::PartnerId;
use hub::clock::Clock as _;
use serde_json::{Value, json};
use std::io::Cursor;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// One part of a multipart form.
pub enum Part<'a> {
    Text(&'a str, &'a str),
    /// (field, file name, declared content type, bytes)
    File(&'a str, &'a str, &'a str, &'a [u8]),
}

const BOUNDARY: &str = "----partnerhub-test-boundary-7d1f";

/// A multipart/form-data body, built by hand so every byte (and every lie about the file) is ours.
pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
            }
            Part::File(name, file, kind, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: {kind}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn post_multipart(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    parts: &[Part<'_>],
) -> reqwest::Response {
    try_post_multipart(client, app, path, parts).await.unwrap()
}

/// [`post_multipart`], for a request the server may cut off while it is still being sent.
async fn try_post_multipart(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    parts: &[Part<'_>],
) -> Result<reqwest::Response, reqwest::Error> {
    client
        .post(app.link(path))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(parts))
        .send()
        .await
}

/// An image with a colour gradient (so encoders cannot make it trivially small).
fn picture(width: u32, height: u32, alpha: bool) -> image::DynamicImage {
    let rgba = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            ((x + y) % 256) as u8,
            if alpha { 200 } else { 255 },
        ])
    });
    let picture = image::DynamicImage::ImageRgba8(rgba);
    if alpha {
        picture
    } else {
        image::DynamicImage::ImageRgb8(picture.into_rgb8())
    }
}

pub fn encoded(picture: &image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut out), format)
        .unwrap();
    out
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    encoded(&picture(width, height, true), image::ImageFormat::Png)
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encoded(&picture(width, height, false), image::ImageFormat::Jpeg)
}

fn webp(width: u32, height: u32) -> Vec<u8> {
    encoded(&picture(width, height, true), image::ImageFormat::WebP)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid, tiny PNG whose header declares `side` × `side` pixels (a decompression bomb's
/// promise: decoding would allocate side² × 4 bytes).
fn png_declaring(side: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height; the CRC covers type+data.
    bytes[16..20].copy_from_slice(&side.to_be_bytes());
    bytes[20..24].copy_from_slice(&side.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// The smallest GIF there is (1×1, transparent).
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b";

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(app.link(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn tab(partner: &PartnerId) -> String {
    format!("/partner/{partner}/profile")
}

/// Save the profile form with a brand name and, optionally, a logo file.
async fn save(
    client: &reqwest::Client,
    app: &TestApp,
    partner: &PartnerId,
    brand: &str,
    logo: Option<(&str, &str, &[u8])>,
) -> reqwest::Response {
    let mut parts = vec![Part::Text("brand_name", brand)];
    if let Some((file, kind, bytes)) = logo {
        parts.push(Part::File("logo", file, kind, bytes));
    }
    post_multipart(client, app, &tab(partner), &parts).await
}

async fn audit_count(app: &TestApp, partner: &PartnerId, action: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE partner_id = $1 AND action = $2",
    )
    .bind(partner.as_str())
    .bind(action)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
}

async fn fetch_logo(app: &TestApp, url: &str) -> reqwest::Response {
    assert!(
        url.starts_with(&app.url),
        "logo_url is absolute on this server: {url}"
    );
    reqwest::Client::new().get(url).send().await.unwrap()
}

fn decoded_size(bytes: &[u8]) -> (u32, u32) {
    let picture = image::load_from_memory(bytes).unwrap();
    (picture.width(), picture.height())
}

async fn direct_payment_partner(app: &TestApp, owner: &str) -> PartnerId {
    let id = PartnerId::generate();
    store::partners::create(
        app.state.db.pool(),
        &store::partners::NewPartner {
            id: &id,
            name: "Direct Partner",
            currency: domain::Currency::Usd,
            payment_model: domain::PaymentModel::DirectPayment,
        },
        app.clock.now_ms(),
    )
    .await
    .unwrap();
    app.user(owner, "Dora Direct", &[(&id, Role::Owner)]).await;
    id
}

// ---------------------------------------------------------------------------------------------
// Accepted logos
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn png_jpeg_and_webp_logos_are_resized_stored_and_served_under_immutable_urls() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = &demo.partner;
        let olivia = app.login("owner@demo.test").await;
        assert!(demo.object(&app).await["logo_url"].is_null());

        // A wide PNG: stored within 512 × 512, aspect ratio kept.
        let res = save(
            &olivia,
            &app,
            p,
            "Acme Cloud",
            Some(("logo.png", "image/png", &png(1200, 600))),
        )
        .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        let (_, html) = page(&olivia, &app, &tab(p)).await;
        assert!(html.contains("Profile saved"), "flash");
        assert!(html.contains("512 × 256 px PNG"), "{html}");
        let partner = demo.object(&app).await;
        assert_eq!(partner["brand_name"], "Acme Cloud");
        let first_url = partner["logo_url"].as_str().unwrap().to_owned();
        assert!(first_url.contains(&format!("/logos/{p}/")) && first_url.ends_with(".png"));
        assert!(
            html.contains(&crate::support::app::path_of(&first_url)),
            "the tab shows it"
        );
        let res = fetch_logo(&app, &first_url).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(decoded_size(&bytes), (512, 256));

        // JPEG content under a .png name and an image/png label: the content decides.
        let res = save(
            &olivia,
            &app,
            p,
            "Acme Cloud",
            Some(("logo.png", "image/png", &jpeg(300, 300))),
        )
        .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        let second_url = demo.object(&app).await["logo_url"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(second_url, first_url, "a new logo gets a new URL");
        let res = fetch_logo(&app, &second_url).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            decoded_size(&res.bytes().await.unwrap()),
            (300, 300),
            "small logos keep their size"
        );
        assert_eq!(
            fetch_logo(&app, &first_url).await.status(),
            404,
            "an old hash is gone"
        );
        let jpeg_entries: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log
              WHERE partner_id = $1 AND action = 'partner.logo' AND detail LIKE 'JPEG upload%'",
        )
        .bind(p.as_str())
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(jpeg_entries, 1, "the audit log names what the content was");

        // A tall WebP with transparency.
        let res = save(
            &olivia,
            &app,
            p,
            "Acme Cloud",
            Some(("brand.webp", "image/webp", &webp(800, 1000))),
        )
        .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
        let url = demo.object(&app).await["logo_url"]
            .as_str()
            .unwrap()
            .to_owned();
        let bytes = fetch_logo(&app, &url).await.bytes().await.unwrap();
        assert_eq!(decoded_size(&bytes), (409, 512));
        assert_eq!(audit_count(&app, p, "partner.logo").await, 3);
        assert_eq!(audit_count(&app, p, "partner.brand_name").await, 3);

        // Saving without a file keeps the logo.
        let res = save(&olivia, &app, p, "Acme Cloud 2", None).await;
        assert_eq!(res.status(), 303);
        let partner = demo.object(&app).await;
        assert_eq!(partner["logo_url"], url.as_str());
        assert_eq!(partner["brand_name"], "Acme Cloud 2");

        // Unknown hashes, malformed names and other partners' ids name nothing.
        let other = app.partner("Other Partner").await;
        for path in [
            format!("/logos/{p}/{}.png", "0".repeat(32)),
            format!("/logos/{p}/not-a-hash.png"),
            crate::support::app::path_of(&url).replace(p.as_str(), other.as_str()),
            crate::support::app::path_of(&url).replace(".png", ".svg"),
        ] {
            let res = reqwest::get(app.link(&path)).await.unwrap();
            assert_eq!(res.status(), 404, "{path}");
        }

        // Remove (the button asks for confirmation first).
        let (_, html) = page(&olivia, &app, &tab(p)).await;
        assert!(html.contains("data-confirm=\"Remove the logo?"));
        let res = olivia
            .post(app.link(&format!("{}/logo/remove", tab(p))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert!(demo.object(&app).await["logo_url"].is_null());
        assert_eq!(fetch_logo(&app, &url).await.status(), 404);
        assert_eq!(audit_count(&app, p, "partner.logo.remove").await, 1);
        let (_, html) = page(&olivia, &app, &tab(p)).await;
        assert!(html.contains("Logo removed"));
        assert!(html.contains("id=\"no-logo\""));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Refused uploads
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malicious_and_unsupported_uploads_are_refused_inline_and_nothing_is_stored() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = &demo.partner;
        let olivia = app.login("owner@demo.test").await;
        let mut html_behind_png = b"\x89PNG\r\n\x1a\n".to_vec();
        html_behind_png.extend_from_slice(b"<html><body><script>alert(document.cookie)</script></body></html>");
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>"#;
        let huge: Vec<u8> = {
            // 20 MB that start like a PNG.
            let mut v = png(8, 8);
            v.resize(20 * 1024 * 1024, 0x42);
            v
        };
        let just_over: Vec<u8> = {
            let mut v = png(8, 8);
            v.resize(domain::logo::MAX_UPLOAD_BYTES + 1, 0);
            v
        };
        let bomb = png_declaring(60_000);
        let cases: [(&str, &str, &[u8], u16, &str); 6] = [
            ("logo.png", "image/png", &html_behind_png, 422, "starts like a PNG image but is not a valid one"),
            ("logo.svg", "image/svg+xml", svg, 422, "SVG logos are not accepted; upload PNG, JPEG or WebP"),
            ("logo.png", "image/png", svg, 422, "SVG logos are not accepted"),
            ("logo.gif", "image/gif", GIF, 422, "not a PNG, JPEG or WebP image"),
            ("logo.png", "image/png", &bomb, 422, "more than 4096 × 4096 pixels"),
            ("logo.png", "image/png", &just_over, 413, "larger than 1 MB"),
        ];
        for (file, kind, bytes, status, message) in cases {
            let res = save(&olivia, &app, p, "Typed Brand", Some((file, kind, bytes))).await;
            assert_eq!(res.status(), status, "{file} ({} bytes)", bytes.len());
            let html = res.text().await.unwrap();
            assert!(html.contains(message), "{file}: {message}\n{html}");
            assert!(html.contains("id=\"logo-error\""), "inline, next to the field");
            assert!(html.contains("value=\"Typed Brand\""), "the typed brand name stays");
            assert!(!html.contains("<script>alert"), "nothing of the upload is echoed");
            assert!(store::logos::meta(app.state.db.pool(), p).await.unwrap().is_none(), "{file}");
            let partner = demo.object(&app).await;
            assert!(partner["logo_url"].is_null());
            assert!(partner["brand_name"].is_null(), "a refused form stores nothing at all");
        }
        // 20 MB: the Hub stops reading past its limit and answers 413 with the page at once.
        // Whether a client still writing the body reads that page or sees the connection cut
        // depends on timing (browsers alike), so either is accepted; nothing may be stored.
        let huge_form = [
            Part::Text("brand_name", "Typed Brand"),
            Part::File("logo", "logo.png", "image/png", &huge),
        ];
        let sent = try_post_multipart(&olivia, &app, &tab(p), &huge_form).await;
        match sent {
            Ok(res) => {
                assert_eq!(res.status(), 413);
                assert!(res.text().await.unwrap().contains("larger than 1 MB"));
            }
            Err(err) => assert!(err.is_request(), "only the upload may be cut: {err}"),
        }
        assert!(store::logos::meta(app.state.db.pool(), p).await.unwrap().is_none());
        assert!(demo.object(&app).await["brand_name"].is_null());

        // The same checks guard the unsaved preview.
        let res = post_multipart(&olivia, &app, &format!("{}/preview", tab(p)), &[
            Part::Text("brand_name", "Typed Brand"),
            Part::File("logo", "x.png", "image/png", &bomb),
        ]).await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("more than 4096 × 4096 pixels"));
        assert_eq!(audit_count(&app, p, "partner.logo").await, 0);

        // A form that is not multipart is a clear 400, not a crash.
        let res = olivia.post(app.link(&tab(p))).form(&[("brand_name", "x")]).send().await.unwrap();
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains("could not be read"));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Brand name
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn brand_names_are_trimmed_and_bounded_and_refusals_keep_the_typed_value() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = &demo.partner;
        let olivia = app.login("owner@demo.test").await;
        let long = "x".repeat(81);
        // Far longer than the field (issue 15, item 3): its own message, not "logo too large".
        let pasted = "y".repeat(5_000);
        for (typed, message) in [
            ("   ", "is required"),
            (long.as_str(), "must be at most 80 characters"),
            (pasted.as_str(), "must be at most 80 characters"),
        ] {
            let res = save(&olivia, &app, p, typed, None).await;
            assert_eq!(res.status(), 422);
            let html = res.text().await.unwrap();
            assert!(
                html.contains(&format!("The brand name {message}")),
                "{html}"
            );
            assert!(html.contains(&format!("value=\"{typed}\"")), "kept");
            assert!(html.contains("aria-invalid=\"true\""));
        }
        // The field lets a person type exactly what the server accepts.
        let (_, html) = page(&olivia, &app, &tab(p)).await;
        assert!(
            html.contains("name=\"brand_name\" maxlength=\"80\""),
            "{html}"
        );
        // A form too large in all says so, and not that the logo is.
        let res = post_multipart(
            &olivia,
            &app,
            &tab(p),
            &[Part::Text("brand_name", &"z".repeat(1_200_000))],
        )
        .await;
        assert_eq!(res.status(), 413);
        let html = res.text().await.unwrap();
        assert!(html.contains("The form is larger than"), "{html}");
        assert!(
            !html.contains("larger than 1 MB</"),
            "blames the logo: {html}"
        );
        // A good logo with a bad brand name: nothing is stored.
        let res = save(
            &olivia,
            &app,
            p,
            "",
            Some(("l.png", "image/png", &png(10, 10))),
        )
        .await;
        assert_eq!(res.status(), 422);
        assert!(
            store::logos::meta(app.state.db.pool(), p)
                .await
                .unwrap()
                .is_none()
        );

        let eighty = "é".repeat(80);
        let res = save(&olivia, &app, p, &format!("  {eighty}  "), None).await;
        assert_eq!(res.status(), 303);
        assert_eq!(demo.object(&app).await["brand_name"], eighty.as_str());
        // Escaped on the way out.
        let res = save(&olivia, &app, p, "<b>Bold</b> & Co", None).await;
        assert_eq!(res.status(), 303);
        let (_, html) = page(&olivia, &app, &tab(p)).await;
        assert!(
            html.contains("&#60;b&#62;Bold&#60;/b&#62; &#38; Co")
                || html.contains("&lt;b&gt;Bold&lt;/b&gt; &amp; Co"),
            "{html}"
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Allow clients to add phone number
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_number_toggle_is_for_partner_payment_partners_only() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = &demo.partner;
        let olivia = app.login("owner@demo.test").await;
        let (_, html) = page(&olivia, &app, &tab(p)).await;
        assert!(html.contains("Allow clients to add phone number"));
        assert!(
            html.contains(
                "id=\"allow-numbers\" name=\"allow_client_to_add_phone_no\" value=\"on\" checked"
            ),
            "on by default"
        );
        assert_eq!(
            demo.object(&app).await["allow_client_to_add_phone_no"],
            true
        );

        // Unticked: the browser sends only the marker.
        let res = post_multipart(
            &olivia,
            &app,
            &tab(p),
            &[
                Part::Text("brand_name", "Demo"),
                Part::Text("toggle_shown", "1"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            demo.object(&app).await["allow_client_to_add_phone_no"],
            false
        );
        let (_, html) = page(&olivia, &app, &tab(p)).await;
        assert!(!html.contains("value=\"on\" checked"));
        assert_eq!(
            audit_count(&app, p, "partner.allow_client_to_add_phone_no").await,
            1
        );
        let res = post_multipart(
            &olivia,
            &app,
            &tab(p),
            &[
                Part::Text("brand_name", "Demo"),
                Part::Text("toggle_shown", "1"),
                Part::Text("allow_client_to_add_phone_no", "on"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            demo.object(&app).await["allow_client_to_add_phone_no"],
            true
        );

        // Direct-Payment: no toggle, and a forged one is refused with the reason.
        let direct = direct_payment_partner(&app, "owner@direct.test").await;
        let dora = app.login("owner@direct.test").await;
        let (status, html) = page(&dora, &app, &tab(&direct)).await;
        assert_eq!(status, 200);
        assert!(!html.contains("Allow clients to add phone number"));
        let res = post_multipart(
            &dora,
            &app,
            &tab(&direct),
            &[
                Part::Text("brand_name", "Direct Brand"),
                Part::Text("toggle_shown", "1"),
                Part::Text("allow_client_to_add_phone_no", "on"),
            ],
        )
        .await;
        assert_eq!(res.status(), 422);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("applies to Partner-Payment partners only"),
            "{html}"
        );
        assert!(html.contains("value=\"Direct Brand\""));
        let settings = store::partners::settings(app.state.db.pool(), &direct)
            .await
            .unwrap()
            .unwrap();
        assert!(
            settings.brand_name.is_none(),
            "nothing of the forged form is stored"
        );
        let res = post_multipart(
            &dora,
            &app,
            &tab(&direct),
            &[Part::Text("brand_name", "Direct Brand")],
        )
        .await;
        assert_eq!(res.status(), 303);

        let api = app.api(&app.api_key(&direct).await);
        let url = app.link(&format!("/api/v2/partners/{direct}"));
        let res = api
            .patch(&url)
            .json(&json!({"allow_client_to_add_phone_no": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["meta"]["http_code"], 422);
        assert!(
            body["meta"]["developer_message"]
                .as_str()
                .unwrap()
                .contains("Partner-Payment partners only")
        );
        let partner: Value = api.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            partner["allow_client_to_add_phone_no"], true,
            "Direct-Payment clients may always add numbers"
        );
        assert_eq!(partner["brand_name"], "Direct Brand");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Partner API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_partner_api_patches_brand_name_and_the_toggle_and_refuses_wrong_types() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = &demo.partner;
        let patch = |body: Value| demo.api.patch(demo.url(&app, "")).json(&body).send();

        let res = patch(json!({"brand_name": "  Acme  ", "allow_client_to_add_phone_no": false}))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["brand_name"], "Acme");
        assert_eq!(body["allow_client_to_add_phone_no"], false);
        assert_eq!(audit_count(&app, p, "partner.brand_name").await, 1);
        assert_eq!(
            audit_count(&app, p, "partner.allow_client_to_add_phone_no").await,
            1
        );

        for (bad, detail) in [
            (json!({"allow_client_to_add_phone_no": "yes"}), "body: "),
            (json!({"allow_client_to_add_phone_no": 1}), "body: "),
            (json!({"brand_name": 5}), "body: "),
            (
                json!({"brand_name": "x".repeat(81)}),
                "brand_name: must be at most 80 characters",
            ),
            (json!({"brand_name": "   "}), "brand_name: is required"),
        ] {
            let res = patch(bad.clone()).await.unwrap();
            assert_eq!(res.status(), 400, "{bad}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["meta"]["success"], false);
            assert_eq!(body["meta"]["http_code"], 400);
            assert!(
                body["meta"]["details"][0]
                    .as_str()
                    .unwrap()
                    .starts_with(detail),
                "{bad}: {body}"
            );
        }
        let body = demo.object(&app).await;
        assert_eq!(body["brand_name"], "Acme", "refused patches change nothing");
        assert_eq!(body["allow_client_to_add_phone_no"], false);

        let res = patch(json!({"brand_name": null, "allow_client_to_add_phone_no": true}))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert!(body["brand_name"].is_null());
        assert_eq!(body["allow_client_to_add_phone_no"], true);

        // Members read but cannot patch.
        let max = app.api_bearer(&app.bearer("member@demo.test").await);
        let res = max
            .patch(demo.url(&app, ""))
            .json(&json!({"allow_client_to_add_phone_no": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert_eq!(
            demo.object(&app).await["allow_client_to_add_phone_no"],
            true
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Preview
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn previews_show_saved_or_unsaved_values_with_the_platform_branding_and_nothing_leaks() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = &demo.partner;
        let olivia = app.login("owner@demo.test").await;
        let preview = format!("{}/preview", tab(p));

        // Nothing saved yet: the partner's name stands in for the brand name.
        let (status, html) = page(&olivia, &app, &format!("{preview}?screen=onboarding")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Preview — this is what your clients see"));
        assert!(html.contains("id=\"partner-brand-name\">Demo Partner<"));
        assert!(
            html.contains("id=\"platform-brand\""),
            "the platform's branding is always there"
        );
        assert!(!html.contains("id=\"partner-logo\""));
        for field in [
            "name=\"name\"",
            "name=\"email\"",
            "name=\"password\"",
            "name=\"company\"",
            "Log in instead",
        ] {
            assert!(html.contains(field), "{field}");
        }
        assert!(html.contains("<fieldset disabled>"), "inert");
        assert!(
            html.contains("<form id=\"signup-form\">"),
            "no method, no action"
        );

        let res = save(
            &olivia,
            &app,
            p,
            "Saved Brand",
            Some(("l.png", "image/png", &png(64, 64))),
        )
        .await;
        assert_eq!(res.status(), 303);
        let saved_logo = demo.object(&app).await["logo_url"]
            .as_str()
            .unwrap()
            .to_owned();

        // Unsaved values: shown in the preview, never stored.
        let res = post_multipart(
            &olivia,
            &app,
            &preview,
            &[
                Part::Text("brand_name", "Unsaved Brand"),
                Part::File("logo", "new.jpg", "image/jpeg", &jpeg(900, 300)),
                Part::Text("screen", "migration"),
            ],
        )
        .await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"partner-brand-name\">Unsaved Brand<"));
        assert!(
            html.contains("src=\"data:image/png;base64,"),
            "the unsaved logo is inlined"
        );
        assert!(html.contains("Not saved yet"));
        assert!(html.contains("Bring your number") && html.contains("Request code"));
        assert!(html.contains("id=\"platform-brand\""));
        let data = html.split("src=\"data:image/png;base64,").nth(1).unwrap();
        let data = &data[..data.find('"').unwrap()];
        use base64::Engine as _;
        let inlined = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap();
        assert_eq!(
            decoded_size(&inlined),
            (512, 170),
            "checked and resized like a saved one"
        );

        let partner = demo.object(&app).await;
        assert_eq!(partner["brand_name"], "Saved Brand");
        assert_eq!(partner["logo_url"], saved_logo.as_str());
        let (_, html) = page(&olivia, &app, &format!("{preview}?screen=migration")).await;
        assert!(html.contains("id=\"partner-brand-name\">Saved Brand<"));
        assert!(html.contains(&crate::support::app::path_of(&saved_logo)));
        assert!(!html.contains("data:image"));
        assert!(!html.contains("Unsaved Brand"));
        assert_eq!(audit_count(&app, p, "partner.logo").await, 1);

        // An unsaved preview without a new file shows the saved logo with the unsaved name.
        let res = post_multipart(
            &olivia,
            &app,
            &preview,
            &[Part::Text("brand_name", "Only Name")],
        )
        .await;
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"partner-brand-name\">Only Name<"));
        assert!(html.contains(&crate::support::app::path_of(&saved_logo)));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Roles and tenancy
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn members_read_the_profile_and_other_partners_cannot_touch_it() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = &demo.partner;
        let olivia = app.login("owner@demo.test").await;
        let res = save(
            &olivia,
            &app,
            p,
            "Demo Brand",
            Some(("l.png", "image/png", &png(32, 32))),
        )
        .await;
        assert_eq!(res.status(), 303);
        let before = demo.object(&app).await;

        let max = app.login("member@demo.test").await;
        let (status, html) = page(&max, &app, &tab(p)).await;
        assert_eq!(status, 200, "read-only, never an error page");
        assert!(html.contains("Only Owners can change it"));
        assert!(html.contains("id=\"brand-name-value\">Demo Brand<"));
        assert!(!html.contains("id=\"profile-form\""));
        assert!(!html.contains("id=\"remove-logo\""));
        let (status, _) = page(&max, &app, &format!("{}/preview?screen=migration", tab(p))).await;
        assert_eq!(status, 200, "Members may look at the preview");
        let upload = [
            Part::Text("brand_name", "Member Brand"),
            Part::File("logo", "l.png", "image/png", &png(16, 16)),
        ];
        let res = post_multipart(&max, &app, &tab(p), &upload).await;
        assert_eq!(res.status(), 403);
        let res = post_multipart(&max, &app, &format!("{}/preview", tab(p)), &upload).await;
        assert_eq!(res.status(), 403);
        let res = max
            .post(app.link(&format!("{}/logo/remove", tab(p))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);

        let other = app.partner("Other Partner").await;
        app.user("owner@other.test", "Oscar Other", &[(&other, Role::Owner)])
            .await;
        let oscar = app.login("owner@other.test").await;
        for path in [tab(p), format!("{}/preview?screen=onboarding", tab(p))] {
            let (status, html) = page(&oscar, &app, &path).await;
            assert_eq!(status, 404, "{path}");
            assert!(!html.contains("Demo Brand"));
        }
        let res = post_multipart(&oscar, &app, &tab(p), &upload).await;
        assert_eq!(res.status(), 404);
        let res = post_multipart(&oscar, &app, &format!("{}/preview", tab(p)), &upload).await;
        assert_eq!(res.status(), 404);
        let res = oscar
            .post(app.link(&format!("{}/logo/remove", tab(p))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let oscar_api = app.api_bearer(&app.bearer("owner@other.test").await);
        let res = oscar_api
            .patch(demo.url(&app, ""))
            .json(&json!({"brand_name": "pwned", "allow_client_to_add_phone_no": false}))
            .send()
            .await
            .unwrap();
        assert!(matches!(res.status().as_u16(), 403 | 404));

        assert_eq!(demo.object(&app).await, before, "nothing changed");
        // Oscar's own profile is his alone.
        let res = save(&oscar, &app, &other, "Other Brand", None).await;
        assert_eq!(res.status(), 303);
        assert_eq!(demo.object(&app).await["brand_name"], "Demo Brand");
    })
    .await;
}

/// The process's peak resident memory in MiB since the last reset (Linux `VmHWM`).
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

/// Eight large logos sent at once queue for the decoder instead of each taking 64 MB at the same
/// time (the issue saw 113 → 757 MB). Storage plays no part, so SQLite alone is enough; the test
/// runs in its own process under nextest, so the peak is this test's.
#[tokio::test]
async fn many_large_logos_at_once_are_decoded_a_few_at_a_time() {
    use crate::support::app::{Backend, Options};
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    let partner = app
        .partner_named("Big Logos")
        .with_owner("owner@big.test", "Bea Big")
        .build()
        .await
        .id;
    let client = app.login("owner@big.test").await;
    // One colour compresses to a few kB, yet decodes to 4096 × 4096 × 4 bytes.
    let flat = image::DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
        4096,
        4096,
        image::Rgba([30, 120, 200, 255]),
    ));
    let big = encoded(&flat, image::ImageFormat::Png);
    drop(flat);
    assert!(big.len() < 1024 * 1024, "{} bytes", big.len());
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = peak_rss_mib();
    let mut uploads = tokio::task::JoinSet::new();
    for i in 0..8 {
        let brand = format!("Big {i}");
        let body = multipart(&[
            Part::Text("brand_name", &brand),
            Part::File("logo", "big.png", "image/png", &big),
        ]);
        let request = client
            .post(app.link(&tab(&partner)))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body);
        uploads.spawn(async move { request.send().await.unwrap().status() });
    }
    while let Some(status) = uploads.join_next().await {
        let status = status.unwrap();
        assert!(status.is_success() || status.is_redirection(), "{status}");
    }
    let grew = peak_rss_mib().saturating_sub(before);
    eprintln!("peak resident memory grew by {grew} MiB for 8 concurrent 4096² logos");
    assert!(
        grew < 300,
        "eight decodes at once took {grew} MiB more; at most two should run together"
    );
}
