// Delta debugging (Zeller and Hildebrandt's ddmin): the smallest subset of ITEMS, as far as
// ddmin finds one (1-minimal: removing any single item loses the property), for which
// TEST still holds. TEST(items) is assumed to hold.
export async function ddmin<T>(items: T[], test: (kept: T[]) => Promise<boolean>): Promise<T[]> {
  let c = items;
  let n = 2;
  while (c.length >= 2) {
    const chunks = split(c, n);
    let next: T[] | undefined;
    for (const chunk of chunks) {
      if (await test(chunk)) {
        next = chunk;
        n = 2;
        break;
      }
    }
    if (!next && n > 2) {
      for (const chunk of chunks) {
        const rest = c.filter((x) => !chunk.includes(x));
        if (await test(rest)) {
          next = rest;
          n = Math.max(n - 1, 2);
          break;
        }
      }
    }
    if (next) c = next;
    else if (n >= c.length) break;
    else n = Math.min(2 * n, c.length);
  }
  if (c.length === 1 && (await test([]))) return [];
  return c;
}

/** C in N nearly equal consecutive parts. */
function split<T>(c: T[], n: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = start + Math.floor((c.length - start) / (n - i));
    out.push(c.slice(start, end));
    start = end;
  }
  return out.filter((p) => p.length);
}
