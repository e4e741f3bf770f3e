// The results as a Markdown table, and that table and the chart put into the README between markers.
import { readFileSync, writeFileSync } from 'node:fs';

const ms = (v) => `${v} ms`;
/** CPU ms per request as `name 0.12`, in the order given, for the names measured. */
const cpuOf = (side, names) =>
  names
    .filter((k) => side.cpuMsPerRequest[k] !== undefined)
    .map((k) => `${k} ${side.cpuMsPerRequest[k]}`)
    .join(', ');
const SYSTEM = ['gateway', 'users-service', 'nats', 'postgres'];
const BASELINE = ['baseline', 'postgres'];

export function markdown(result) {
  const lines = [
    `${result.users.toLocaleString('en')} users, ${result.settings.seconds} s × ${result.settings.rounds} alternated runs per side, ${result.settings.conn} connections. ` +
      `Machine: ${result.machine.cpu} × ${result.machine.cores}, ${result.machine.memGb} GB, Node ${result.machine.node}; ` +
      `load average ${result.machine.loadBefore} before, ${result.machine.loadAfter} after (the machine is shared: compare the ratios, not the absolute figures). ${result.finishedAt}.`,
    '',
    '| workload | this system | baseline | ratio | system CPU ms/request | baseline CPU ms/request |',
    '|---|---|---|---|---|---|',
    ...result.workloads.map(
      (w) =>
        `| ${w.mix} | ${w.system.rps} req/s, p50 ${ms(w.system.p50)}, p99 ${ms(w.system.p99)} | ${w.baseline.rps} req/s, p50 ${ms(w.baseline.p50)}, p99 ${ms(w.baseline.p99)}${w.baseline.timeouts ? ` (${w.baseline.timeouts} unanswered in 10 s)` : ''} | **${w.ratio}×** | ` +
        `${cpuOf(w.system, SYSTEM)} | ${cpuOf(w.baseline, BASELINE)} |`,
    ),
    '',
    ...(result.paced?.length
      ? [
          'At a fixed rate, half of what the system reached above (open loop: latency from when each request was due), the same rate on both sides:',
          '',
          '| workload | rate | this system | baseline | p50 difference |',
          '|---|---|---|---|---|',
          ...result.paced.map(
            (p) =>
              `| ${p.mix} | ${p.rate} req/s | p50 ${ms(p.system.p50)}, p99 ${ms(p.system.p99)} | ` +
              (p.baseline.unable
                ? `not run: its maximum above was ${p.baseline.maxRps} req/s | — |`
                : `p50 ${ms(p.baseline.p50)}, p99 ${ms(p.baseline.p99)}${p.baseline.timeouts ? ` (${p.baseline.timeouts} unanswered in 10 s)` : ''} | ${p.p50Difference > 0 ? '+' : ''}${ms(p.p50Difference)} |`),
          ),
          '',
        ]
      : []),
    `Seeding: the system in ${result.seed.systemSeconds} s (real decider, sealed events, projection rows; live indexes), the baseline in ${result.seed.baselineSeconds} s. ` +
      `Indexes as a fresh migration defines them: ${result.seed.indexes.same ? 'yes' : `**no** (${result.seed.indexes.differences.join('; ')})`}; ` +
      `GIN pending pages after the seed: ${result.seed.indexes.gin.map((g) => `${g.name} ${g.pending_pages}`).join(', ')}.`,
    '',
    ...(result.writes
      ? [
          `Writes at bcrypt cost ${result.writes.cost}: the bcrypt bound on this machine ${result.writes.bound}/s (one operation per core at a time); ` +
            `logins ${result.writes.login.rps}/s (**${result.writes.login.ratio}×**, p99 ${ms(result.writes.login.p99)}), ` +
            `registrations ${result.writes.register.rps}/s (**${result.writes.register.ratio}×**, p99 ${ms(result.writes.register.p99)}); ` +
            `selective reads at a paced 40 req/s: p99 ${ms(result.writes.reads.idle.p99)} idle, ${ms(result.writes.reads.duringLogins.p99)} during a login burst (**${result.writes.reads.p99Ratio}×**).`,
          '',
        ]
      : []),
    ...(result.freshness
      ? [
          `Search on the indexes as the seed and the writes left them, then rebuilt (REINDEX, ${result.freshness.reindexSeconds} s): ` +
            `${result.freshness.queries} selective searches through users-service's query code, ${result.freshness.concurrency} at a time, ` +
            `${ms(result.freshness.asLeft.meanMs)} against ${ms(result.freshness.rebuilt.meanMs)} a search (**${result.freshness.ratio}×**; p99 ${ms(result.freshness.asLeft.p99Ms)} against ${ms(result.freshness.rebuilt.p99Ms)}).`,
          '',
        ]
      : []),
    `RSS after the run: ${Object.entries(result.rssMb)
      .map(([k, v]) => `${k} ${v} MB`)
      .join(', ')}.`,
  ];
  if (result.errors.length) lines.push('', `Non-2xx or errors: ${result.errors.join('; ')}`);
  return `${lines.join('\n')}\n`;
}

