/**
 * Request-target normalization, done once per request before routing; the router, plugins and the
 * upstream all see the same path.
 *
 * - Origin-form ("/path?query") and absolute-form ("http://host/path?query", the caller takes the
 *   host) are accepted; anything else (authority-form, "*") gives null.
 * - The query starts at the first '?' and is returned raw (without '?').
 * - Rejected (null): control characters, space, backslash and '#' in the path; control characters
 *   and space in the query; malformed percent-encoding; %00 (NUL) and %5C (an encoded backslash,
 *   which Windows-style upstreams treat as a separator) in the path.
 * - Percent-encoded unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded (RFC 3986 6.2.2.2), so
 *   "/%61dmin" is "/admin" for path-based plugins too. Reserved ones stay encoded: %2F is not a '/'.
 * - Dot segments ('.', '..', also as %2E) are removed per RFC 3986 5.2.4; '..' never climbs above
 *   '/'. A path ending in a dot segment keeps a trailing slash ("/a/b/.." is "/a/").
 * - "//" is kept as is: empty segments are meaningful to some upstreams, and routes match them
 *   literally ("/a//b" does not match "/a/b").
 * - The common already-normal path takes one character scan and no allocation beyond the slice.
 */

export interface NormalizedTarget {
  path: string;
  query: string;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** The byte encoded by "%XX" at `at` (the '%'), or -1 when malformed. */
function percentByte(text: string, at: number): number {
  const high = hexValue(text.charCodeAt(at + 1));
  const low = hexValue(text.charCodeAt(at + 2));
  return high === -1 || low === -1 ? -1 : (high << 4) | low;
}

function isUnreserved(byte: number): boolean {
  const lower = byte | 0x20;
  return (lower >= 97 && lower <= 122) || (byte >= 48 && byte <= 57) || byte === 45 || byte === 46 || byte === 95 || byte === 126;
}

const BAD = -1;
const CLEAN = 0;
const REWRITE = 1;

/** Checks path[start, end): BAD, CLEAN (already normal) or REWRITE (needs decoding / dot removal). */
function scanPath(text: string, start: number, end: number): number {
  let verdict = CLEAN;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code <= 32 || code === 127 || code === 92 || code === 35) return BAD;
    if (code === 37) {
      const byte = percentByte(text, i);
      if (byte <= 0 || byte === 0x5c || i + 2 >= end) return BAD;
      if (isUnreserved(byte)) verdict = REWRITE;
      i += 2;
    } else if (code === 46 && text.charCodeAt(i - 1) === 47) {
      verdict = REWRITE; // may start a dot segment
    }
  }
  return verdict;
}

function queryIsClean(query: string): boolean {
  for (let i = 0; i < query.length; i++) {
    const code = query.charCodeAt(i);
    if (code <= 32 || code === 127) return false;
  }
  return true;
}

function decodeUnreserved(path: string): string {
  let out = '';
  let last = 0;
  for (let i = path.indexOf('%'); i !== -1; i = path.indexOf('%', i + 3)) {
    const byte = percentByte(path, i);
    if (isUnreserved(byte)) {
      out += path.slice(last, i) + String.fromCharCode(byte);
      last = i + 3;
    }
  }
  return last === 0 ? path : out + path.slice(last);
}

/** RFC 3986 5.2.4 on an absolute path (starting with '/'). */
export function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  let endsInDot = false;
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    endsInDot = segment === '.' || segment === '..';
    if (!endsInDot) out.push(segment);
    else if (segment === '..') out.pop(); // popping an empty stack clamps at the root
  }
  if (out.length === 0) return '/';
  const joined = '/' + out.join('/');
  return endsInDot ? joined + '/' : joined;
}

/** Index where the path of an absolute-form target starts, the query mark, or -1 when not absolute-form. */
function absolutePathStart(target: string): number {
  const schemeEnd = target.indexOf('://');
  if (schemeEnd !== 4 && schemeEnd !== 5) return -1;
  const scheme = target.slice(0, schemeEnd).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return -1;
  for (let i = schemeEnd + 3; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code === 47 || code === 63) return i;
    if (code === 35) return -1;
  }
  return target.length;
}

export function normalizePath(rawTarget: string): NormalizedTarget | null {
  let start = 0;
  if (rawTarget.charCodeAt(0) !== 47) {
    start = absolutePathStart(rawTarget);
    if (start === -1) return null;
  }
  const mark = rawTarget.indexOf('?', start);
  const end = mark === -1 ? rawTarget.length : mark;
  const query = mark === -1 ? '' : rawTarget.slice(mark + 1);
  if (query !== '' && !queryIsClean(query)) return null;
  if (start === end) return { path: '/', query }; // "http://host" or "http://host?x"
  const verdict = scanPath(rawTarget, start, end);
  if (verdict === BAD) return null;
  const path = start === 0 && end === rawTarget.length ? rawTarget : rawTarget.slice(start, end);
  return { path: verdict === CLEAN ? path : removeDotSegments(decodeUnreserved(path)), query };
}
