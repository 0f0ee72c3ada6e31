import { parseAllDocuments } from 'yaml';

/** The most bytes of .github/hls.yml read; a larger file is invalid as a whole. */
export const MAX_SETTINGS_BYTES = 16 * 1024;
/**
 * YAML aliases (`*name`) expanded while building the tree: a settings file needs none, and an alias bomb
 * ("billion laughs") in a file anyone with push access can write must not cost a worker its memory.
 */
const MAX_ALIAS_COUNT = 20;
/** Marks stored content that is not the file's text but why it could not be read (see unreadableContent). */
const UNREADABLE = '\0';

export type SettingsTree = { tree: Record<string, unknown> } | { invalid: string };

/**
 * How a file GitHub gave that cannot be read as text is kept in the database: the reason, behind a NUL
 * character that no settings file's own text can start with (text with NUL bytes is stored so too).
 */
export function unreadableContent(reason: string): string {
  return `${UNREADABLE}${reason}`;
}

/** The file's YAML as a plain tree, or why the file is invalid as a whole. */
export function readSettingsTree(content: string): SettingsTree {
  if (content.startsWith(UNREADABLE)) return { invalid: content.slice(UNREADABLE.length) };
  if (Buffer.byteLength(content) > MAX_SETTINGS_BYTES) {
    return { invalid: `larger than ${MAX_SETTINGS_BYTES / 1024} KiB` };
  }
  let tree: unknown;
  try {
    const documents = parseAllDocuments(content, { logLevel: 'silent', uniqueKeys: true });
    if (!Array.isArray(documents)) return { tree: {} }; // nothing but comments
    if (documents.length > 1) return { invalid: 'not valid YAML: more than one document' };
    const document = documents[0];
    const problem = document?.errors[0] ?? document?.warnings[0];
    if (problem) return { invalid: `not valid YAML: ${firstLine(problem.message)}` };
    tree = document?.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // The yaml library throws a ReferenceError for an alias bomb or an alias without its anchor.
    return { invalid: `not valid YAML: ${firstLine((error as Error).message)}` };
  }
  // An empty file (or one with only comments) narrows nothing.
  if (tree === null || tree === undefined) return { tree: {} };
  if (typeof tree !== 'object' || Array.isArray(tree)) return { invalid: 'not a mapping of settings (key: value)' };
  return { tree: tree as Record<string, unknown> };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 200);
}
