// The password rule of the seed page, checked as the person types. It
// mirrors domain/account/password_policy.go; the server checks again
// (and also refuses common passwords, which only it knows).

import { h, uid } from './dom.js';

/** The rule in the seed page's words. */
export const RULE_TEXT = 'The password must be at least 12 characters long, no spaces, include upper/lowercase letters, numbers and symbols.';

const RULES = [
  { code: 'too_short', label: 'At least 12 characters', broken: (pw) => [...pw].length < 12 },
  { code: 'whitespace', label: 'No spaces', broken: (pw) => /[\s\u200b-\u200f\u2060\ufeff]/u.test(pw) },
  { code: 'missing_upper', label: 'An uppercase letter', broken: (pw) => !/\p{Lu}/u.test(pw) },
  { code: 'missing_lower', label: 'A lowercase letter', broken: (pw) => !/\p{Ll}/u.test(pw) },
  { code: 'missing_digit', label: 'A number', broken: (pw) => !/\p{Nd}/u.test(pw) },
  { code: 'missing_symbol', label: 'A symbol', broken: (pw) => !/[^\p{L}\p{M}\p{Nd}\s]/u.test(pw) },
];

/** The rules pw breaks, as {code, label}; [] when it passes. */
export function brokenRules(pw, email) {
  const out = RULES.filter((r) => r.broken(pw));
  if ([...pw].length > 128) out.push({ code: 'too_long', label: 'At most 128 characters' });
  const local = String(email || '').split('@')[0].toLowerCase();
  if ([...local].length >= 3 && pw.toLowerCase().includes(local)) {
    out.push({ code: 'contains_email', label: 'Not your email address' });
  }
  return out;
}

/** "The password must be at least 12 characters long, ..." plus what is missing. */
export function refusal(broken) {
  const missing = broken.map((r) => r.label.toLowerCase()).join(', ');
  return `This password does not meet the rule. ${RULE_TEXT} Missing: ${missing}.`;
}

/**
 * A password field with the rule beside it and a checklist that follows
 * the typing. label is "Password" or "New password". getEmail gives the
 * address, for the "not your address" rule.
 */
export function passwordField({ label, name, getEmail }) {
  const id = uid(name);
  const ruleId = `${id}-rule`;
  const input = h('input', {
    id, name, type: 'password', autocomplete: 'new-password', required: true,
    'aria-describedby': ruleId, spellcheck: 'false', autocapitalize: 'none',
  });
  const items = RULES.map((r) => h('li', { 'data-rule': r.code, class: 'pending' },
    h('span', { class: 'visually-hidden' }, 'Not yet: '), r.label));
  const extra = h('li', { class: 'bad', hidden: true, 'data-rule': 'contains_email' },
    h('span', { class: 'visually-hidden' }, 'Not met: '), 'Not your email address');
  const show = h('input', { type: 'checkbox', id: `${id}-show` });
  show.addEventListener('change', () => { input.type = show.checked ? 'text' : 'password'; });
  const wrap = h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('p', { class: 'hint rule', id: ruleId }, RULE_TEXT),
    input,
    h('div', { class: 'show-password' }, show, h('label', { for: `${id}-show` }, 'Show password')),
    h('ul', { class: 'rule-list', 'aria-label': 'Password rule, checked as you type' }, items, extra));

  const update = () => {
    const pw = input.value;
    const broken = new Set(brokenRules(pw, getEmail && getEmail()).map((r) => r.code));
    for (const li of items) {
      const state = pw === '' ? 'pending' : broken.has(li.dataset.rule) ? 'bad' : 'ok';
      li.className = state;
      li.firstChild.textContent = state === 'ok' ? 'Met: ' : state === 'bad' ? 'Not met: ' : 'Not yet: ';
    }
    extra.hidden = !broken.has('contains_email');
    wrap.classList.toggle('valid', pw !== '' && broken.size === 0);
  };
  input.addEventListener('input', update);
  return {
    wrap, input, update,
    /** The broken rules now (also refreshes the checklist). */
    check() { update(); return brokenRules(input.value, getEmail && getEmail()); },
  };
}
