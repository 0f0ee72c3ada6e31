import { parse as parseYaml } from 'yaml';

/** Stands in for the Nth `{{ … }}` expression in the parsed text. */
export const TEMPLATE = /__hls_template_(\d+)__/;

export interface ParsedHooks {
  hooks: unknown;
  /** The `{{ … }}` expressions, in order; the parsed text holds `__hls_template_N__` in their place. */
  templates: string[];
}

/**
 * Parses a hooks file written for `webhook -template`: Go template expressions (`{{ getenv "X" | js }}`)
 * sit inside JSON strings with unescaped quotes, so each is replaced by a placeholder first (quoted when
 * it stands outside a string). YAML files go through the YAML parser.
 */
export function parseHooks(text: string, yaml = false): ParsedHooks {
  const templates: string[] = [];
  let out = '';
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const end = text.startsWith('{{', i) ? text.indexOf('}}', i + 2) : -1;
    if (end !== -1) {
      const placeholder = `__hls_template_${templates.length}__`;
      templates.push(text.slice(i, end + 2));
      out += inString ? placeholder : `"${placeholder}"`;
      i = end + 1;
      escaped = false;
      continue;
    }
    const ch = text[i]!;
    out += ch;
    if (escaped) escaped = false;
    else if (inString && ch === '\\') escaped = true;
    else if (ch === '"') inString = !inString;
  }
  return { hooks: yaml ? parseYaml(out) : parseJson(out), templates };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = Number(/position (\d+)/.exec(message)?.[1]);
    const line = Number.isFinite(position) ? ` (line ${text.slice(0, position).split('\n').length})` : '';
    throw new Error(`not valid JSON${line}: ${message}`);
  }
}
