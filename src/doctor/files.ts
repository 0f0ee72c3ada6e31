import { accessSync, constants } from 'node:fs';

export const octal = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

export function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export const uid = (): string => String(process.getuid?.() ?? '?');

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
