import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Liquid } from 'liquidjs';
import { capText } from './cap.js';

export const PROMPTS_DIR = fileURLToPath(new URL('../../prompts/', import.meta.url));

/** Text inside `<tag…>` … `</tag>`; the tag inside the text is defused so it cannot end the block early. */
function fenced(text: unknown, tag: string, attributes = ''): string {
  const body = String(text ?? '').replace(new RegExp(`</?${tag}`, 'gi'), (found) => found.replace('<', '&lt;'));
  return `<${tag}${attributes}>\n${body}\n</${tag}>`;
}

/**
 * Text that came from GitHub users, fenced so that the system prompt can tell the model to read it as
 * data and never follow it.
 */
export function dataBlock(text: unknown, source: string): string {
  return fenced(text, 'untrusted_data', ` source="${source.replace(/"/g, "'")}"`);
}

/** The guidance of a repository's .github/hls.yml, fenced so that the system prompt can bound what it may do. */
export function guidanceBlock(text: unknown): string {
  return fenced(text, 'repository_guidance');
}

const engines = new Map<string, Liquid>();

function engineFor(roots: string[]): Liquid {
  const key = roots.join('\0');
  let engine = engines.get(key);
  if (!engine) {
    engine = new Liquid({ root: roots, extname: '.liquid', strictFilters: true, cache: true });
    engine.registerFilter('data', dataBlock);
    engine.registerFilter('repository_guidance', guidanceBlock);
    engine.registerFilter('truncate_chars', (text: unknown, max: number) => capText(String(text ?? ''), max));
    engines.set(key, engine);
  }
  return engine;
}

export interface RenderedPrompt {
  /** The file the prompt came from, e.g. prompts/issues/analyze.liquid. */
  template: string;
  text: string;
}

/** Renders prompts/<event>/<name>.liquid, or the repository's override of it from its prompts_dir. */
export async function renderPrompt(
  eventType: string,
  name: string,
  variables: Record<string, unknown>,
  overrideDir?: string,
): Promise<RenderedPrompt> {
  const roots = overrideDir ? [resolve(overrideDir), PROMPTS_DIR] : [PROMPTS_DIR];
  const relative = `${eventType}/${name}`;
  const found = roots.map((root) => join(root, `${relative}.liquid`)).find((file) => existsSync(file));
  if (!found) throw Object.assign(new Error(`no prompt template ${relative}.liquid`), { retryable: false });
  const text = await engineFor(roots).renderFile(relative, variables);
  return { template: found, text: text.trim() };
}

let systemPrompt: string | undefined;

/** The static instructions, identical for every call so that the API can cache them. */
export function loadSystemPrompt(): string {
  systemPrompt ??= readFileSync(join(PROMPTS_DIR, 'system.md'), 'utf8').trim();
  return systemPrompt;
}
