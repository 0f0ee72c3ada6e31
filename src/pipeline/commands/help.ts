import type { LoadedConfig } from '../../config/load.js';

const HELP_MARKER_PREFIX = '<!-- hls:help ';

/** The hidden line that identifies hls's one help comment on a thread. */
export function helpMarker(threadKey: string): string {
  return `${HELP_MARKER_PREFIX}${threadKey} -->`;
}

/** The reply to `/hls help`: the commands, who may give them, and what the reactions mean. */
export function helpBody(config: LoadedConfig, botLogin: string | undefined, threadKey: string): string {
  const label = config.filters.opt_out_label.replace(/`/g, "'");
  const mention = botLogin ? ` (or \`@${botLogin} <command>\`)` : '';
  return [
    `**hls commands**: write one as the first line of a comment${mention}. ` +
      'Only people with write, maintain or admin permission on the repository can give them.',
    '',
    '| Command | What it does |',
    '| --- | --- |',
    '| `/hls triage` | Analyse this thread now, even if it was analysed before; the triage comment is updated. |',
    `| \`/hls ignore\` | No more analyses of this thread; adds the \`${label}\` label when the repository has it. |`,
    '| `/hls resume` | Undoes `/hls ignore` (and removes that label). |',
    '| `/hls help` | This list. |',
    '',
    'Reactions on your comment: :eyes: taken, :+1: done, :confused: not a command hls knows.',
    '',
    helpMarker(threadKey),
  ].join('\n');
}
