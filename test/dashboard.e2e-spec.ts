import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { pairAgent, PairedAgent, resetState, sendMessage, sql, userMessage, waitUntil } from '@app/testing';
import { RunningRelay, startRelay } from './support/test-app';
import { launchTestBrowser } from './support/browser';

const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';
const TOKEN_KEY = 'kakao-relay.adminToken';
const MESSAGE = '안녕하세요 대시보드';
// The README's screenshot is refreshed on request (DASHBOARD_SCREENSHOT=1 npm test), not by every run.
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT
  ? join(__dirname, '..', 'docs', 'dashboard.png')
  : join(tmpdir(), `kakao-relay-dashboard-${process.pid}.png`);
const CODE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/;

/** A headless Chromium (npm's @sparticuz/chromium, driven by playwright-core) against the dashboard a relay serves. */
describe('dashboard (browser e2e)', () => {
  let relay: RunningRelay;
  let agent: PairedAgent;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];

  const sessionToken = () => page.evaluate(`sessionStorage.getItem(${JSON.stringify(TOKEN_KEY)})`);

  beforeAll(async () => {
    await resetState();
    relay = await startRelay({ ADMIN_TOKEN, RELAY_SECRETS_KEY: randomBytes(32).toString('hex') });
    agent = await pairAgent(relay.url, 'dashboard-user');
    await sendMessage(relay.url, userMessage('dashboard-user', MESSAGE));

    // launch() starts from a fresh temporary profile; the context is fresh too.
    browser = await launchTestBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ko-KR' });
    page = await context.newPage();
    page.on('request', (req) => requests.push(req.url()));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await relay?.close();
  });

  it('asks for the token and refuses a wrong one', async () => {
    await page.goto(`${relay.url}/dashboard/`);
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#app').isVisible()).toBe(false);

    await page.fill('#token', 'not-the-admin-token-0123456789abc');
    await page.click('#login-submit');
    await page.locator('#login-error').waitFor({ state: 'visible' });
    expect(await page.locator('#login-error').textContent()).toMatch(/not accepted/);
    expect(await page.locator('#app').isVisible()).toBe(false);
    expect(await sessionToken()).toBeNull();
  });

  it('logs in, keeps the token in session storage and shows the paired account and the message', async () => {
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login-submit');
    await page.locator('#app').waitFor({ state: 'visible' });
    expect(await sessionToken()).toBe(ADMIN_TOKEN);

    const accountRow = page.locator(`#accounts-body tr[data-account-id="${agent.accountId}"]`);
    await accountRow.waitFor({ state: 'visible' });
    expect(await accountRow.textContent()).toContain(agent.accountId);
    await page.locator('#messages-body td', { hasText: MESSAGE }).waitFor({ state: 'visible' });
    await page.locator('#overview-cards .stat', { hasText: 'Accounts' }).waitFor();
    expect(await page.locator('#updated').textContent()).toMatch(/^Updated at \d\d:\d\d:\d\d/);
    expect(await page.locator('#sessions-body tr[data-status="paired"]').count()).toBe(1);
  });

  it('creates a pairing code from the page and lists it with the time left', async () => {
    await page.click('#new-code');
    const shown = page.locator('#secret code.code');
    await shown.waitFor({ state: 'visible' });
    const code = ((await shown.textContent()) ?? '').trim();
    expect(code).toMatch(CODE);
    expect(await page.locator('#secret').textContent()).toContain("agent's credential");

    const pending = await request(relay.url)
      .get('/admin/api/sessions?status=pending_pairing')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    const session = (pending.body.items as Array<{ id: string; pairingCode: string }>).find(
      (s) => s.pairingCode === code,
    );
    expect(session).toBeDefined();

    const row = page.locator(`#sessions-body tr[data-session-id="${session!.id}"]`);
    await row.waitFor({ state: 'visible' });
    expect(await row.locator('code.code').textContent()).toBe(code);
    expect(await row.textContent()).toMatch(/\d+:\d\d left/);

    // The page refreshes on its own: a session created elsewhere shows up without a reload.
    const other = await request(relay.url)
      .post('/admin/api/sessions')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({})
      .expect(201);
    await page
      .locator(`#sessions-body tr[data-session-id="${other.body.sessionId as string}"]`)
      .waitFor({ state: 'visible', timeout: 12_000 });
    await page.locator('#sessions-body tr[data-status="pending_pairing"]').nth(1).waitFor();

    mkdirSync(join(__dirname, '..', 'docs'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  }, 30_000);

  it('lists the registered Works bots (name, bot id, enabled), none of their secrets', async () => {
    const botSecret = `bot-secret-${randomBytes(8).toString('hex')}`;
    await request(relay.url)
      .post('/admin/api/works/bots')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({
        botId: '7000001',
        name: 'Dashboard bot',
        botSecret,
        clientId: 'dashboard-client',
        clientSecret: 'dashboard-client-secret',
        serviceAccount: 'svc@example.works',
        privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      })
      .expect(201);
    const row = page.locator('#works-bots-body tr[data-bot-id="7000001"]');
    await row.waitFor({ state: 'visible', timeout: 12_000 });
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('Dashboard bot');
    expect(text).toContain('enabled');
    expect(await page.content()).not.toContain(botSecret);
  }, 30_000);

  it('lists the bot bindings (channel, bot id, account, policy, allow-list size)', async () => {
    const [{ id }] = await sql<{ id: string }>('INSERT INTO accounts DEFAULT VALUES RETURNING id');
    await request(relay.url)
      .put('/admin/api/bots/kakao/dashboard-bot/binding')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ accountId: id, policy: 'allowlist', allowlist: ['u1', 'u2'] })
      .expect(200);
    const row = page.locator('#bot-bindings-body tr[data-bot-id="dashboard-bot"]');
    await row.waitFor({ state: 'visible', timeout: 12_000 });
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('kakao');
    expect(text).toContain('allowlist');
    expect(text).toContain('2 users');
  }, 30_000);

  it('lists held answers and their fate (server-mode §4)', async () => {
    const heldId = '0190a5c4-0000-7000-8000-00000000d001';
    await sql(
      `INSERT INTO held_answers (id, kind, account_id, conversation_key, bot_id, bot_user_key, replies, status,
                                 sent_via, expires_at)
       VALUES ($1, 'late_reply', $2, 'dashboard-bot:dashboard-user', 'dashboard-bot', 'k', '[]'::jsonb, 'sent',
               'event_api', now() + interval '1 day')`,
      [heldId, agent.accountId],
    );
    const row = page.locator(`#held-answers-body tr[data-held-id="${heldId}"]`);
    await row.waitFor({ state: 'visible', timeout: 12_000 });
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('late reply');
    expect(text).toContain('sent');
    expect(text).toContain('Event API');
  }, 30_000);

  it('lists failing push endpoints and failed deliveries, with a redeliver button', async () => {
    const put = await request(relay.url)
      .put(`/admin/api/accounts/${agent.accountId}/push-endpoint`)
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .send({ url: 'https://push.invalid/hook', events: ['error'] })
      .expect(200);
    // Sealed at rest with RELAY_SECRETS_KEY, never on the page.
    const [stored] = await sql<{ id: string; secret: string }>(
      `SELECT id, secret FROM push_endpoints WHERE account_id = $1`,
      [agent.accountId],
    );
    expect(stored.secret).toMatch(/^v1:/);
    const deliveryId = '00000000-0000-7000-8000-0000000d0001';
    await sql(
      `INSERT INTO push_deliveries (id, endpoint_id, account_id, webhook_id, event_type, body, status, attempts,
                                    last_http_status, last_error)
       VALUES ($1, $2, $3, 'evt_dashboard', 'reply.failed', '{}', 'failed', 8, 500, 'the receiver answered HTTP 500')`,
      [deliveryId, stored.id, agent.accountId],
    );
    const endpointRow = page.locator(`#push-endpoints-body tr[data-endpoint-id="${stored.id}"]`);
    await endpointRow.waitFor({ state: 'visible', timeout: 12_000 });
    expect(await endpointRow.textContent()).toContain('https://push.invalid/hook');
    const row = page.locator(`#push-failed-body tr[data-delivery-id="${deliveryId}"]`);
    await row.waitFor({ state: 'visible', timeout: 12_000 });
    expect(await row.textContent()).toContain('the receiver answered HTTP 500');
    expect(await page.content()).not.toContain(put.body.secret as string);
    await row.locator('button[data-action="push-redeliver"]').click();
    // One more attempt, same webhook-id (the host does not resolve, so it fails again and stays listed).
    await waitUntil(async () => {
      const [after] = await sql<{ attempts: number; status: string }>(
        `SELECT attempts, status FROM push_deliveries WHERE id = $1`,
        [deliveryId],
      );
      return after.attempts === 9 && after.status === 'failed';
    }, 12_000);
  }, 30_000);

  it('loaded nothing from elsewhere and logged no errors', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith(`${relay.url}/`))).toEqual([]);
    // The refused login is the only failed request; Chromium logs it as a console error.
    const unexpected = consoleErrors.filter(
      (text) => !/Failed to load resource: the server responded with a status of 401/.test(text),
    );
    expect(unexpected).toEqual([]);
    expect(consoleErrors.length).toBeLessThanOrEqual(1);
    expect(pageErrors).toEqual([]);
  });

  it('pauses and resumes the auto-refresh', async () => {
    await page.click('#pause');
    expect(await page.getAttribute('#pause', 'aria-pressed')).toBe('true');
    expect(await page.locator('#updated').textContent()).toMatch(/\(paused\)$/);
    await page.click('#pause');
    expect(await page.getAttribute('#pause', 'aria-pressed')).toBe('false');
    expect(await page.locator('#updated').textContent()).not.toMatch(/paused/);
  });

  it('logs out: the token leaves session storage and the login form is back', async () => {
    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await sessionToken()).toBeNull();
    expect(await page.locator('#accounts-body tr').count()).toBe(0);
  });
});
