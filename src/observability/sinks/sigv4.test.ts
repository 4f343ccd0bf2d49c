import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amzDate, parseAuthorization, signRequest } from './sigv4.ts';

// Published AWS SigV4 test suite (aws-sig-v4-test-suite): get-vanilla / post-vanilla.
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const date = new Date('2015-08-30T12:36:00Z');
const base = { url: 'https://example.amazonaws.com/', region: 'us-east-1', service: 'service', credentials, date };

test('amzDate uses ISO 8601 basic format', () => {
  assert.equal(amzDate(date), '20150830T123600Z');
});

test('get-vanilla vector', () => {
  const signed = signRequest({ ...base, method: 'GET' });
  assert.equal(
    signed.canonicalRequest,
    'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n' +
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  assert.equal(signed.signature, '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  assert.equal(
    signed.headers['authorization'],
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
      'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  );
});

test('post-vanilla vector', () => {
  const signed = signRequest({ ...base, method: 'POST' });
  assert.equal(signed.signature, '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b');
  assert.equal(
    signed.stringToSign,
    'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n' +
      '553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87',
  );
});

test('session token and content hash are added and signed', () => {
  const signed = signRequest({
    ...base,
    method: 'POST',
    body: '{}',
    credentials: { ...credentials, sessionToken: 'TOKEN' },
    contentSha256: true,
  });
  assert.equal(signed.headers['x-amz-security-token'], 'TOKEN');
  assert.equal(signed.headers['x-amz-content-sha256'], '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  const auth = parseAuthorization(signed.headers['authorization']!);
  assert.deepEqual(auth?.signedHeaders, ['host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token']);
});

test('query strings are sorted and RFC 3986 encoded', () => {
  const signed = signRequest({ ...base, method: 'GET', url: "https://example.amazonaws.com/a b/?z=1&a=x*y&a=b'" });
  const lines = signed.canonicalRequest.split('\n');
  assert.equal(lines[1], '/a%20b/');
  assert.equal(lines[2], 'a=b%27&a=x%2Ay&z=1');
});
