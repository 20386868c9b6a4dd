import fs from 'node:fs/promises';

/** Whether `file` exists (and this process may see it): never throws. */
export async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/**
 * The last `bytes` of `file` as text, and whether it was cut (then its first line may be partial);
 * undefined when the file cannot be opened.
 */
export async function readFileTail(file: string, bytes: number): Promise<{ text: string; cut: boolean } | undefined> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), cut: start > 0 };
  } finally {
    await handle.close();
  }
}
