// kakao-relay dashboard: plain ES2020, no build step, no external resources.
// Every piece of data reaches the DOM through textContent / createElement, never innerHTML.
'use strict';

(() => {
  const TOKEN_KEY = 'kakao-relay.adminToken';
  const REFRESH_MS = 5000;
  const LIMIT = 25;
  // The relay may live under a path prefix (/relay/dashboard/ → /relay/admin/api/).
  const BASE = location.pathname.replace(/dashboard(\/(index\.html)?)?$/, '');
  const API = `${BASE.endsWith('/') ? BASE : `${BASE}/`}admin/api/`;

  const $ = (id) => document.getElementById(id);
  const state = { token: null, timer: null, paused: false, loading: false, skewMs: 0 };

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // ---------- HTTP ----------

  async function api(path, { method = 'GET', body, token = state.token } = {}) {
    const headers = { Accept: 'application/json', Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (e) {
      throw new ApiError(0, 'NETWORK', `The relay could not be reached (${e.message}).`);
    }
    if (res.status === 204) return null;
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (!res.ok) {
      const message = data && typeof data.message === 'string' ? data.message : `HTTP ${res.status}`;
      throw new ApiError(res.status, data && data.code ? String(data.code) : 'HTTP_ERROR', message);
    }
    return data;
  }

  /** Handles an error of an authenticated call: 401 goes back to the login form, the rest is shown. */
  function handleError(e, what) {
    if (e instanceof ApiError && e.status === 401) {
      logout('The admin token was not accepted any more. Sign in again.');
      return;
    }
    const prefix = e instanceof ApiError && e.status === 429 ? 'Too many requests' : `Could not ${what}`;
    showBanner(`${prefix}: ${e.message}`);
  }

  // ---------- DOM helpers ----------

  /** createElement with text children; attrs are set as properties or data-* attributes. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'data') Object.assign(node.dataset, v);
      else if (k === 'title') node.title = String(v);
      else node.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const pad = (n) => String(n).padStart(2, '0');

  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    const now = new Date();
    if (d.toDateString() === now.toDateString()) return time;
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
  }

  const timeCell = (iso) => el('td', { class: 'nowrap', title: iso || '' }, fmtTime(iso));
  const idText = (id) => (id ? String(id).slice(0, 8) : '—');
  const idCell = (id) => el('td', { class: 'mono', title: id || '' }, idText(id));
  const badge = (status) =>
    el(
      'span',
      { class: `badge badge-${String(status).replace(/[^a-z_]/g, '')}`, title: status },
      String(status).replace(/_/g, ' '),
    );

  function fmtLeft(ms) {
    if (ms <= 0) return 'expired';
    const s = Math.floor(ms / 1000);
    return `${Math.floor(s / 60)}:${pad(s % 60)} left`;
  }

  function button(label, action, data, cls = 'small') {
    return el('button', { type: 'button', class: cls, data: { action, ...data } }, label);
  }

  function fillTable(bodyId, items, columns, rowFn, emptyText) {
    const rows = items.length
      ? items.map(rowFn)
      : [el('tr', {}, el('td', { class: 'empty', colspan: columns }, emptyText))];
    $(bodyId).replaceChildren(...rows);
  }

  function note(id, page, noun) {
    $(id).textContent = page.nextCursor ? `latest ${page.items.length} ${noun} shown` : '';
  }

  // ---------- views ----------

  function showBanner(text) {
    const b = $('banner');
    b.textContent = text;
    b.hidden = !text;
  }

  function showLogin(message) {
    $('app').hidden = true;
    $('controls').hidden = true;
    $('login').hidden = false;
    const err = $('login-error');
    err.textContent = message || '';
    err.hidden = !message;
    $('token').focus();
  }

  function showApp() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('controls').hidden = false;
  }

  /** Shows credentials returned by the API once; they are never fetched again. */
  function showSecret(title, entries, noteText) {
    $('secret-title').textContent = title;
    const rows = [];
    for (const [label, value, cls] of entries) {
      const shown = cls === 'plain' ? el('span', {}, value) : el('code', { class: cls }, value);
      rows.push(el('dt', {}, label), el('dd', {}, shown));
    }
    $('secret-body').replaceChildren(...rows);
    $('secret-note').textContent = noteText;
    $('secret').hidden = false;
  }

  function hideSecret() {
    $('secret').hidden = true;
    $('secret-body').replaceChildren();
  }

  function card(title, value, details = [], warn = false) {
    return el(
      'div',
      { class: warn ? 'stat warn' : 'stat' },
      el('div', { class: 'stat-title' }, title),
      el('div', { class: 'stat-value' }, value),
      el(
        'div',
        { class: 'stat-details' },
        ...details.flatMap((d, i) => [i ? ' · ' : null, el('span', {}, d)]),
      ),
    );
  }

  function renderOverview(o) {
    const s = o.sessions;
    const c = o.conversations;
    const i = o.inbound;
    const out = o.outbound;
    let cleanup = 'never';
    let cleanupDetails = [];
    if (o.lastCleanup) {
      cleanup = fmtTime(o.lastCleanup.finishedAt);
      cleanupDetails = Object.entries(o.lastCleanup.results || {}).map(([k, v]) => `${k} ${v}`);
    }
    $('overview-cards').replaceChildren(
      card('Accounts', o.accounts),
      card('Live sessions', s.pending_pairing + s.paired, [
        `${s.pending_pairing} pending`,
        `${s.paired} paired`,
        `${s.expired} expired`,
        `${s.disconnected} disconnected`,
      ]),
      card('Conversations', c.paired + c.unpaired, [`${c.paired} paired`, `${c.unpaired} unpaired`]),
      card(
        'Inbound messages',
        i.total,
        [
          `${i.queued} queued`,
          `${i.delivered} delivered`,
          `${i.replied} replied`,
          `${i.expired} expired`,
          `${i.failed} failed`,
        ],
        i.failed > 0,
      ),
      card(
        'Replies to Kakao',
        out.total,
        [`${out.pending} pending`, `${out.sent} sent`, `${out.failed} failed`],
        out.failed > 0,
      ),
      card('Agent streams', o.streams.connected, [
        `${o.streams.replicas} replica${o.streams.replicas === 1 ? '' : 's'}`,
      ]),
      card('Last cleanup', cleanup, cleanupDetails),
    );
  }

  function renderAccounts(page) {
    note('accounts-note', page, 'accounts');
    fillTable(
      'accounts-body',
      page.items,
      8,
      (a) =>
        el(
          'tr',
          { data: { accountId: a.id } },
          el('td', { class: 'mono' }, a.id),
          timeCell(a.createdAt),
          el('td', { class: 'num' }, `${a.pairedConversations} / ${a.conversations}`),
          el('td', { class: 'num' }, a.liveSessions),
          el('td', { class: 'num' }, a.lastSeq),
          timeCell(a.lastMessageAt),
          el('td', {}, a.hasRelayToken ? 'set' : '—'),
          el(
            'td',
            { class: 'actions' },
            button('New code', 'account-code', { id: a.id }),
            button('Relay token', 'relay-token', { id: a.id }),
            button('Delete', 'delete-account', { id: a.id }, 'small danger'),
          ),
        ),
      'No accounts yet: create a pairing code and pair a Kakao user with /pair.',
    );
  }

  function renderSessions(items, truncated) {
    $('sessions-note').textContent = truncated ? `latest sessions and every pending one shown` : '';
    fillTable(
      'sessions-body',
      items,
      7,
      (s) => {
        const live = s.status === 'pending_pairing' && s.pairingCode;
        const when = live
          ? el(
              'td',
              { class: 'nowrap countdown', data: { expires: s.expiresAt } },
              fmtLeft(Date.parse(s.expiresAt) - now()),
            )
          : el(
              'td',
              { class: 'nowrap', title: s.pairedAt || s.expiresAt },
              s.pairedAt ? `paired ${fmtTime(s.pairedAt)}` : '—',
            );
        const canDisconnect = s.status === 'pending_pairing' || s.status === 'paired';
        return el(
          'tr',
          { data: { sessionId: s.id, status: s.status } },
          el(
            'td',
            {},
            live ? el('code', { class: 'code' }, s.pairingCode) : el('span', { class: 'muted' }, '—'),
          ),
          el('td', {}, badge(s.status)),
          when,
          idCell(s.accountId),
          el('td', { class: 'mono', title: s.conversationKey || '' }, s.kakaoUserId || '—'),
          timeCell(s.createdAt),
          el(
            'td',
            { class: 'actions' },
            canDisconnect ? button('Disconnect', 'disconnect-session', { id: s.id }) : null,
            button('Delete', 'delete-session', { id: s.id }, 'small danger'),
          ),
        );
      },
      'No sessions.',
    );
  }

  function renderConversations(page) {
    note('conversations-note', page, 'conversations');
    fillTable(
      'conversations-body',
      page.items,
      7,
      (c) =>
        el(
          'tr',
          { data: { conversationId: c.id } },
          el('td', { class: 'mono' }, c.userId),
          el('td', { class: 'mono' }, c.channelId),
          el('td', {}, badge(c.state)),
          idCell(c.accountId),
          timeCell(c.pairedAt),
          timeCell(c.createdAt),
          el(
            'td',
            { class: 'actions' },
            button('Delete', 'delete-conversation', { id: c.id }, 'small danger'),
          ),
        ),
      'No Kakao users have written yet.',
    );
  }

  function renderMessages(page) {
    note('messages-note', page, 'messages');
    fillTable(
      'messages-body',
      page.items,
      6,
      (m) =>
        el(
          'tr',
          { data: { messageId: m.id } },
          timeCell(m.createdAt),
          idCell(m.accountId),
          el('td', { class: 'num' }, m.seq),
          el('td', { class: 'mono' }, m.userId),
          el('td', { class: 'text' }, m.text),
          el('td', {}, badge(m.status)),
        ),
      'No messages.',
    );
  }

  function renderFailures(page) {
    note('failures-note', page, 'failures');
    fillTable(
      'failures-body',
      page.items,
      7,
      (f) =>
        el(
          'tr',
          { data: { messageId: f.messageId } },
          timeCell(f.failedAt || f.createdAt),
          idCell(f.messageId),
          idCell(f.accountId),
          el('td', {}, f.mode),
          el('td', { class: 'num' }, f.attempts),
          el('td', { class: 'num' }, f.lastHttpStatus ?? '—'),
          el('td', { class: 'text' }, f.error || '—'),
        ),
      'No failed replies.',
    );
  }

  function renderPush(endpoints, failed) {
    note('push-note', failed, 'failed deliveries');
    fillTable(
      'push-endpoints-body',
      endpoints,
      5,
      (e) =>
        el(
          'tr',
          { data: { endpointId: e.id } },
          idCell(e.accountId),
          el('td', { class: 'mono text' }, e.url),
          el('td', { title: e.disabledReason || '' }, badge(e.enabled ? 'enabled' : 'disabled')),
          el('td', { class: 'num' }, e.failed),
          timeCell(e.updatedAt),
        ),
      'No push endpoint is failing.',
    );
    fillTable(
      'push-failed-body',
      failed.items,
      8,
      (d) =>
        el(
          'tr',
          { data: { deliveryId: d.id } },
          timeCell(d.createdAt),
          idCell(d.webhookId),
          idCell(d.accountId),
          el('td', {}, d.eventType),
          el('td', { class: 'num' }, d.attempts),
          el('td', { class: 'num' }, d.lastHttpStatus ?? '—'),
          el('td', { class: 'text' }, d.lastError || '—'),
          el('td', { class: 'actions' }, button('Redeliver', 'push-redeliver', { id: d.id })),
        ),
      'No failed push deliveries.',
    );
  }

  function renderWorksBots(page) {
    note('works-bots-note', page, 'bots');
    fillTable(
      'works-bots-body',
      page.items,
      5,
      (b) =>
        el(
          'tr',
          { data: { botId: b.botId } },
          el('td', {}, b.name || '—'),
          el('td', { class: 'mono' }, b.botId),
          el('td', {}, badge(b.enabled ? 'enabled' : 'disabled')),
          el('td', { class: 'mono' }, b.clientId),
          timeCell(b.createdAt),
        ),
      'No Works bots are registered (a bot of the WORKS_* variables is not listed).',
    );
  }

  function renderBotBindings(page) {
    note('bot-bindings-note', page, 'bindings');
    fillTable(
      'bot-bindings-body',
      page.items,
      5,
      (b) =>
        el(
          'tr',
          { data: { channel: b.channel, botId: b.botId } },
          el('td', {}, b.channel),
          el('td', { class: 'mono' }, b.botId),
          idCell(b.accountId),
          el('td', {}, badge(b.policy), b.policy === 'allowlist' ? ` ${b.allowlistCount} users` : ''),
          timeCell(b.updatedAt),
        ),
      'No bot is bound: every bot pairs its users with a code.',
    );
  }

  /** Late replies and proactive Kakao messages waiting to go out, and what became of them (server-mode §4). */
  function renderHeldAnswers(page) {
    note('held-answers-note', page, 'held answers');
    const via = { event_api: 'Event API', next_answer: 'next answer' };
    fillTable(
      'held-answers-body',
      page.items,
      9,
      (h) =>
        el(
          'tr',
          { data: { heldId: h.id } },
          timeCell(h.createdAt),
          el('td', {}, h.kind === 'proactive' ? 'proactive' : 'late reply'),
          idCell(h.accountId),
          el('td', { class: 'mono' }, h.conversationKey),
          el('td', {}, badge(h.status)),
          el('td', {}, via[h.sentVia] || '—'),
          el('td', { class: 'num' }, h.eventAttempts),
          timeCell(h.expiresAt),
          el('td', { class: 'text' }, h.error || '—'),
        ),
      'No held answers.',
    );
  }

  // ---------- refresh ----------

  const now = () => Date.now() + state.skewMs;

  async function refresh() {
    if (!state.token || state.loading) return;
    state.loading = true;
    try {
      // The overview goes first: a stale token then costs one failed login, not seven (they are rate limited).
      const overview = await api('overview');
      const [
        accounts,
        sessions,
        pending,
        conversations,
        messages,
        failures,
        worksBots,
        bindings,
        held,
        pushEndpoints,
        pushFailed,
      ] = await Promise.all([
        api(`accounts?limit=${LIMIT}`),
        api(`sessions?limit=${LIMIT}`),
        api('sessions?status=pending_pairing&limit=100'),
        api(`conversations?limit=${LIMIT}`),
        api(`messages?limit=${LIMIT}`),
        api(`failures?limit=${LIMIT}`),
        api(`works/bots?limit=${LIMIT}`),
        api(`bots/bindings?limit=${LIMIT}`),
        api(`held-answers?limit=${LIMIT}`),
        api('push-endpoints/failing'),
        api(`push-deliveries?status=failed&limit=${LIMIT}`),
      ]);
      const generated = Date.parse(overview.generatedAt);
      if (!Number.isNaN(generated)) state.skewMs = generated - Date.now();
      // Every pending session is listed, even when older than the latest page.
      const byId = new Map(sessions.items.map((s) => [s.id, s]));
      for (const s of pending.items) byId.set(s.id, s);
      const allSessions = [...byId.values()].sort(
        (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt),
      );

      renderOverview(overview);
      renderAccounts(accounts);
      renderSessions(allSessions, Boolean(sessions.nextCursor));
      renderConversations(conversations);
      renderMessages(messages);
      renderFailures(failures);
      renderWorksBots(worksBots);
      renderBotBindings(bindings);
      renderHeldAnswers(held);
      renderPush(pushEndpoints, pushFailed);
      showBanner('');
      $('updated').textContent =
        `Updated at ${fmtTime(new Date().toISOString())}${state.paused ? ' (paused)' : ''}`;
    } catch (e) {
      handleError(e, 'refresh');
    } finally {
      state.loading = false;
    }
  }

  function schedule() {
    clearInterval(state.timer);
    state.timer = setInterval(() => {
      if (!state.paused && !document.hidden) refresh();
    }, REFRESH_MS);
  }

  function tickCountdowns() {
    for (const cell of document.querySelectorAll('td.countdown')) {
      cell.textContent = fmtLeft(Date.parse(cell.dataset.expires) - now());
    }
  }

  // ---------- auth ----------

  async function login(token) {
    const submit = $('login-submit');
    submit.disabled = true;
    try {
      await api('overview', { token });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) showLogin('That token was not accepted.');
      else showLogin(e.message);
      return;
    } finally {
      submit.disabled = false;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    start(token);
  }

  function start(token) {
    state.token = token;
    $('token').value = '';
    showApp();
    refresh();
    schedule();
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    clearInterval(state.timer);
    hideSecret();
    showBanner('');
    for (const id of [
      'overview-cards',
      'accounts-body',
      'sessions-body',
      'conversations-body',
      'messages-body',
      'failures-body',
      'works-bots-body',
      'bot-bindings-body',
      'held-answers-body',
    ]) {
      $(id).replaceChildren();
    }
    showLogin(message);
  }

  // ---------- actions ----------

  async function createCode(accountId) {
    const created = await api('sessions', { method: 'POST', body: accountId ? { accountId } : {} });
    const minutes = Math.round(created.expiresIn / 60);
    showSecret(
      'New pairing code',
      [
        ['Pairing code', created.pairingCode, 'code big'],
        ['Session token', created.sessionToken, 'token'],
        created.accountId
          ? ['Account', created.accountId, 'token']
          : ['Account', 'a new account, created when the code is used', 'plain'],
      ],
      `The Kakao user sends "/pair ${created.pairingCode}" to the channel within ${minutes} minutes. ` +
        "The session token is the agent's credential: give it to the OpenClaw agent and keep it secret. " +
        'It is shown only this once.',
    );
  }

  async function mintRelayToken(accountId) {
    const res = await api(`accounts/${encodeURIComponent(accountId)}/relay-token`, { method: 'POST' });
    showSecret(
      'New relay token',
      [
        ['Account', res.accountId, 'token'],
        ['Relay token', res.relayToken, 'token'],
      ],
      "The account's previous relay token no longer works. This token is shown only this once; store it with the agent.",
    );
  }

  const ACTIONS = {
    'push-redeliver': (id) => api(`push-deliveries/${encodeURIComponent(id)}/redeliver`, { method: 'POST' }),
    'account-code': (id) => createCode(id),
    'relay-token': (id) =>
      confirm('Mint a new relay token for this account? The current one stops working.') &&
      mintRelayToken(id),
    'delete-account': (id) =>
      confirm(
        `Delete account ${id} with its sessions, conversations and messages? Its agents are disconnected.`,
      ) && api(`accounts/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    'disconnect-session': (id) =>
      confirm('Disconnect this session? Its agent stream is closed.') &&
      api(`sessions/${encodeURIComponent(id)}/disconnect`, { method: 'POST' }),
    'delete-session': (id) =>
      confirm('Delete this session? It is disconnected first.') &&
      api(`sessions/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    'delete-conversation': (id) =>
      confirm('Delete this conversation? The Kakao user is unpaired.') &&
      api(`conversations/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  };

  async function run(action, target) {
    target.disabled = true;
    try {
      if ((await action()) !== false) await refresh();
    } catch (e) {
      handleError(e, 'complete the action');
    } finally {
      target.disabled = false;
    }
  }

  // ---------- wiring ----------

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = $('token').value.trim();
      if (token) login(token);
    });
    $('logout').addEventListener('click', () => logout(''));
    $('refresh-now').addEventListener('click', () => refresh());
    $('pause').addEventListener('click', (ev) => {
      state.paused = !state.paused;
      ev.currentTarget.setAttribute('aria-pressed', String(state.paused));
      ev.currentTarget.textContent = state.paused ? 'Resume auto-refresh' : 'Pause auto-refresh';
      $('updated').textContent =
        $('updated').textContent.replace(/ \(paused\)$/, '') + (state.paused ? ' (paused)' : '');
    });
    $('new-code').addEventListener('click', (ev) => run(() => createCode(null), ev.currentTarget));
    $('secret-dismiss').addEventListener('click', hideSecret);
    $('app').addEventListener('click', (ev) => {
      const target = ev.target.closest('button[data-action]');
      if (!target || !ACTIONS[target.dataset.action]) return;
      run(() => ACTIONS[target.dataset.action](target.dataset.id), target);
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && !state.paused) refresh();
    });
    setInterval(tickCountdowns, 1000);

    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) start(saved);
    else showLogin('');
  });
})();
