/** Scrapes a Prometheus text endpoint into `name` (or `name{labels}`) → value. */
export async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

/** The value of a metric whatever its labels (the first one found). */
export function metric(metrics: Map<string, number>, name: string): number {
  for (const [key, value] of metrics) if (key === name || key.startsWith(`${name}{`)) return value;
  throw new Error(`metric ${name} not found`);
}
