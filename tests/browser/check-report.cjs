// Opens an HTML report in headless Chromium (Playwright drives Debian's chromium) and checks
// what the report promises: the page loads without console errors, requests nothing beyond
// its own file, and every chart is drawn (its pixels are not blank). Writes a full-page
// screenshot when asked.
//
//   node tests/browser/check-report.cjs REPORT.html [SCREENSHOT.png]
//
// Prints a JSON summary; exits 1 when a check fails. tests/cli/browser.rs runs it; .ci/run
// installs chromium and playwright-core (see docs/report.md).
const path = require('path');
const { chromium } = require('playwright-core');

async function main() {
  const [html, screenshot] = process.argv.slice(2);
  const url = 'file://' + path.resolve(html);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // This machine has no network: keep Chromium from trying to reach Google's services.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (r.url() !== url) problems.push(`request: ${r.url()}`);
    });
    const response = await page.goto(url, { waitUntil: 'load' });
    if (!response || !response.ok()) problems.push('the page did not load');
    await page.waitForLoadState('networkidle');

    const charts = [];
    for (const figure of await page.$$('figure.chart')) {
      const id = await figure.getAttribute('id');
      const svg = await figure.$('svg');
      const box = svg ? await svg.boundingBox() : null;
      if (!svg || !box || box.width < 100 || box.height < 50) {
        problems.push(`${id}: no chart area`);
        continue;
      }
      const png = await svg.screenshot();
      charts.push({ id, width: Math.round(box.width), height: Math.round(box.height), png });
    }
    // Count the inked pixels of each chart in a blank page, after all network checks: decoding
    // a data: URL is not a request, but there is nothing left to confuse it with either.
    const blank = await browser.newPage();
    for (const c of charts) {
      c.inked = await blank.evaluate(async (b64) => {
        const img = new Image();
        img.src = 'data:image/png;base64,' + b64;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const data = ctx.getImageData(0, 0, img.width, img.height).data;
        let inked = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (255 * 3 - (data[i] + data[i + 1] + data[i + 2]) > 60) inked++;
        }
        return inked / (img.width * img.height);
      }, c.png.toString('base64'));
      delete c.png;
      if (c.inked < 0.01) problems.push(`${c.id}: blank (${(c.inked * 100).toFixed(2)}% inked)`);
    }
    if (charts.length === 0) problems.push('no charts');
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    console.log(JSON.stringify({ url, charts, problems }, null, 1));
  } finally {
    await browser.close();
  }
  process.exit(problems.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
