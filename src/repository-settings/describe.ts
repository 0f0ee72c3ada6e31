import { SETTINGS_PATH, type SettingsFileState } from './narrow.js';

/** Where a setting came from, in `hls config show`: the file names its version. */
export function fileSource(sha: string | null): string {
  return sha ? `${SETTINGS_PATH}@${sha.slice(0, 7)}` : SETTINGS_PATH;
}

/** One line about a repository's settings file, for logs, hls show, hls doctor and hls config show. */
export function describeSettingsFile(file: SettingsFileState): string {
  switch (file.state) {
    case 'not read':
      return `${SETTINGS_PATH} not read (${file.reason}): the operator's settings only`;
    case 'absent':
      return `no ${SETTINGS_PATH} in the repository: the operator's settings`;
    case 'invalid':
      return `${fileSource(file.sha)} is invalid (${file.reason}): the operator's settings stay in force`;
    case 'valid':
      return file.ignored.length === 0
        ? `${fileSource(file.sha)} is valid`
        : `${fileSource(file.sha)} is valid but narrows less than it asks: ${file.ignored.join('; ')}`;
  }
}

/** Names the file in a skip reason: `.github/hls.yml@1a2b3c4`. */
export function describeSource(file: SettingsFileState): string {
  return fileSource(file.state === 'valid' || file.state === 'invalid' ? file.sha : null);
}
