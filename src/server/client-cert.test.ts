import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { HeaderList } from '../runtime/headers.ts';
import { applyClientCertHeaders, clientCertOf, compileClientCertHeaders, parseSans } from './client-cert.ts';

describe('client certificates', () => {
  it('parses SANs by kind, including node\'s JSON-quoted values', () => {
    assert.deepEqual(parseSans('DNS:a.test, URI:spiffe://x/y, email:a@b.test, IP Address:127.0.0.1, DNS:"odd, name"'), {
      dns: ['a.test', 'odd, name'],
      uri: ['spiffe://x/y'],
      email: ['a@b.test'],
      ip: ['127.0.0.1'],
    });
    assert.deepEqual(parseSans(undefined), { dns: [], uri: [], email: [], ip: [] });
  });

  it('compiles forwarded header names in lower case, with every name to strip', () => {
    assert.equal(compileClientCertHeaders(undefined), undefined);
    assert.equal(compileClientCertHeaders({ mode: 'required', ca: 'x' }), undefined);
    const names = compileClientCertHeaders({ mode: 'optional', ca: 'x', forwardHeaders: { subject: 'X-Client-Subject', cert: 'X-Forwarded-Client-Cert' } })!;
    assert.deepEqual(names.strip, ['x-client-subject', 'x-forwarded-client-cert']);
    assert.equal(names.subject, 'x-client-subject');
    assert.equal(names.fingerprint, undefined);
  });

  it('strips client-sent identity headers on a connection without a verified certificate', () => {
    const socket = { authorized: false } as unknown as Socket;
    const names = compileClientCertHeaders({ mode: 'optional', ca: 'x', forwardHeaders: { subject: 'x-client-subject', fingerprint: 'x-client-fp' } })!;
    const headers = new HeaderList(['Host', 'a', 'X-Client-Subject', 'CN=admin', 'x-client-fp', 'AA', 'accept', '*/*']);
    applyClientCertHeaders(headers, socket, names);
    assert.deepEqual(headers.raw, ['Host', 'a', 'accept', '*/*']);
    assert.equal(clientCertOf(socket), undefined);
  });
});
