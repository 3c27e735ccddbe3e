// One member of host/<snapshot>.json, read the same way by each area's facts reader.

/** The `key` object of the host facts, with the area's error for a bad field; undefined
 *  when the member is absent; an error when it is not an object. */
export function hostSection(raw: Record<string, unknown>, key: string, fail: (message: string) => Error):
  { o: Record<string, unknown>; bad: (what: string) => Error } | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  const bad = (what: string) => fail(`"${key}" has a missing or invalid ${what}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('object');
  return { o: v as Record<string, unknown>, bad };
}

/** The `key` list of the host facts, each entry read by READ (which checks it is an
 *  object: BAD gives `key[i] has a missing or invalid …`); undefined when absent. */
export function hostList<T>(raw: Record<string, unknown>, key: string, fail: (message: string) => Error,
  read: (o: Record<string, unknown>, bad: (what: string) => Error) => T): T[] | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw fail(`"${key}" is not a list`);
  return v.map((e, i) => {
    const bad = (what: string) => fail(`${key}[${i}] has a missing or invalid ${what}`);
    return read(e as Record<string, unknown>, bad);
  });
}

/** The `key` list of absolute paths of the host facts; undefined when absent. */
export function hostPaths(raw: Record<string, unknown>, key: string, fail: (message: string) => Error): string[] | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((p) => typeof p === 'string' && p.startsWith('/'))) throw fail(`"${key}" is not a list of paths`);
  return v as string[];
}
