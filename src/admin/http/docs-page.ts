import { createHash } from 'node:crypto';

/**
 * The admin API reference page: one self-contained HTML document (no CDN, no external files). It
 * fetches /admin/openapi.json, which needs the viewer role, with a token typed into the page and
 * kept only in a variable (never in storage or the URL). The page itself carries no data, so it is
 * served without auth: a browser cannot attach a Bearer header to a plain navigation.
 */
const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{font-size:18px;margin:0}
main{max-width:1000px;margin:0 auto;padding:16px 24px}
#auth{margin:12px 0}#auth input{width:420px;max-width:70%;padding:6px}#auth button{padding:6px 12px}
.op{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:10px 0;padding:10px 14px}
.op h2{font-size:15px;margin:0 0 4px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
.m{font:bold 12px monospace;padding:2px 6px;border-radius:4px;color:#fff;background:#56606e}
.m-get{background:#2b7a3d}.m-post{background:#1f5fa8}.m-put{background:#a86a1f}.m-patch{background:#7a4fa8}.m-delete{background:#a8321f}
.role{font-size:12px;border:1px solid #aab;border-radius:10px;padding:1px 8px;color:#445}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #e3e6ea;padding:3px 8px;text-align:left}
pre{background:#f1f3f5;padding:8px;overflow:auto;font-size:12px;max-height:360px}
`;

const SCRIPT = `
(() => {
  const el = (tag, props, ...kids) => { const n = Object.assign(document.createElement(tag), props || {}); n.append(...kids); return n; };
  const status = document.getElementById('status');
  const ops = document.getElementById('ops');
  let token = '';
  const deref = (doc, s, depth) => {
    if (depth > 6 || s === null || typeof s !== 'object') return s;
    if (Array.isArray(s)) return s.map((x) => deref(doc, x, depth + 1));
    if (typeof s.$ref === 'string' && s.$ref.startsWith('#/components/schemas/')) return deref(doc, doc.components.schemas[s.$ref.slice(21)], depth + 1);
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, deref(doc, v, depth + 1)]));
  };
  const schemaBlock = (label, doc, schema) => el('details', null, el('summary', { textContent: label }), el('pre', { textContent: JSON.stringify(deref(doc, schema, 0), null, 2) }));
  const params = (list) => {
    const rows = list.map((p) => el('tr', null, el('td', null, el('code', { textContent: p.name })), el('td', { textContent: p.in }), el('td', { textContent: p.required ? 'required' : '' }), el('td', { textContent: (p.schema && (p.schema.type || '')) + (p.description ? ' — ' + p.description : '') })));
    return el('table', null, el('tr', null, ...['name', 'in', '', 'type'].map((h) => el('th', { textContent: h }))), ...rows);
  };
  const card = (doc, path, method, op) => {
    const role = op['x-required-role'] || 'public';
    const box = el('section', { className: 'op' }, el('h2', null, el('span', { className: 'm m-' + method, textContent: method.toUpperCase() }), el('code', { textContent: path }), el('span', { className: 'role', textContent: role })), el('div', { textContent: op.summary || '' }));
    if (op.description) box.append(el('p', { textContent: op.description }));
    if (op.parameters && op.parameters.length) box.append(params(op.parameters));
    const body = op.requestBody && op.requestBody.content['application/json'];
    if (body) box.append(schemaBlock('Request body', doc, body.schema));
    const ok = op.responses && op.responses['200'] && op.responses['200'].content;
    if (ok && ok['application/json']) box.append(schemaBlock('Response', doc, ok['application/json'].schema));
    return box;
  };
  const load = async () => {
    status.textContent = 'Loading…';
    let res;
    try { res = await fetch('/admin/openapi.json', { headers: token ? { authorization: 'Bearer ' + token } : {}, cache: 'no-store' }); }
    catch { status.textContent = 'Network error.'; return; }
    if (res.status === 401 || res.status === 403) {
      document.getElementById('auth').hidden = false;
      status.textContent = res.status === 401 ? 'Enter an admin token (viewer or higher).' : 'This token may not read the API description.';
      return;
    }
    if (!res.ok) { status.textContent = 'Failed: HTTP ' + res.status; return; }
    const doc = await res.json();
    status.textContent = doc.info.title + ' ' + doc.info.version;
    ops.replaceChildren();
    for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) ops.append(card(doc, path, method, op));
  };
  document.getElementById('go').addEventListener('click', () => { token = document.getElementById('token').value.trim(); load(); });
  load();
})();
`;

function hash(source: string): string {
  return `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;
}

/** Only the page's own inline script and style may run; it may only talk to its own origin. */
export const DOCS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const DOCS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice admin API</title><style>${STYLE}</style></head>
<body><header><h1>Sluice admin API</h1></header>
<main><p id="status">Loading…</p>
<div id="auth" hidden><input id="token" type="password" autocomplete="off" placeholder="Bearer token" aria-label="Bearer token"> <button id="go" type="button">Load</button></div>
<div id="ops"></div></main>
<script>${SCRIPT}</script></body></html>
`;
