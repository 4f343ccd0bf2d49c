/**
 * Route path patterns, in find-my-way syntax: `/users/:id`, `/files/:name.:ext`, `/n/:id(^\\d+)`,
 * `/posts/:id?` (optional last parameter), `/static/*` (wildcard, last), `::` for a literal colon.
 * The parser mirrors find-my-way's so the router can group patterns that land on the same tree node
 * before registering them (find-my-way holds one handler per node and constraint set).
 */

/** Same expression find-my-way uses to expand an optional last parameter. */
const OPTIONAL_PARAM = /(\/:[^/()]*?)\?(\/?)/;

export interface ParsedPattern {
  /** Parameter names in order; the wildcard is '*'. */
  names: string[];
  /** The pattern with parameter names removed: equal keys mean the same radix-tree node. */
  key: string;
}

/** One path registered on the tree for a configured path. */
export interface PathVariant {
  path: string;
  /**
   * Reached through the optional-parameter or wildcard-prefix rule rather than written: such a
   * variant ranks after routes that declare the same path literally.
   */
  derived: boolean;
  /** `/static` registered for `/static/*`: the wildcard param is '' there. */
  wildcardPrefix: boolean;
}

function isParamEnd(code: number): boolean {
  // '(' regex, '-' and '.' static separators, '/' segment end: as in find-my-way.
  return code === 40 || code === 45 || code === 46 || code === 47;
}

/** Index of the ')' closing the '(' at `open`, honouring nesting and backslash escapes; -1 if none. */
export function closingParen(path: string, open: number): number {
  let depth = 1;
  for (let i = open + 1; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === 92) i++;
    else if (code === 41 && --depth === 0) return i;
    else if (code === 40) depth++;
  }
  return -1;
}

export function parsePattern(path: string): ParsedPattern {
  const names: string[] = [];
  let key = '';
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === 58 && path.charCodeAt(i + 1) === 58) {
      key += '::';
      i++;
    } else if (code === 58) {
      let j = i + 1;
      while (j < path.length && !isParamEnd(path.charCodeAt(j))) j++;
      const name = path.slice(i + 1, j);
      names.push(name.endsWith('?') ? name.slice(0, -1) : name);
      key += ':';
      if (path.charCodeAt(j) === 40) {
        const close = closingParen(path, j);
        const end = close === -1 ? path.length : close + 1;
        key += path.slice(j, end);
        j = end;
      }
      i = j - 1;
    } else {
      if (code === 42) names.push('*');
      key += path[i];
    }
  }
  return { names, key };
}

/**
 * The paths to register for one configured path: an optional last parameter gives the path with and
 * without it; `/prefix/*` also gives `/prefix` so a wildcard route covers its prefix itself
 * (`/prefix/` is already matched by the wildcard with an empty value).
 */
export function expandPath(path: string): PathVariant[] {
  const optional = OPTIONAL_PARAM.exec(path);
  if (optional !== null && optional.index + optional[0].length === path.length) {
    return [
      { path: path.replace(OPTIONAL_PARAM, '$1$2'), derived: false, wildcardPrefix: false },
      { path: path.replace(OPTIONAL_PARAM, '$2') || '/', derived: true, wildcardPrefix: false },
    ];
  }
  const variants: PathVariant[] = [{ path, derived: false, wildcardPrefix: false }];
  if (path.length > 2 && path.endsWith('/*')) {
    variants.push({ path: path.slice(0, -2), derived: true, wildcardPrefix: true });
  }
  return variants;
}
