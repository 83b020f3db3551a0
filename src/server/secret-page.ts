import { createHash } from 'node:crypto';
import { SECRET_KINDS, type SecretName } from '../util/secrets.js';

/**
 * The HTML pages of the local secret prompt (see secret-prompt.ts): self-contained, no script, no external
 * resource, one inline style allowed by its hash. Every value put into the HTML goes through escapeHtml.
 */

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;color:#222}' +
  'h1{font-size:1.3em}code{font-size:1em}.muted{color:#666;font-size:.9em}.err{color:#a00}' +
  'input[type=password]{font-size:1em;width:100%;box-sizing:border-box;padding:.4em;margin:.3em 0 1em}' +
  'button{font-size:1em;padding:.4em 1.2em}';

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Headers sent with every answer of the prompt server, pages and errors alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  Connection: 'close',
};

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

function page(title: string, body: string): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title>` +
    `<style>${STYLE}</style></head><body>${body}</body></html>`
  );
}

export interface FormPage {
  serverName: string;
  host: string;
  secret: SecretName;
  reason?: string;
  /** Whole seconds left before the link stops working. */
  expiresInS: number;
  /** Shown above the field, e.g. after an empty submission. */
  error?: string;
}

export function formPage(p: FormPage): string {
  const label = SECRET_KINDS[p.secret].label;
  const left =
    p.expiresInS >= 120
      ? `${Math.floor(p.expiresInS / 60)} minutes`
      : `${p.expiresInS} second${p.expiresInS === 1 ? '' : 's'}`;
  return page(
    `${label} for ${p.host} — ${p.serverName}`,
    `<h1>${escapeHtml(p.serverName)} needs the ${escapeHtml(label)} for <code>${escapeHtml(p.host)}</code></h1>` +
      (p.reason ? `<p>Why: ${escapeHtml(p.reason)}</p>` : '') +
      (p.error ? `<p class="err">${escapeHtml(p.error)}</p>` : '') +
      '<form method="post" accept-charset="utf-8" autocomplete="off">' +
      `<label for="secret">${escapeHtml(label[0]?.toUpperCase() + label.slice(1))}</label>` +
      '<input type="password" id="secret" name="secret" autocomplete="off" autofocus required>' +
      '<button type="submit">Send to mcp-ssh-session</button></form>' +
      `<p class="muted">This page is served by ${escapeHtml(p.serverName)} on this machine (127.0.0.1). ` +
      'What you type goes only to that process; the MCP client and the AI model do not see it. ' +
      `The link works once and expires in about ${escapeHtml(left)}. ` +
      'If you did not expect this request, close the tab.</p>',
  );
}

export function donePage(serverName: string, host: string, secret: SecretName): string {
  const label = SECRET_KINDS[secret].label;
  return page(
    `Received — ${serverName}`,
    `<h1>Received</h1><p>${escapeHtml(serverName)} has the ${escapeHtml(label)} for ` +
      `<code>${escapeHtml(host)}</code>. You can close this tab and return to your MCP client.</p>`,
  );
}
