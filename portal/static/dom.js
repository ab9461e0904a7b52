// Small DOM helpers: elements are built with h(), never from HTML strings,
// so text from the API is always text.

let idCounter = 0;

/** A fresh id for label/field/hint wiring. */
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * h('p', {class: 'x', onclick: fn}, 'text', child) builds an element.
 * Attributes whose value is false, null or undefined are left out.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Says text to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A new text node after a tick is announced even when it repeats.
  setTimeout(() => { region.textContent = text; }, 50);
}

/** An API message ("the code is wrong; ...") as a sentence. */
export function sentence(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const s = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/**
 * A form's message area, announced by screen readers (role=alert). It is in
 * the page, empty, from the start (CSS collapses it while empty), so that
 * what is written into it later is read out at once.
 */
export function messageArea() {
  const el = h('div', { class: 'form-message', role: 'alert' });
  return {
    el,
    error(...content) { el.className = 'form-message error'; replace(el, ...content); },
    info(...content) { el.className = 'form-message info'; replace(el, ...content); },
    clear() { el.className = 'form-message'; replace(el); },
    /** Whether it shows something. */
    shown() { return el.textContent.trim() !== ''; },
    /** Whether it shows an error. */
    failed() { return el.classList.contains('error') && el.textContent.trim() !== ''; },
  };
}

/** A labelled input with an optional hint; returns {wrap, input}. */
export function field({ label, type = 'text', name, autocomplete, hint, value, inputmode, required = true, extra }) {
  const id = uid(name);
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', {
    id, name, type, autocomplete, inputmode, required, value,
    'aria-describedby': hintId,
    spellcheck: type === 'email' || name === 'code' ? 'false' : null,
    autocapitalize: type === 'email' || name === 'code' ? 'none' : null,
  });
  const wrap = h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    input,
    extra || null);
  return { wrap, input };
}

/** Marks input invalid (or not) for assistive technology and styling. */
export function invalid(input, on) {
  if (on) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** Formats a byte count for people: 1.2 GB, 185 MB. */
export function formatSize(bytes) {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let n = Number(bytes) || 0;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  const digits = n >= 100 || i === 0 ? 0 : 1;
  return `${n.toFixed(digits)} ${units[i]}`;
}

/** Formats seconds as 3:05 or 1:02:03. */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** Duration in words for screen readers: "3 minutes 5 seconds". */
export function durationWords(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  const parts = [];
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (hh) parts.push(`${hh} hour${hh === 1 ? '' : 's'}`);
  if (mm) parts.push(`${mm} minute${mm === 1 ? '' : 's'}`);
  if (ss || !parts.length) parts.push(`${ss} second${ss === 1 ? '' : 's'}`);
  return parts.join(' ');
}

/** A date as "19 April 2007". */
export function formatDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
}

/** A clock time as "15:42". */
export function formatTime(date) {
  return date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A format code as a label: "mp4-1080p" → "MP4 1080p". */
export function formatName(code) {
  const known = { 'mxf-broadcast': 'MXF broadcast' };
  if (known[code]) return known[code];
  return String(code).split('-').map((p, i) => (i === 0 ? p.toUpperCase() : p)).join(' ');
}
