// The NATO Multimedia account page: one shell, one view per path, all
// data from the HTTP API. The registration password is kept in this
// module's memory only (never in storage) until the account is verified,
// because verifying sends it with the code.

import { api, ApiError, hasSession } from './api.js';
import {
  h, replace, announce, messageArea, field, invalid, sentence,
  formatSize, formatDuration, durationWords, formatDate, formatTime, formatName,
} from './dom.js';
import { passwordField, refusal } from './password.js';

const SITE = 'NATO Multimedia account';
const RESEND_WAIT_MS = 60 * 1000; // the API's least time between two codes

const state = {
  me: null, // GET /api/me, or null when logged out
  email: '', // the address being registered or verified
  password: '', // the registration password, until verified
  codeSentAt: 0, // when the last verification code was asked for
  reset: { step: 'ask', email: '', sentAt: 0, from: '/' },
  lastPath: '/',
};

const main = () => document.getElementById('main');

// ---------------------------------------------------------------- routing

const routes = [
  [/^\/$/, viewHome],
  [/^\/register$/, viewRegister],
  [/^\/verify$/, viewVerify],
  [/^\/login$/, viewLogin],
  [/^\/reset-password$/, viewReset],
  [/^\/account$/, viewAccount],
  [/^\/videos$/, viewVideos],
  [/^\/articles\/([^/]+)$/, viewArticle],
];

/** Goes to an in-page path and renders it. */
export function navigate(to, { replaceState = false } = {}) {
  const from = location.pathname + location.search;
  if (from !== to) {
    if (replaceState) history.replaceState({}, '', to);
    else history.pushState({}, '', to);
  }
  render(from);
}

let renderSeq = 0;

async function render(previous) {
  const seq = ++renderSeq;
  const path = location.pathname;
  if (previous && previous !== location.pathname + location.search) state.lastPath = previous;
  const root = main();
  for (const [re, view] of routes) {
    const m = path.match(re);
    if (m) {
      root.classList.remove('narrow');
      const content = await view(...m.slice(1).map(decodeURIComponent));
      if (seq !== renderSeq) return; // a newer navigation won
      replace(root, content);
      renderAccountNav();
      focusHeading(root);
      return;
    }
  }
  replace(root, notFound('We could not find that page', 'The address may be mistyped, or the page may have moved.'));
  document.title = `Page not found · ${SITE}`;
  focusHeading(root);
}

let firstRender = true;

/**
 * Titles the document after the view's h1 and, after an in-page
 * navigation (not on the first load), moves focus to it, so that screen
 * readers announce the new view and Tab continues from there.
 */
function focusHeading(root) {
  const h1 = root.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    document.title = `${h1.textContent} · ${SITE}`;
    if (!firstRender) h1.focus();
  }
  firstRender = false;
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  if (a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  if (!routes.some(([re]) => re.test(url.pathname))) return;
  ev.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', () => render());

/** A safe in-page path from ?next=, or fallback. */
function nextPath(fallback = '/') {
  const next = new URLSearchParams(location.search).get('next') || '';
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/api') ? next : fallback;
}

// ---------------------------------------------------------------- session

async function loadMe() {
  if (!hasSession()) { state.me = null; return null; }
  try {
    state.me = await api('GET', '/api/me');
  } catch (e) {
    state.me = null;
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      // An ended session (logout elsewhere, password reset): drop its cookies.
      try { await api('DELETE', '/api/portal/session'); } catch { /* nothing to do */ }
    }
  }
  return state.me;
}

async function logIn(email, password) {
  await api('POST', '/api/portal/session', { email, password });
  await loadMe();
  if (!state.me) state.me = { email, status: 'verified', newsletter: false };
}

async function logOut() {
  try { await api('DELETE', '/api/portal/session'); } catch { /* cookies are cleared or stale */ }
  state.me = null;
  navigate('/');
  announce('You are logged out.');
}

