// The page's client of the HTTP API. Session: an HttpOnly cookie set by
// POST /api/portal/session; every request echoes the CSRF token (readable
// cookie mm_csrf) in X-CSRF-Token, without which the cookie counts for
// nothing. The page never sees the session token.

import { sentence } from './dom.js';

/** A refusal from the API, with the words of its error.message. */
export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.retryAfter = retryAfter;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

/** Whether the browser holds a page session (it may have expired). */
export function hasSession() {
  return cookie('mm_csrf') !== '';
}

/** Calls the API; resolves to the JSON reply or throws an ApiError. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const csrf = cookie('mm_csrf');
  if (csrf) headers['X-CSRF-Token'] = csrf;
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The portal could not be reached. Check your connection and try again.');
  }
  let data = null;
  try { data = await resp.json(); } catch { data = null; }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    const msg = e.message ? sentence(e.message) : `The portal answered with an error (${resp.status}). Try again in a moment.`;
    throw new ApiError(resp.status, e.code || `http_${resp.status}`, msg, e.details, Number(resp.headers.get('Retry-After')) || 0);
  }
  return data || {};
}
