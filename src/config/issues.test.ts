import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { formatIssues, pointer, schemaIssues, suggest } from './issues.ts';
import { nullable, secret, size } from './schema/index.ts';

describe('suggest', () => {
  it('names the closest candidate within a few edits', () => {
    assert.equal(suggest('timeout', ['timeouts', 'targets']), ' (did you mean "timeouts"?)');
    assert.equal(suggest('rate-limt', ['cors', 'rate-limit']), ' (did you mean "rate-limit"?)');
    assert.equal(suggest('Upstream', ['upstream']), ' (did you mean "upstream"?)');
    assert.equal(suggest('intrenal', ['public', 'internal']), ' (did you mean "internal"?)');
    assert.equal(suggest('wbe', ['web']), ' (did you mean "web"?)');
    assert.equal(suggest('x', ['u']), '');
    assert.equal(suggest('completely-different', ['cors']), '');
    assert.equal(suggest('x', []), '');
  });
});

describe('formatIssues and pointer', () => {
  it('prints one line per issue', () => {
    assert.equal(formatIssues([{ path: '/a/0', message: 'm1' }, { path: '', message: 'm2' }]), '/a/0: m1\nm2');
  });

  it('escapes pointer segments', () => {
    assert.equal(pointer('/set', 'a/b~c'), '/set/a~1b~0c');
  });
});

describe('schemaIssues', () => {
  const Schema = Type.Object(
    {
      name: Type.String({ minLength: 1 }),
      limit: Type.Optional(size()),
      key: Type.Optional(secret()),
      mode: Type.Optional(nullable(Type.Object({ fast: Type.Boolean() }, { additionalProperties: false }))),
      tags: Type.Optional(Type.Array(Type.String(), { maxItems: 2, uniqueItems: true })),
    },
    { additionalProperties: false },
  );

  it('says one thing per path, under the base path', () => {
    const issues = schemaIssues(Schema, { name: '', limit: '1 MB', tags: ['a', 'b', 'c'] }, '/p');
    assert.deepEqual(issues, [
      { path: '/p/name', message: 'must not be empty' },
      { path: '/p/limit', message: 'expected a size such as 1024, "16kb", "10mb", got "1 MB"' },
      { path: '/p/tags', message: 'must have at most 2 items' },
    ]);
  });

  it('looks inside the union variant the value was evidently meant as', () => {
    assert.deepEqual(schemaIssues(Schema, { name: 'n', key: { fille: 'x' }, mode: { fast: 'yes' } }), [
      { path: '/key/file', message: 'missing required property "file"' },
      { path: '/key/fille', message: 'unknown property "fille" (did you mean "file"?)' },
      { path: '/mode/fast', message: 'expected true or false, got "yes"' },
    ]);
    assert.deepEqual(schemaIssues(Schema, { name: 'n', key: 5, mode: 1 }), [
      { path: '/key', message: 'expected a string or { file: "path" }, got 5' },
      { path: '/mode', message: 'expected an object or null, got 1' },
    ]);
  });

  it('returns nothing for a valid value', () => {
    assert.deepEqual(schemaIssues(Schema, { name: 'ok', tags: ['a'] }), []);
  });
});