function renderAccountNav() {
  const nav = document.getElementById('account-nav');
  if (!nav) return;
  if (state.me) {
    replace(nav,
      h('span', { class: 'who' }, h('span', { class: 'visually-hidden' }, 'Logged in as '), state.me.email),
      h('a', { href: '/account' }, 'My account'),
      h('button', { type: 'button', class: 'link-button', onclick: logOut }, 'Log out'));
  } else {
    replace(nav,
      h('a', { href: `/login?next=${encodeURIComponent(location.pathname)}` }, 'Log in'),
      h('a', { href: '/register', class: 'nav-cta' }, 'Register'));
  }
}

/** Runs fn with the button busy; errors land in msg. */
async function busy(button, msg, fn) {
  if (button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  button.classList.add('busy');
  msg.clear();
  try {
    await fn();
  } catch (e) {
    msg.error(e instanceof ApiError ? errorContent(e) : 'Something went wrong on this page. Reload it and try again.');
    if (!(e instanceof ApiError)) console.error(e); // eslint-disable-line no-console
  } finally {
    button.removeAttribute('aria-busy');
    button.classList.remove('busy');
  }
}

/** The words of a refusal, with where to go when that helps. */
function errorContent(e) {
  const parts = [e.message];
  const violations = e.details && e.details.violations;
  if (Array.isArray(violations) && violations.length) {
    parts.push(h('ul', {}, violations.map((v) => h('li', {}, sentence(`the password ${v.message}`)))));
  }
  if (e.code === 'account_not_verified') {
    parts.push(' ', h('a', { href: `/verify?email=${encodeURIComponent(state.email || (state.me && state.me.email) || '')}` }, 'Enter your verification code'));
  }
  if (e.code === 'invalid_credentials') {
    // An unverified address answers like a wrong password (so a login
    // tells nobody whether an address is taken): offer both ways on.
    parts.push(' ', h('a', { href: '/reset-password' }, 'Reset password'),
      ' · Not verified yet? ', h('a', { href: `/verify?email=${encodeURIComponent(state.email || '')}` }, 'Enter your verification code'));
  }
  return parts;
}

// ---------------------------------------------------------------- views

function page(title, ...content) {
  return h('section', { class: 'panel' }, h('h1', {}, title), ...content);
}

function narrow(node) {
  main().classList.add('narrow');
  return node;
}

function notFound(title, text) {
  return h('section', { class: 'panel' }, h('h1', {}, title), h('p', {}, text),
    h('p', { class: 'actions' }, h('a', { class: 'button', href: '/' }, 'Go to the home page'),
      h('a', { class: 'button secondary', href: '/videos' }, 'Browse the videos')));
}

async function viewHome() {
  const [articles] = await Promise.all([
    api('GET', '/api/articles?limit=3').catch(() => null),
    loadMe(),
  ]);
  const hero = h('section', { class: 'hero' },
    h('p', { class: 'eyebrow' }, 'NATO Multimedia account'),
    h('h1', {}, 'Access NATO’s broadcast-quality video content free of charge'),
    h('p', { class: 'lead' }, 'Create an account to download news footage, interviews and stock shots in broadcast MXF and MP4, free of charge.'),
    state.me
      ? h('p', { class: 'actions' }, h('a', { class: 'button', href: '/videos' }, 'Browse the videos'))
      : h('p', { class: 'actions' },
        h('a', { class: 'button', href: '/register' }, 'Create an account'),
        h('a', { class: 'button secondary', href: '/login' }, 'Log in')));
  const news = h('section', { class: 'articles', 'aria-labelledby': 'latest-articles' },
    h('h2', { id: 'latest-articles' }, 'Latest articles'),
    articles && articles.articles && articles.articles.length
      ? h('ul', { class: 'article-list' }, articles.articles.map((a) => h('li', {},
        h('a', { href: `/articles/${encodeURIComponent(a.slug)}` }, a.title),
        h('p', { class: 'meta' }, h('time', { datetime: a.published_at }, formatDate(a.published_at))),
        a.summary ? h('p', { class: 'summary' }, a.summary) : null)))
      : h('p', {}, articles ? 'No articles yet.' : 'The articles could not be loaded.'));
  const side = h('div', { class: 'home-side' }, state.me ? newsletterPanel() : null, news);
  const videos = await videoCatalogue({ headingLevel: 'h2', title: 'Videos' });
  return h('div', { class: 'home' }, hero, h('div', { class: 'home-grid' }, videos, side));
}

// Registration --------------------------------------------------------------

function viewRegister() {
  const msg = messageArea();
  const email = field({ label: 'Email address', type: 'email', name: 'email', autocomplete: 'email', value: state.email || null });
  const pw = passwordField({ label: 'Password', name: 'password', getEmail: () => email.input.value });
  const news = h('input', { type: 'checkbox', id: 'register-newsletter', name: 'newsletter' });
  const submit = h('button', { type: 'submit' }, 'Create an account');
  const form = h('form', { novalidate: true, 'aria-describedby': 'register-intro' },
    msg.el, email.wrap, pw.wrap,
    h('div', { class: 'check' }, news, h('label', { for: 'register-newsletter' }, 'Subscribe to our newsletter')),
    h('p', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const address = email.input.value.trim();
    invalid(email.input, false);
    invalid(pw.input, false);
    if (!address || !address.includes('@')) {
      invalid(email.input, true);
      msg.error('Enter your email address, like name@example.com.');
      email.input.focus();
      return;
    }
    const broken = pw.check();
    if (broken.length) {
      invalid(pw.input, true);
      msg.error(refusal(broken));
      pw.input.focus();
      return;
    }
    busy(submit, msg, async () => {
      await api('POST', '/api/accounts', { email: address, password: pw.input.value, newsletter: news.checked });
      state.email = address;
      state.password = pw.input.value;
      state.codeSentAt = Date.now();
      rememberSent('verify', address, state.codeSentAt);
      navigate('/verify');
    }).then(() => {
      if (msg.failed()) {
        const e = msg.el.textContent.toLowerCase();
        if (e.includes('password')) { invalid(pw.input, true); pw.input.focus(); } else if (e.includes('email')) { invalid(email.input, true); email.input.focus(); }
      }
    });
  });
  return narrow(page('Create an account',
    h('p', { id: 'register-intro', class: 'lead' }, 'Register to download NATO’s broadcast-quality videos free of charge. We will email you a code to confirm your address.'),
    form,
    h('p', { class: 'aside' }, 'Already have an account? ', h('a', { href: '/login' }, 'Log in'))));
}

/**
 * When a code was last asked for this address and purpose: kept in
 * sessionStorage (a time, nothing secret) so that a reload still knows
 * when the next one can be sent.
 */
function sentAt(kind, email) {
  try { return Number(sessionStorage.getItem(`mm-code-${kind}-${email}`)) || 0; } catch { return 0; }
}

function rememberSent(kind, email, t) {
  try { sessionStorage.setItem(`mm-code-${kind}-${email}`, String(t)); } catch { /* private mode: memory only */ }
}

/** "Didn't receive a code?" with "Send new code" and when it can be sent. */
function resendBlock(getEmail, getSentAt, setSentAt, path, msg) {
  const when = h('p', { class: 'hint', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'secondary' }, 'Send new code');
  let timer = 0;
  const refresh = () => {
    const next = getSentAt() + RESEND_WAIT_MS;
    const wait = next - Date.now();
    if (getSentAt() && wait > 0) {
      button.setAttribute('aria-disabled', 'true');
      when.textContent = `You can send a new code at ${formatTime(new Date(next))}.`;
      clearTimeout(timer);
      timer = setTimeout(() => { if (button.isConnected) refresh(); }, Math.min(wait, 1000 * 30) + 50);
    } else {
      button.removeAttribute('aria-disabled');
      when.textContent = 'You can send a new code now.';
    }
  };
  button.addEventListener('click', () => {
    const address = getEmail();
    if (!address) {
      msg.error('Enter your email address first.');
      return;
    }
    if (button.getAttribute('aria-disabled') === 'true') {
      msg.info(when.textContent);
      return;
    }
    busy(button, msg, async () => {
      await api('POST', path, { email: address });
      setSentAt(Date.now());
      msg.info(`If ${address} needs a code, a new one is on its way. It expires in 30 minutes.`);
      refresh();
    });
  });
  refresh();
  return h('div', { class: 'resend' }, h('p', {}, h('strong', {}, 'Didn\'t receive a code?'), ' ', button), when);
}

function viewVerify() {
  const msg = messageArea();
  const fromQuery = new URLSearchParams(location.search).get('email') || '';
  if (!state.email && fromQuery) state.email = fromQuery;
  const knownEmail = state.email;
  const email = knownEmail ? null : field({ label: 'Email address', type: 'email', name: 'email', autocomplete: 'email' });
  const password = state.password ? null : field({
    label: 'Password', type: 'password', name: 'password', autocomplete: 'current-password',
    hint: 'The password you chose when you created the account.',
  });
  const code = field({ label: 'Verification code', name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric' });
  const submit = h('button', { type: 'submit' }, 'Verify');
  const getEmail = () => (email ? email.input.value.trim() : knownEmail);
  const form = h('form', { novalidate: true },
    msg.el, email && email.wrap, password && password.wrap, code.wrap,
    h('p', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const address = getEmail();
    const pw = password ? password.input.value : state.password;
    const c = code.input.value.replace(/\s+/g, '');
    for (const f of [email, password, code]) if (f) invalid(f.input, false);
    if (email && !address) { invalid(email.input, true); msg.error('Enter the email address you registered with.'); email.input.focus(); return; }
    if (password && !pw) { invalid(password.input, true); msg.error('Enter the password you chose when you created the account.'); password.input.focus(); return; }
    if (!c) { invalid(code.input, true); msg.error('Enter the verification code from the email.'); code.input.focus(); return; }
    busy(submit, msg, async () => {
      await api('POST', '/api/accounts/verify', { email: address, code: c, password: pw });
      state.email = address;
      let loggedIn = true;
      try { await logIn(address, pw); } catch { loggedIn = false; }
      state.password = ''; // verified: the page stops holding it
      replace(main(), verifiedView(loggedIn));
      renderAccountNav();
      focusHeading(main());
      announce('You have successfully created your account.');
    }).then(() => { if (msg.failed()) { invalid(code.input, true); code.input.focus(); } });
  });
  const sentTo = knownEmail
    ? ['We have sent a verification code to your email address ', h('strong', {}, knownEmail), '. ']
    : ['We have sent a verification code to your email address. '];
  return narrow(page('Check your inbox and enter verification code',
    h('p', { class: 'lead' }, ...sentTo, 'Enter the code to verify your account. ', h('strong', {}, 'This code will expire in 30 minutes.')),
    form,
    resendBlock(getEmail, () => Math.max(state.codeSentAt, sentAt('verify', getEmail())),
      (t) => { state.codeSentAt = t; rememberSent('verify', getEmail(), t); }, '/api/accounts/verification-code', msg)));
}

function verifiedView(loggedIn) {
  return narrow(h('section', { class: 'panel success' },
    h('h1', {}, 'You have successfully created your account'),
    h('p', { class: 'lead' }, 'From now on you can download videos from our website'),
    loggedIn ? newsletterPanel() : h('p', {}, h('a', { class: 'button', href: '/login' }, 'Log in')),
    h('p', { class: 'actions' }, h('a', { class: 'button secondary', href: '/videos' }, 'Browse the videos'))));
}

// Newsletter ------------------------------------------------------------------

function newsletterPanel() {
  const box = h('section', { class: 'newsletter', 'aria-labelledby': 'newsletter-title' });
  const msg = messageArea();
  const draw = () => {
    const subscribed = state.me && state.me.newsletter;
    const button = h('button', { type: 'button', class: subscribed ? 'secondary' : '' }, subscribed ? 'Unsubscribe' : 'Subscribe to our newsletter');
    button.addEventListener('click', () => busy(button, msg, async () => {
      const res = await api('PUT', '/api/me/newsletter', { subscribed: !subscribed });
      state.me = { ...state.me, newsletter: res.subscribed };
      draw();
      announce(res.subscribed ? 'You are subscribed to the newsletter.' : 'You are no longer subscribed to the newsletter.');
      box.querySelector('button').focus();
    }));
    replace(box,
      h('h2', { id: 'newsletter-title' }, 'Newsletter'),
      subscribed
        ? h('p', { class: 'state-on' }, 'You are subscribed to the newsletter')
        : h('p', {}, 'If you would also like to subscribe to the newsletter and receive our latest updates, click on the button below.'),
      msg.el,
      h('p', { class: 'actions' }, button));
  };
  draw();
  return box;
}

// My account: download my data, delete my account ----------------------------

async function viewAccount() {
  await loadMe();
  if (!state.me) {
    return narrow(page('My account',
      h('p', {}, 'Log in to see your account, download your data or delete your account.'),
      h('p', { class: 'actions' }, h('a', { class: 'button', href: '/login?next=%2Faccount' }, 'Log in'))));
  }
  return narrow(page('My account',
    h('p', { class: 'lead' }, `You are logged in as ${state.me.email}.`),
    exportPanel(),
    erasePanel()));
}

function exportPanel() {
  const msg = messageArea();
  const button = h('button', { type: 'button' }, 'Download my data');
  button.addEventListener('click', () => busy(button, msg, async () => {
    const data = await api('GET', '/api/me/export');
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: 'my-data.json', hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60 * 1000);
    msg.info('Your data has been downloaded as my-data.json.');
  }));
  return h('section', { class: 'account-data', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title' }, 'Download my data'),
    h('p', {}, 'Everything we hold about you, in one file: your profile, your newsletter choices, every download and every login with its time and address.'),
    msg.el,
    h('p', { class: 'actions' }, button));
}

function erasePanel() {
  const msg = messageArea();
  const password = field({ label: 'Password', type: 'password', name: 'erase-password', autocomplete: 'current-password',
    hint: 'Enter your password to confirm.' });
  const submit = h('button', { type: 'submit', class: 'danger' }, 'Delete my account');
  const form = h('form', { novalidate: true }, msg.el, password.wrap, h('p', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    invalid(password.input, !password.input.value);
    if (!password.input.value) {
      msg.error('Enter your password to confirm that you want to delete your account.');
      password.input.focus();
      return;
    }
    busy(submit, msg, async () => {
      await api('DELETE', '/api/me', { password: password.input.value });
      state.me = null;
      state.email = '';
      renderAccountNav();
      replace(main(), narrow(page('Your account has been deleted',
        h('p', { class: 'lead' }, 'Your address, your logins and the addresses they came from can no longer be read by anyone. Your downloads still count in the anonymous statistics.'),
        h('p', { class: 'actions' }, h('a', { class: 'button', href: '/' }, 'Go to the home page')))));
      focusHeading(main());
      announce('Your account has been deleted.');
    }).then(() => { if (msg.failed()) { invalid(password.input, true); password.input.focus(); } });
  });
  return h('section', { class: 'account-erase', 'aria-labelledby': 'erase-title' },
    h('h2', { id: 'erase-title' }, 'Delete my account'),
    h('p', {}, 'This cannot be undone. Your account, your address and your login history are erased; you can register again with the same address later.'),
    form);
}

// Log in ----------------------------------------------------------------------

function viewLogin() {
  const msg = messageArea();
  const email = field({ label: 'Email address', type: 'email', name: 'email', autocomplete: 'username', value: state.email || null });
  const password = field({ label: 'Password', type: 'password', name: 'password', autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { novalidate: true }, msg.el, email.wrap, password.wrap,
    h('p', { class: 'actions' }, submit, h('a', { href: '/reset-password' }, 'Reset password')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const address = email.input.value.trim();
    invalid(email.input, !address);
    invalid(password.input, !password.input.value);
    if (!address || !password.input.value) {
      msg.error('Enter your email address and your password.');
      (address ? password.input : email.input).focus();
      return;
    }
    state.email = address;
    busy(submit, msg, async () => {
      await logIn(address, password.input.value);
      navigate(nextPath('/'));
      announce(`You are logged in as ${address}.`);
    }).then(() => { if (msg.failed()) password.input.focus(); });
  });
  return narrow(page('Log in',
    state.me ? h('p', { class: 'notice' }, `You are logged in as ${state.me.email}.`) : null,
    form,
    h('p', { class: 'aside' }, 'No account yet? ', h('a', { href: '/register' }, 'Create an account'))));
}

// Password reset --------------------------------------------------------------

function viewReset() {
  const r = state.reset;
  if (r.step === 'ask' || !r.email) {
    if (state.lastPath && !state.lastPath.startsWith('/reset-password')) r.from = state.lastPath;
    return resetAsk();
  }
  if (r.step === 'done') return resetDone();
  return resetConfirm();
}

function resetAsk() {
  const r = state.reset;
  const msg = messageArea();
  const email = field({ label: 'Email address', type: 'email', name: 'email', autocomplete: 'email', value: r.email || state.email || (state.me && state.me.email) || null });
  const submit = h('button', { type: 'submit' }, 'Reset password');
  const form = h('form', { novalidate: true }, msg.el, email.wrap, h('p', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const address = email.input.value.trim();
    invalid(email.input, !address);
    if (!address) { msg.error('Enter the email address you registered with.'); email.input.focus(); return; }
    busy(submit, msg, async () => {
      await api('POST', '/api/password-resets', { email: address });
      Object.assign(r, { step: 'confirm', email: address, sentAt: Date.now() });
      rememberSent('reset', address, r.sentAt);
      render();
    });
  });
  return narrow(page('Reset password',
    h('p', { class: 'lead' }, 'Enter the email address you registered with and we will send you a code to reset your password.'),
    form,
    h('p', { class: 'aside' }, 'Remembered it? ', h('a', { href: '/login' }, 'Log in'))));
}

function resetConfirm() {
  const r = state.reset;
  const msg = messageArea();
  const code = field({ label: 'Verification code', name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric' });
  const pw = passwordField({ label: 'New password', name: 'new-password', getEmail: () => r.email });
  const submit = h('button', { type: 'submit' }, 'Create a new password');
  const form = h('form', { novalidate: true }, msg.el, code.wrap, pw.wrap, h('p', { class: 'actions' }, submit));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const c = code.input.value.replace(/\s+/g, '');
    invalid(code.input, !c);
    invalid(pw.input, false);
    if (!c) { msg.error('Enter the verification code from the email.'); code.input.focus(); return; }
    const broken = pw.check();
    if (broken.length) { invalid(pw.input, true); msg.error(refusal(broken)); pw.input.focus(); return; }
    busy(submit, msg, async () => {
      await api('POST', '/api/password-resets/confirm', { email: r.email, code: c, new_password: pw.input.value });
      // Every session of the account has ended: forget this one too.
      if (hasSession()) { try { await api('DELETE', '/api/portal/session'); } catch { /* stale */ } }
      state.me = null;
      state.email = r.email;
      r.step = 'done';
      render();
    }).then(() => {
      if (msg.failed()) {
        const bad = msg.el.textContent.toLowerCase().includes('password');
        invalid(bad ? pw.input : code.input, true);
        (bad ? pw.input : code.input).focus();
      }
    });
  });
  const other = h('a', { href: '/reset-password' }, 'Use another email address');
  other.addEventListener('click', () => { r.step = 'ask'; });
  return narrow(page('Check your inbox and enter verification code',
    h('p', { class: 'lead' }, 'We have sent a verification code to your email address ', h('strong', {}, r.email),
      '. Enter the code to reset your password. ', h('strong', {}, 'This code will expire in 30 minutes.')),
    form,
    resendBlock(() => r.email, () => Math.max(r.sentAt, sentAt('reset', r.email)),
      (t) => { r.sentAt = t; rememberSent('reset', r.email, t); }, '/api/password-resets', msg),
    h('p', { class: 'aside' }, other)));
}

function resetDone() {
  const r = state.reset;
  const back = r.from && r.from !== '/login' && !r.from.startsWith('/login?') ? r.from : nextPathOf(r.from);
  const button = h('button', { type: 'button' }, 'Return and log in');
  button.addEventListener('click', () => {
    state.reset = { step: 'ask', email: '', sentAt: 0, from: '/' };
    navigate(`/login?next=${encodeURIComponent(back)}`);
  });
  return narrow(h('section', { class: 'panel success' },
    h('h1', {}, 'Your password has been updated'),
    h('p', { class: 'lead' }, 'Click the button to return to the page you were on and log in with your new password.'),
    h('p', { class: 'actions' }, button)));
}

function nextPathOf(path) {
  try {
    const next = new URL(path || '/', location.origin).searchParams.get('next') || '/';
    return next.startsWith('/') && !next.startsWith('//') ? next : '/';
  } catch { return '/'; }
}

// Videos ------------------------------------------------------------------------

async function viewVideos() {
  await loadMe();
  return videoCatalogue({ headingLevel: 'h1', title: 'Videos' });
}

/** Where a person who cannot download should go, or null. */
function downloadBlocker() {
  if (!state.me) {
    return ['To download videos, log in. ', h('a', { href: `/login?next=${encodeURIComponent(location.pathname)}` }, 'Log in'),
      ' or ', h('a', { href: '/register' }, 'create an account'), ': it is free.'];
  }
  if (state.me.status && state.me.status !== 'verified') {
    return ['Your account is not verified yet, so you cannot download. ',
      h('a', { href: `/verify?email=${encodeURIComponent(state.me.email)}` }, 'Enter the code we emailed you'), '.'];
  }
  return null;
}

async function videoCatalogue({ headingLevel, title }) {
  const section = h('section', { class: 'catalogue', 'aria-labelledby': 'videos-title' });
  const msg = messageArea();
  const list = h('ul', { class: 'video-grid' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more videos');
  let cursor = '';
  const load = async () => {
    const q = new URLSearchParams({ limit: '12' });
    if (cursor) q.set('cursor', cursor);
    const page = await api('GET', `/api/videos?${q}`);
    for (const v of page.videos || []) list.append(videoCard(v, msg));
    cursor = page.next || '';
    more.hidden = !cursor;
    if (!list.children.length) list.replaceWith(h('p', {}, 'No videos are published yet.'));
  };
  more.addEventListener('click', () => busy(more, msg, load));
  const blocker = downloadBlocker();
  replace(section,
    h(headingLevel, { id: 'videos-title' }, title),
    blocker ? h('p', { class: 'notice' }, ...blocker) : h('p', { class: 'hint' }, 'Choose a format to download. Downloads are recorded with your account.'),
    msg.el, list, h('p', { class: 'actions' }, more));
  try {
    await load();
  } catch (e) {
    msg.error(e instanceof ApiError ? e.message : 'The videos could not be loaded.');
  }
  return section;
}

function videoCard(v, msg) {
  const titleId = `video-${v.video_id}`;
  const formats = (v.formats || []).map((f) => {
    const button = h('button', { type: 'button', class: 'download', 'aria-describedby': titleId },
      h('span', { class: 'dl-word' }, 'Download'),
      h('span', { class: 'dl-format' }, formatName(f.format)),
      h('span', { class: 'dl-size' }, formatSize(f.size_bytes)));
    button.addEventListener('click', () => download(v, f, button, msg));
    return h('li', {}, button);
  });
  return h('li', { class: 'video-card' },
    h('div', { class: 'thumb', 'aria-hidden': 'true' },
      h('span', { class: 'play' }), h('span', { class: 'badge' }, formatDuration(v.duration_seconds))),
    h('div', { class: 'video-body' },
      h('h3', { id: titleId }, v.title),
      h('p', { class: 'meta' },
        h('span', {}, h('span', { class: 'visually-hidden' }, 'Duration: '),
          h('time', { datetime: `PT${Math.round(v.duration_seconds || 0)}S`, 'aria-label': durationWords(v.duration_seconds) }, formatDuration(v.duration_seconds))),
        ' · ', h('span', { class: 'count', 'data-count': Number(v.downloads || 0) }, downloadsText(v.downloads))),
      v.description ? h('p', { class: 'description' }, v.description) : null,
      h('ul', { class: 'formats', 'aria-label': `Formats of ${v.title}` }, formats)));
}

function downloadsText(n) {
  const c = Number(n || 0);
  return `${c.toLocaleString('en-GB')} download${c === 1 ? '' : 's'}`;
}

async function download(v, f, button, msg) {
  const blocker = downloadBlocker();
  if (blocker) {
    msg.error(...blocker);
    msg.el.scrollIntoView({ block: 'center' });
    return;
  }
  await busy(button, msg, async () => {
    const res = await api('POST', `/api/videos/${encodeURIComponent(v.video_id)}/downloads`, { format: f.format });
    const link = h('a', { href: res.url, download: '', rel: 'noopener' }, 'use this link');
    const count = button.closest('.video-card').querySelector('.count');
    if (count) {
      count.dataset.count = Number(count.dataset.count) + 1;
      count.textContent = downloadsText(count.dataset.count);
    }
    msg.info(`Your download of “${v.title}” (${formatName(f.format)}, ${formatSize(f.size_bytes)}) has started. If it has not, `, link, '.');
    // Start it: the same link, followed by the browser.
    const a = h('a', { href: res.url, download: '', rel: 'noopener', hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  });
  if (msg.failed()) {
    msg.el.scrollIntoView({ block: 'center' });
  }
}

// Articles ----------------------------------------------------------------------

async function viewArticle(slug) {
  loadMe();
  let a;
  try {
    a = await api('GET', `/api/articles/${encodeURIComponent(slug)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return notFound('We could not find that article', 'It may have been withdrawn, or the address may be mistyped.');
    }
    return page('The article could not be loaded', h('p', { class: 'notice' }, e.message || 'Try again in a moment.'));
  }
  const paragraphs = String(a.body || '').split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  const body = paragraphs.map((p) => (isSubheading(p) ? h('h2', {}, p) : h('p', {}, p)));
  return h('article', { class: 'panel article' },
    h('p', { class: 'eyebrow' }, h('a', { href: '/' }, 'News')),
    h('h1', {}, a.title),
    h('p', { class: 'meta' }, 'Published ', h('time', { datetime: a.published_at }, formatDate(a.published_at))),
    a.summary ? h('p', { class: 'lead' }, a.summary) : null,
    ...body,
    a.tags && a.tags.length ? h('ul', { class: 'tags', 'aria-label': 'Tags' }, a.tags.map((t) => h('li', {}, t))) : null);
}

/** A short line without closing punctuation reads as a subheading. */
function isSubheading(p) {
  return p.length <= 60 && !p.includes('\n') && !/[.!?:;,”"’)]$/.test(p);
}

// ---------------------------------------------------------------- start

(async () => {
  if (hasSession()) await loadMe();
  renderAccountNav();
  render();
})();