const ratio = (a, b) => (b ? `**${Math.round((a / b) * 100) / 100}×**` : '—');

/** `--compare-node`: the same system on two Node.js releases ("system" the one running the bench, "baseline" the other). */
export function runtimesMarkdown(result) {
  const [a, b] = [result.runtimes.system.version, result.runtimes.baseline.version];
  const apps = Object.keys(result.rssMb.after.system);
  const lines = [
    `The same system on Node ${a} and on Node ${b}, side by side on the same ${result.users.toLocaleString('en')} users: ` +
      `${result.settings.seconds} s × ${result.settings.rounds} alternated runs per runtime, ${result.settings.conn} connections. ` +
      `Machine: ${result.machine.cpu} × ${result.machine.cores}, ${result.machine.memGb} GB; load average ${result.machine.loadBefore} before, ${result.machine.loadAfter} after ` +
      `(the machine is shared: compare the ratios, not the absolute figures). ${result.finishedAt}.`,
    '',
    `| workload | Node ${a} | Node ${b} | req/s ${a} ÷ ${b} | CPU ms/request on ${a} | CPU ms/request on ${b} |`,
    '|---|---|---|---|---|---|',
    ...result.workloads.map(
      (w) =>
        `| ${w.mix} | ${w.system.rps} req/s, p50 ${ms(w.system.p50)}, p99 ${ms(w.system.p99)} | ${w.baseline.rps} req/s, p50 ${ms(w.baseline.p50)}, p99 ${ms(w.baseline.p99)} | ` +
        `**${w.ratio}×** | ${cpuOf(w.system, SYSTEM)} | ${cpuOf(w.baseline, SYSTEM)} |`,
    ),
    '',
    ...(result.paced.length
      ? [
          `At a fixed rate, half the slower runtime's maximum above (open loop), the same rate on both:`,
          '',
          `| workload | rate | Node ${a} | Node ${b} |`,
          '|---|---|---|---|',
          ...result.paced.map((p) => `| ${p.mix} | ${p.rate} req/s | p50 ${ms(p.system.p50)}, p99 ${ms(p.system.p99)} | p50 ${ms(p.baseline.p50)}, p99 ${ms(p.baseline.p99)} |`),
          '',
        ]
      : []),
    `Resident memory (RSS) of each process, once started and warmed by a login (idle) and after the workloads:`,
    '',
    `| process | idle on ${a} | idle on ${b} | ratio | after on ${a} | after on ${b} | ratio |`,
    '|---|---|---|---|---|---|---|',
    ...apps.map((app) => {
      const [ia, ib, fa, fb] = [result.rssMb.idle.system[app], result.rssMb.idle.baseline[app], result.rssMb.after.system[app], result.rssMb.after.baseline[app]];
      return `| ${app} | ${ia} MB | ${ib} MB | ${ratio(ia, ib)} | ${fa} MB | ${fb} MB | ${ratio(fa, fb)} |`;
    }),
  ];
  if (result.errors.length) lines.push('', `Non-2xx or errors: ${result.errors.join('; ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Replace a README section (between `<!-- name:start -->` and `<!-- name:end -->`) with the latest
 * table; the side-by-side section (`bench`) also gets the chart.
 */
export function updateReadme(path, table, name = 'bench') {
  const [start, end] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const text = readFileSync(path, 'utf8');
  const [a, b] = [text.indexOf(start), text.indexOf(end)];
  if (a < 0 || b < a) throw new Error(`${path} has no ${start} … ${end} section`);
  const chart = name === 'bench' ? '\n![req/s side by side](bench/results/latest.png)' : '';
  writeFileSync(path, `${text.slice(0, a + start.length)}\n${table}${chart}\n${text.slice(b)}`);
}
