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
