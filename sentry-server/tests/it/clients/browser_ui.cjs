// Drives the web UI in headless Chromium (playwright-core with Debian's
// chromium): logs in, opens an issue, resolves it and looks under the
// resolved tab, taking screenshots on the way. It prints what it saw as
// one JSON line; the Rust test that runs it asserts on that.
//
// Environment: UI_URL, UI_EMAIL, UI_PASSWORD, UI_ISSUE (text of the issue
// link to open), UI_SETTINGS (path of a project's settings), SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium).
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

async function main() {
  const url = process.env.UI_URL;
  const shots = process.env.SCREENSHOT_DIR;
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "chromium-profile-"));
  // A fresh profile (--user-data-dir) per run.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const seen = { screenshots: [] };
  try {
    const page = await browser.newPage();
    const shot = async (name, fullPage) => {
      const file = path.join(shots, name);
      await page.screenshot({ path: file, fullPage });
      seen.screenshots.push(file);
    };

    await page.goto(`${url}/`);
    seen.login_url = new URL(page.url()).pathname;
    await page.fill("#email", process.env.UI_EMAIL);
    await page.fill("#password", process.env.UI_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
    seen.list_url = new URL(page.url()).pathname;
    seen.unresolved_before = await page.locator(".issue-row .issue-title").allInnerTexts();
    await shot("issue-list.png", false);

    await Promise.all([
      page.waitForNavigation(),
      page.locator(".issue-row .issue-title", { hasText: process.env.UI_ISSUE }).first().click(),
    ]);
    seen.detail_title = (await page.locator(".issue-heading h1").innerText()).trim();
    seen.frames = await page.locator(".frame .frame-function").allInnerTexts();
    seen.in_app_frames = await page.locator(".frame.in-app .frame-function").allInnerTexts();
    seen.visible_source = await page.locator(".frame[open] .source li.current code").allInnerTexts();
    await shot("issue-detail.png", true);

    await Promise.all([page.waitForNavigation(), page.click("button[value=resolve]")]);
    seen.status_after = (await page.locator("#issue-status").innerText()).trim();

    await page.goto(`${url}${seen.list_url}`);
    seen.unresolved_after = await page.locator(".issue-row .issue-title").allInnerTexts();
    await Promise.all([page.waitForNavigation(), page.locator(".tabs a", { hasText: /^Resolved$/ }).click()]);
    seen.resolved = await page.locator(".issue-row .issue-title").allInnerTexts();
    await shot("issue-list-resolved.png", false);

    // Settings: a broken fingerprint rule is refused in place.
    await page.goto(`${url}${process.env.UI_SETTINGS}`);
    await page.fill("#fingerprint-rules", "error.type:Foo -> ");
    await Promise.all([page.waitForNavigation(), page.click("#grouping button[type=submit]")]);
    seen.settings_error = (await page.locator("#grouping .field-error").innerText()).trim();
    await page.locator("#grouping").scrollIntoViewIfNeeded();
    await shot("project-settings.png", true);
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(seen) + "\n");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
